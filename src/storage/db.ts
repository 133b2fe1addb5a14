// The Kysely factory: node:sqlite by default, PostgreSQL when DATABASE_URL says so.
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { DatabaseTarget } from '../config.ts';
import { namingClient } from './pg-prepared.ts';
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
    if (target.path !== ':memory:') secureDataFolder(dirname(target.path));
    const raw = openSqlite({ path: target.path, synchronous: options.sqliteSynchronous ?? 'FULL' });
    db = new Kysely<Database>({ dialect: sqliteDialect(raw) });
  } else {
    const pg = require('pg') as typeof import('pg');
    const pool = new pg.Pool({
      Client: namingClient(pg.Client),
      connectionString: target.url,
      max: options.pgPoolSize ?? 10,
      // Fail fast when the server is away, so a visitor gets a 503 instead of a hang.
      connectionTimeoutMillis: 3000,
    });
    // A client losing its server must not crash the process: an idle one reports to the
    // pool, and one in use also emits 'error' on itself (with no listener, an uncaught
    // exception), besides rejecting its query, which is where the caller learns of it.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  return {
    kind: target.kind,
    db,
    // SQLite has one writer. On PostgreSQL two batches overlap on their own connections:
    // one fills while the other commits. More in flight made smaller batches, each with
    // its fixed round trips, for no more throughput (intake at 2, 3, 4 and 8: about 3,100,
    // 3,000, 2,900 and 2,200 submissions/s, bench/intake.ts).
    batcher: new WriteBatcher(db, { concurrency: target.kind === 'sqlite' ? 1 : 2 }),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

/**
 * The folder holding the database is owner-only (0700): created so, and tightened when an
 * earlier version or another step (the secret key's first write) made it under umask 022.
 * Only a folder that looks like a data folder is tightened: ours, not sticky (/tmp), and
 * holding no subfolders. A shared folder such as /var/lib or a home folder is left as
 * it is; the database files in it are owner-only regardless (sqlite-driver.ts).
 */
function secureDataFolder(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if ((st.mode & 0o077) === 0 || !st.isDirectory()) return;
  const ours = typeof process.getuid !== 'function' || st.uid === process.getuid();
  const sticky = (st.mode & 0o1000) !== 0;
  if (!ours || sticky) return;
  if (readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory())) return;
  chmodSync(dir, 0o700);
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
