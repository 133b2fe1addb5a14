// testDb(): each test gets a fresh, migrated database. SQLite by default; PostgreSQL
// when TEST_DATABASE=postgres (CI runs the whole suite that way too), each test in a
// schema of its own. Storage tests also loop over every reachable kind.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { DatabaseTarget } from '../../src/config.ts';
import { openStorage, type Storage } from '../../src/storage/db.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';

export type DbKind = 'sqlite' | 'postgres';

export const PG_BASE_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let reachable: Promise<boolean> | undefined;
export function postgresReachable(): Promise<boolean> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: PG_BASE_URL, connectionTimeoutMillis: 1500 });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return reachable;
}

/** The database kind the whole suite runs on: TEST_DATABASE=postgres or sqlite (default). */
export function suiteDbKind(): DbKind {
  return process.env.TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
}

export interface TestDatabase {
  kind: DbKind;
  target: DatabaseTarget;
  /** The DATABASE_URL that selects this database (for child processes). */
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(kind: DbKind = suiteDbKind()): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'lumetrax-test-'));
    const path = join(dir, 'test.db');
    return { kind, target: { kind: 'sqlite', path }, url: `sqlite:${path}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  if (!(await postgresReachable())) throw new Error(`PostgreSQL is not reachable at ${PG_BASE_URL} (TEST_DATABASE=postgres was asked for)`);
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_BASE_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const url = `${PG_BASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    kind,
    target: { kind: 'postgres', url },
    url,
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_BASE_URL });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
}

/** A fresh migrated database opened through the real storage factory. */
export async function testDb(kind: DbKind = suiteDbKind()): Promise<{ storage: Storage; database: TestDatabase; close(): Promise<void> }> {
  const database = await createTestDatabase(kind);
  const storage = openStorage(database.target);
  await migrateToLatest(storage.db);
  return {
    storage,
    database,
    close: async () => {
      await storage.close();
      await database.drop();
    },
  };
}

/** Every kind available here, with a note for those skipped. */
export async function availableDbKinds(): Promise<{ kinds: DbKind[]; skipped: string | undefined }> {
  if (await postgresReachable()) return { kinds: ['sqlite', 'postgres'], skipped: undefined };
  return { kinds: ['sqlite'], skipped: `PostgreSQL not reachable at ${PG_BASE_URL}: PostgreSQL variant skipped` };
}
