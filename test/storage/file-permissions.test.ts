// The SQLite database holds personal data: its folder is owner-only (0700) and the
// database, -wal and -shm files are owner-only (0600), under the usual umask 022, on a
// first start and on a start over files an earlier version left world-readable.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { projectRoot } from '../../src/config.ts';
import { openStorage, type Storage } from '../../src/storage/db.ts';
// 64 hex characters: what SECRET_KEY is expected to look like.
const TEST_SECRET = '0123456789abcdef'.repeat(4);

const node = join(projectRoot, 'node_modules', '.bin', 'node');
const mode = (path: string) => statSync(path).mode & 0o7777;
const octal = (m: number) => m.toString(8).padStart(4, '0');

function assertMode(path: string, expected: number): void {
  assert.ok(existsSync(path), `${path} exists`);
  assert.equal(octal(mode(path)), octal(expected), path);
}

async function writeRow(storage: Storage): Promise<void> {
  await sql`create table if not exists t (x text)`.execute(storage.db);
  await sql`insert into t (x) values ('personal data')`.execute(storage.db);
}

describe('SQLite file permissions', () => {
  let root: string;
  let umask: number;
  before(() => {
    umask = process.umask(0o022);
    root = mkdtempSync(join(tmpdir(), 'lumetrax-perm-'));
  });
  after(() => {
    process.umask(umask);
    rmSync(root, { recursive: true, force: true });
  });

  test('first start: the data folder is 0700, the database, -wal and -shm are 0600', async () => {
    const dir = join(root, 'fresh', 'data');
    const path = join(dir, 'lumetrax.db');
    const storage = openStorage({ kind: 'sqlite', path });
    try {
      await writeRow(storage);
      assertMode(dir, 0o700);
      assertMode(path, 0o600);
      assertMode(`${path}-wal`, 0o600);
      assertMode(`${path}-shm`, 0o600);
    } finally {
      await storage.close();
    }
  });

  test('a start over a world-readable folder, database, -wal and -shm tightens them all', async () => {
    const dir = join(root, 'old', 'data');
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    writeFileSync(join(dir, 'secret.key'), 'x\n', { mode: 0o600 });
    const path = join(dir, 'lumetrax.db');
    // An older version, still running, made these under umask 022.
    const old = new DatabaseSync(path);
    old.exec('PRAGMA journal_mode = WAL');
    old.exec('create table t (x text); insert into t values (1)');
    for (const p of [dir, path, `${path}-wal`, `${path}-shm`]) assert.equal(mode(p) & 0o044, 0o044, `${p} starts world-readable`);

    const storage = openStorage({ kind: 'sqlite', path });
    try {
      await writeRow(storage);
      assertMode(dir, 0o700);
      assertMode(path, 0o600);
      assertMode(`${path}-wal`, 0o600);
      assertMode(`${path}-shm`, 0o600);
    } finally {
      await storage.close();
      old.close();
    }
  });

  test('a 0644 database with no -wal or -shm: tightened, and SQLite creates -wal and -shm 0600', async () => {
    const dir = join(root, 'closed');
    mkdirSync(dir);
    const path = join(dir, 'x.db');
    const old = new DatabaseSync(path);
    old.exec('create table t (x text)');
    old.close();
    chmodSync(path, 0o644);
    assert.ok(!existsSync(`${path}-wal`));

    const storage = openStorage({ kind: 'sqlite', path });
    try {
      assertMode(path, 0o600);
      await writeRow(storage);
      assertMode(`${path}-wal`, 0o600);
      assertMode(`${path}-shm`, 0o600);
    } finally {
      await storage.close();
    }
    assertMode(path, 0o600);
  });

  test('a shared folder (one with subfolders, or sticky like /tmp) is left alone; the files in it are still 0600', async () => {
    const shared = join(root, 'shared');
    mkdirSync(join(shared, 'someone-else'), { recursive: true });
    chmodSync(shared, 0o755);
    const sticky = join(root, 'sticky');
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    for (const [dir, expected] of [[shared, 0o755], [sticky, 0o1777]] as const) {
      const path = join(dir, 'x.db');
      const storage = openStorage({ kind: 'sqlite', path });
      try {
        await writeRow(storage);
        assertMode(dir, expected);
        assertMode(path, 0o600);
        assertMode(`${path}-wal`, 0o600);
      } finally {
        await storage.close();
      }
    }
  });

  test('`lumetrax migrate` on a fresh path, as an operator runs it, leaves nothing readable by others', () => {
    const dir = join(root, 'cli', 'data');
    const path = join(dir, 'lumetrax.db');
    const env = { ...process.env, DATABASE_URL: `sqlite:${path}`, SECRET_KEY: TEST_SECRET };
    execFileSync(node, ['src/main.ts', 'migrate'], { cwd: projectRoot, env, encoding: 'utf8' });
    assertMode(dir, 0o700);
    assertMode(path, 0o600);
    for (const suffix of ['-wal', '-shm']) if (existsSync(path + suffix)) assertMode(path + suffix, 0o600);
  });
});
