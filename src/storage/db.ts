// The Kysely factory: node:sqlite by default, PostgreSQL when DATABASE_URL says so.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { DatabaseTarget } from '../config.ts';
import { openSqlite, sqliteDialect } from './sqlite-driver.ts';
import type { Database } from './types.ts';
import { WriteBatcher } from './write-batcher.ts';

const require = createRequire(import.meta.url);

export interface Storage {
  kind: DatabaseTarget['kind'];
  db: Kysely<Database>;
  batcher: WriteBatcher;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface StorageOptions {
  sqliteSynchronous?: 'FULL' | 'NORMAL';
  pgPoolSize?: number;
}

export function openStorage(target: DatabaseTarget, options: StorageOptions = {}): Storage {
  // pg is loaded only for PostgreSQL, so the embedded default does not carry it.
  let db: Kysely<Database>;
  if (target.kind === 'sqlite') {
    if (target.path !== ':memory:') mkdirSync(dirname(target.path), { recursive: true });
    const raw = openSqlite({ path: target.path, synchronous: options.sqliteSynchronous ?? 'FULL' });
    db = new Kysely<Database>({ dialect: sqliteDialect(raw) });
  } else {
    const pg = require('pg') as typeof import('pg');
    const pool = new pg.Pool({
      connectionString: target.url,
      max: options.pgPoolSize ?? 10,
      // Fail fast when the server is away, so a visitor gets a 503 instead of a hang.
      connectionTimeoutMillis: 3000,
    });
    // An idle client losing its server must not crash the process.
    pool.on('error', () => undefined);
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  return {
    kind: target.kind,
    db,
    batcher: new WriteBatcher(db),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

/** True for errors that mean "the database is not there", as opposed to bad data. */
export function isUnavailableError(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code ?? '';
  const message = error instanceof Error ? error.message : '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', '57P01', '57P03', '08006', '08001', '08003', '53300'].includes(code) ||
    /timeout exceeded when trying to connect|Connection terminated|database is locked|disk I\/O error|readonly database|unable to open database|database is not open|driver has already been destroyed/i.test(message) ||
    code === 'ERR_SQLITE_ERROR' && /locked|busy|I\/O|readonly|full/i.test(message)
  );
}
