// The backup folder: the scheduled job (run here through `lumetrax jobs run`, as an
// operator would) and `lumetrax backup` without --out write owner-only snapshots into
// BACKUP_DIR and destroy the ones there older than the policy's backup_retention_days,
// judged by the instant in the name; files the folder's owner put there are left alone.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { snapshotName, takenAt } from '../../src/retention/backup-folder.ts';
import { runCli, assertOneLineFailure } from '../cli/run-cli.ts';
import { createTestDatabase, postgresReachable } from '../support/db.ts';
import { policy } from './seed.ts';

const DAY_MS = 86_400_000;
const days = policy.policy.retention.backup_retention_days;

function sqliteEnv(dir: string): Record<string, string> {
  return { DATABASE_URL: `sqlite:${join(dir, 'live.db')}`, BACKUP_DIR: join(dir, 'backups') };
}

describe('backup folder', () => {
  test('snapshot names carry the UTC instant they were taken; other names carry none', () => {
    const at = new Date('2026-12-06T02:30:05.123Z');
    assert.equal(snapshotName(at), 'lumetrax-20261206T023005123Z.sqlite');
    assert.equal(takenAt(snapshotName(at))?.toISOString(), '2026-12-06T02:30:05.123Z');
    for (const other of ['lumetrax-20261306T023005123Z.sqlite', 'lumetrax-20261232T023005123Z.sqlite', 'lumetrax-20261206T023005Z.sqlite', 'lumetrax-old.sqlite', 'notes.txt', 'lumetrax-20261206T023005123Z.sqlite.bak', 'x-lumetrax-20261206T023005123Z.sqlite']) {
      assert.equal(takenAt(other), undefined, other);
    }
  });

  test('the backup job writes an owner-only snapshot into BACKUP_DIR and destroys only its own snapshots past the retention period', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lumetrax-backup-folder-'));
    try {
      const env = sqliteEnv(dir);
      assert.equal((await runCli(['migrate'], env)).code, 0);
      const db = new DatabaseSync(join(dir, 'live.db'));
      db.prepare('insert into person (id, subject_key, email, name, created_at, updated_at) values (?, ?, ?, ?, ?, ?)').run('p1', 'k:1', 'kept@example.com', 'Kept Person', '2026-12-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z');
      db.close();

      // A folder others could read, holding an expired snapshot, a recent one, and files
      // that are not snapshots of this service (even one with an old-looking name).
      const backups = env.BACKUP_DIR;
      mkdirSync(backups, { mode: 0o755 });
      chmodSync(backups, 0o755);
      const expired = snapshotName(new Date(Date.now() - (days + 1) * DAY_MS));
      const recent = snapshotName(new Date(Date.now() - (days - 1) * DAY_MS));
      for (const name of [expired, recent, 'notes.txt', 'lumetrax-old.sqlite']) writeFileSync(join(backups, name), 'operator file\n');

      const listed = await runCli(['jobs', 'list'], env);
      assert.match(listed.stdout, /retention\.backup {2}cron "30 2 \* \* \*"/, listed.stdout + listed.stderr);
      const run = await runCli(['jobs', 'run', 'retention.backup'], env);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const counts = JSON.parse(run.stdout.trim().split('\n').at(-1)!).counts;
      assert.equal(counts.pruned, 1);
      assert.equal(counts.kept, 2, 'the recent snapshot and the new one');
      assert.ok(counts.bytes > 0);

      const files = readdirSync(backups).sort();
      const made = files.filter((f) => takenAt(f) && f !== recent);
      assert.equal(made.length, 1, `one new snapshot: ${files.join(', ')}`);
      assert.deepEqual(files.filter((f) => f !== made[0]).sort(), ['lumetrax-old.sqlite', 'notes.txt', recent].sort(), 'the expired snapshot is gone, the rest untouched');
      assert.ok(Math.abs(takenAt(made[0])!.getTime() - Date.now()) < 60_000, 'named for now');
      assert.equal(statSync(backups).mode & 0o777, 0o700, 'the folder is tightened to owner-only');
      assert.equal(statSync(join(backups, made[0])).mode & 0o777, 0o600, 'the snapshot is owner-only');
      const snapshot = new DatabaseSync(join(backups, made[0]), { readOnly: true });
      try {
        assert.deepEqual({ ...snapshot.prepare('select email from person').get() }, { email: 'kept@example.com' }, 'the snapshot holds the live rows');
      } finally {
        snapshot.close();
      }

      // By hand, without --out: into the same folder, under the same rule.
      const manual = await runCli(['backup'], env);
      assert.equal(manual.code, 0, manual.stdout + manual.stderr);
      assert.match(manual.stdout, new RegExp(`Wrote a snapshot of \\d+ bytes to ${backups.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/lumetrax-\\d{8}T\\d{9}Z\\.sqlite \\(owner-only\\)\\. Destroyed 0 snapshot\\(s\\) there older than ${days} days; \\d+ kept\\.`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('on PostgreSQL there is no backup job, and `lumetrax backup` without --out points to pg_dump', async (t) => {
    if (!(await postgresReachable())) return t.skip('PostgreSQL is not reachable');
    const database = await createTestDatabase('postgres');
    try {
      const env = { DATABASE_URL: database.url };
      const listed = await runCli(['jobs', 'list'], env);
      assert.equal(listed.code, 0, listed.stderr);
      assert.doesNotMatch(listed.stdout, /retention\.backup/);
      assertOneLineFailure(await runCli(['backup'], env), /backup: the database is PostgreSQL; take backups with pg_dump/);
    } finally {
      await database.drop();
    }
  });
});
