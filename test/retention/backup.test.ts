// Backups that do not bring the dead back: a snapshot taken while the service runs,
// then a sweep and an erasure, then a restore: the people deleted stay deleted (rows and
// bytes), the rest is back, and the suppression list, holds and log carry over. On
// PostgreSQL the same with pg_dump / psql and `lumetrax retention reapply --from`.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { erasePerson } from '../../src/rights/erase-person.ts';
import { subjectKey } from '../../src/people/subject.ts';
import { runSweep, type SweepDeps } from '../../src/retention/sweep.ts';
import { openStorage, type Storage } from '../../src/storage/db.ts';
import { Signer } from '../../src/http/signing.ts';
import { runCli, CLI_SECRET } from '../cli/run-cli.ts';
import { createTestDatabase, PG_BASE_URL, postgresReachable, suiteDbKind, testDb } from '../support/db.ts';
import { startTestServer } from '../support/server.ts';
import { addConsent, addInquiry, addPerson, DAY_MS, iso, policy, tableCount } from './seed.ts';

const pgUp = await postgresReachable();
const cliSigner = new Signer(Buffer.from(CLI_SECRET, 'hex'));
const NOW = Date.now();
const ago = (days: number) => iso(NOW - days * DAY_MS);

interface World {
  expired: string;
  erased: string;
  kept: string;
  subscriber: string;
}

async function seedWorld(db: Storage['db']): Promise<World> {
  const expired = await addPerson(db, { email: 'expired@gone.example', at: ago(400), name: 'Expired Person' });
  await addInquiry(db, { personId: expired, createdAt: ago(400), status: 'closed', closedAt: ago(300), lastActivityAt: ago(300), messages: 2, context: 'expired-context' });
  // Under the real subject key: the erasure request finds people by it.
  const erased = await addPerson(db, { email: 'erased@gone.example', at: ago(5), name: 'Erased Person', subjectKey: subjectKey(cliSigner, 'erased@gone.example') });
  await addInquiry(db, { personId: erased, createdAt: ago(5), messages: 2, context: 'erased-context' });
  const kept = await addPerson(db, { email: 'kept@here.example', at: ago(5) });
  await addInquiry(db, { personId: kept, createdAt: ago(5), messages: 1 });
  const subscriber = await addPerson(db, { email: 'subscriber@here.example', at: ago(5) });
  await addConsent(db, subscriber, 'granted', ago(5));
  return { expired, erased, kept, subscriber };
}

/** After the snapshot: the sweep, an erasure request (the rights desk's use case, asking our holds), an unsubscribe and a hold. */
async function changesAfterSnapshot(deps: SweepDeps, w: World): Promise<void> {
  await runSweep(deps, { trigger: 'cli' });
  const erasure = await erasePerson(deps, { actor: 'cli', email: 'erased@gone.example' });
  assert.equal(erasure.personId, w.erased);
  await deps.storage.db.insertInto('suppression').values({ subject_key: 'k:unsubscribed-after-snapshot', reason: 'unsubscribe', created_at: ago(0) }).execute();
  await deps.storage.db.insertInto('retention_hold').values({ id: '00000000-0000-4000-8000-0000000000ff', kind: 'legal_hold', scope: 'person', scope_id: w.kept, reason: 'r', until: null, placed_by: 'cli', placed_at: ago(0), lifted_by: null, lifted_at: null }).execute();
}

async function assertStillGone(db: Storage['db'], w: World): Promise<void> {
  const people = (await db.selectFrom('person').select('id').execute()).map((r) => r.id).sort();
  assert.deepEqual(people, [w.kept, w.subscriber].sort(), 'the swept and the erased person stay deleted');
  assert.equal(await tableCount(db, 'inquiry'), 1);
  assert.equal(await tableCount(db, 'mail_message'), 1);
  assert.ok(await db.selectFrom('suppression').select('subject_key').where('subject_key', '=', 'k:unsubscribed-after-snapshot').executeTakeFirst(), 'the later unsubscribe is kept');
  assert.ok(await db.selectFrom('retention_hold').select('id').where('id', '=', '00000000-0000-4000-8000-0000000000ff').executeTakeFirst(), 'the later hold is kept');
  const log = await db.selectFrom('deletion_log').select('rule').execute();
  assert.ok(log.some((l) => l.rule === 'inquiries_closed') && log.some((l) => l.rule === 'people'), 'the deletion log carries over');
  assert.equal(await tableCount(db, 'erasure_proof'), 1, 'the proof of the erasure carries over');
}

describe('backup and restore', () => {
  test('sqlite: backup while serving -> sweep + erase -> restore: the deleted stay deleted, to the byte', { skip: suiteDbKind() !== 'sqlite' && 'the SQLite suite runs it' }, async () => {
    const database = await createTestDatabase('sqlite');
    const dir = mkdtempSync(join(tmpdir(), 'lumetrax-backup-'));
    const snapshot = join(dir, 'snapshot.db');
    const env = { DATABASE_URL: database.url };
    try {
      const server = await startTestServer({ database, env: { SECRET_KEY: CLI_SECRET } });
      let w: World;
      try {
        w = await seedWorld(server.running.deps.storage.db);
        const backup = await runCli(['backup', '--out', snapshot], env);
        assert.equal(backup.code, 0, backup.stderr);
        assert.equal(statSync(snapshot).mode & 0o777, 0o600, 'the snapshot is owner-only');
        assert.ok(readFileSync(snapshot).toString('latin1').includes('erased@gone.example'), 'the snapshot holds the person erased later');
        const again = await runCli(['backup', '--out', snapshot], env);
        assert.equal(again.code, 1);
        assert.match(again.stderr, /exists already/);

        await changesAfterSnapshot({ ...server.running.deps, signer: cliSigner }, w);
        const busy = await runCli(['restore', snapshot], env);
        assert.equal(busy.code, 1);
        assert.match(busy.stderr, /in use \(is the service running\?\)/);
      } finally {
        await server.running.close();
      }

      const restored = await runCli(['restore', snapshot], env);
      assert.equal(restored.code, 0, restored.stderr);
      assert.match(restored.stdout, /Deleted again since the snapshot: \{[^}]*"person":2/);
      assert.match(restored.stdout, /"inquiry":2/);
      const storage = openStorage(database.target);
      try {
        await assertStillGone(storage.db, w);
        assert.ok(await storage.db.selectFrom('audit_log').select('seq').where('action', '=', 'retention.restored').executeTakeFirst());
      } finally {
        await storage.close();
      }
      const bytes = readFileSync((database.target as { path: string }).path).toString('latin1');
      for (const gone of ['expired@gone.example', 'erased@gone.example', 'Erased Person', 'erased-context', 'expired-context']) assert.ok(!bytes.includes(gone), `no byte of the restored database holds ${gone}`);
      assert.ok(bytes.includes('kept@here.example'), 'the rest is back');

      const notSqlite = await runCli(['restore', join(dir, 'nope.db')], env);
      assert.equal(notSqlite.code, 1);
      assert.match(notSqlite.stderr, /no file/);
    } finally {
      await database.drop();
    }
  });

  test('postgres: pg_dump -> sweep + erase -> restore with psql -> retention reapply --from: the deleted stay deleted', { skip: suiteDbKind() !== 'postgres' ? 'the PostgreSQL suite (TEST_DATABASE=postgres) runs it' : !pgUp && 'PostgreSQL not reachable' }, async () => {
    const live = await testDb('postgres');
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const restoredUrl = `${PG_BASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    try {
      const w = await seedWorld(live.storage.db);
      const liveSchema = decodeURIComponent(live.database.url.split('search_path%3D')[1] ?? live.database.url.split('search_path=')[1]);
      const dump = execFileSync('pg_dump', ['--no-owner', '--no-privileges', '-n', liveSchema, PG_BASE_URL], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      const notOnPg = await runCli(['backup', '--out', join(tmpdir(), `x-${schema}.db`)], { DATABASE_URL: live.database.url });
      assert.equal(notOnPg.code, 1);
      assert.match(notOnPg.stderr, /pg_dump/);

      await changesAfterSnapshot({ storage: live.storage, policy, signer: cliSigner, now: () => new Date(), mailQueued: () => undefined }, w);
      execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', PG_BASE_URL], { input: dump.split(liveSchema).join(schema), encoding: 'utf8', stdio: ['pipe', 'ignore', 'pipe'] });
      const res = await runCli(['retention', 'reapply', '--from', live.database.url], { DATABASE_URL: restoredUrl });
      assert.equal(res.code, 0, res.stderr);
      const restored = openStorage({ kind: 'postgres', url: restoredUrl });
      try {
        await assertStillGone(restored.db, w);
      } finally {
        await restored.close();
      }
    } finally {
      await live.close();
      const c = new pg.Client({ connectionString: PG_BASE_URL });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    }
  });
});
