// A sweep killed midway (a real SIGKILL of the CLI process) loses nothing: what it
// committed is deleted and logged once, the rerun finishes the rest, and the log counts
// add up. After a sweep, no table, and on SQLite no byte of the database, WAL or shared
// memory file, holds a deleted person's address.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { projectRoot } from '../../src/config.ts';
import { openStorage } from '../../src/storage/db.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { suiteDbKind, createTestDatabase, testDb } from '../support/db.ts';
import { runCli, CLI_SECRET } from '../cli/run-cli.ts';
import { seedExpired } from './bulk.ts';
import { tableCount } from './seed.ts';

// The suite's database only (npm test: SQLite, npm run test:pg: PostgreSQL): these are the slow ones.
const kinds = [suiteDbKind()];
const skipped = undefined as string | undefined;
const node = join(projectRoot, 'node_modules', '.bin', 'node');
const LONG_AGO = '2025-01-01T00:00:00.000Z';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function loggedInquiries(db: Parameters<typeof tableCount>[0]): Promise<number> {
  const rows = await db.selectFrom('deletion_log').select('counts').execute();
  return rows.reduce((s, r) => s + ((JSON.parse(r.counts) as Record<string, number>).inquiry ?? 0), 0);
}

describe('retention sweep durability', () => {
  if (skipped) test(skipped, { skip: skipped }, () => undefined);
  for (const kind of kinds) {
    test(`${kind}: a sweep killed midway loses nothing; the rerun finishes without counting twice`, async () => {
      const t = await testDb(kind);
      try {
        const db = t.storage.db;
        const TOTAL = 6000;
        await seedExpired(db, { inquiries: TOTAL, messagesPer: 3, at: LONG_AGO });
        const keeper = await db.selectFrom('person').select('id').where('email', '=', 'bulk7@bulk.example').executeTakeFirstOrThrow();
        const hold = await runCli(['hold', 'add', '--kind', 'legal_hold', '--person', keeper.id, '--reason', 'matter'], { DATABASE_URL: t.database.url });
        assert.equal(hold.code, 0, hold.stderr);

        const child = spawn(node, ['src/main.ts', 'retention', 'run'], { cwd: projectRoot, env: { ...process.env, DATABASE_URL: t.database.url, SECRET_KEY: CLI_SECRET }, stdio: 'ignore' });
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        // Kill it once a few batches are committed, well before the end.
        for (let i = 0; i < 3000 && (await tableCount(db, 'deletion_log')) < 3; i++) await sleep(10);
        child.kill('SIGKILL');
        await exited;
        assert.equal(child.signalCode, 'SIGKILL', 'the sweep was killed, not finished');

        const left = await tableCount(db, 'inquiry');
        assert.ok(left > 1 && left < TOTAL, `killed midway (${left} of ${TOTAL} left)`);
        assert.equal(await loggedInquiries(db), TOTAL - left, 'every committed deletion is in the log, and only those');
        assert.equal(await tableCount(db, 'mail_message'), left * 3, 'no inquiry lost its messages without being deleted itself');

        // The killed process's lease does not block the rerun.
        const rerun = await runCli(['retention', 'run'], { DATABASE_URL: t.database.url }, 120_000);
        assert.equal(rerun.code, 0, rerun.stderr);
        assert.match(rerun.stdout, /inquiries_closed\s+inquiries\s+deleted \d+/);
        assert.equal(await tableCount(db, 'inquiry'), 1, 'only the held inquiry is left');
        assert.equal(await tableCount(db, 'person'), 1);
        assert.equal(await tableCount(db, 'mail_message'), 3);
        assert.equal(await loggedInquiries(db), TOTAL - 1, 'each deleted inquiry counted exactly once across both runs');
        const runs = (await db.selectFrom('retention_run').select('status').orderBy('started_at').execute()).map((r) => r.status);
        assert.deepEqual(runs, ['running', 'done'], 'the killed run stays unfinished; the rerun is done');
      } finally {
        await t.close();
      }
    });
  }

  for (const kind of kinds) {
    test(`${kind}: after a sweep no table${kind === 'sqlite' ? ', WAL or database page' : ''} holds a deleted person's address`, async () => {
      const database = await createTestDatabase(kind);
      let storage = openStorage(database.target);
      try {
        await migrateToLatest(storage.db);
        const needle = (n: number) => `needle${n}@scan-target.example`;
        await seedExpired(storage.db, { inquiries: 300, messagesPer: 3, at: LONG_AGO, email: needle });
        const files = database.target.kind === 'sqlite' ? [database.target.path, `${database.target.path}-wal`, `${database.target.path}-shm`] : [];
        const onDisk = () => files.filter((f) => existsSync(f)).map((f) => readFileSync(f).toString('latin1')).join('\n');
        if (kind === 'sqlite') {
          // Read with the database closed: closing a file we read would drop this process's
          // POSIX locks on it, and SQLite would take the next closer for the last connection.
          await storage.close();
          assert.ok(onDisk().includes('scan-target.example'), 'the addresses were on disk before the sweep');
          storage = openStorage(database.target);
          await tableCount(storage.db, 'inquiry');
        }
        // Our connection stays open, as the running service's would: the WAL is not
        // removed when the sweep's process closes, so the sweep itself must empty it.
        const res = await runCli(['retention', 'run'], { DATABASE_URL: database.url }, 120_000);
        assert.equal(res.code, 0, res.stderr);
        if (kind === 'sqlite') {
          assert.ok(existsSync(files[1]), 'the WAL is still there (the service would keep it open)');
          const bytes = onDisk();
          assert.ok(!bytes.includes('scan-target.example'), 'no database, WAL or shared-memory byte holds a deleted address');
          assert.ok(!bytes.includes('Bulk Person'), 'nor a deleted name');
        }

        const after = storage;
        try {
          const tables =
            kind === 'postgres'
              ? (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(after.db)).rows.map((r) => r.name)
              : (await after.db.introspection.getTables()).map((r) => r.name);
          for (const table of tables) {
            const { rows } = await sql`select * from ${sql.table(table)}`.execute(after.db);
            assert.ok(!JSON.stringify(rows).includes('scan-target.example'), `table ${table} holds no deleted address`);
          }
          assert.equal(await tableCount(after.db, 'inquiry'), 0);
        } finally {
          await after.close();
        }
      } finally {
        await storage.close().catch(() => undefined);
        await database.drop();
      }
    });
  }
});
