// Kysely ships a SQLite dialect for better-sqlite3-shaped databases. node:sqlite is close
// to that shape; this adapter supplies the missing piece (`reader`) and caches prepared
// statements, so no native addon is needed.
import { chmodSync, closeSync, constants, fchmodSync, fstatSync, lstatSync, openSync } from 'node:fs';
import { DatabaseSync, type StatementSync, type SQLInputValue } from 'node:sqlite';
import { SqliteDialect, type SqliteStatement } from 'kysely';

const STATEMENT_CACHE_SIZE = 200;

export interface SqliteOptions {
  path: string;
  synchronous: 'FULL' | 'NORMAL';
}

function toSqlite(value: unknown): SQLInputValue {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  return value as SQLInputValue;
}

const OWNER_ONLY = 0o600;
// Files SQLite keeps beside the database; each holds personal data while it exists.
const COMPANIONS = ['-wal', '-shm', '-journal'];

/**
 * The database file is created owner-only (0600), and an existing one readable by others
 * is tightened, before SQLite opens it. SQLite creates -wal, -shm and -journal with the
 * main file's mode, so those follow; ones left by an earlier version are tightened too.
 */
function secureDatabaseFile(path: string): void {
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, OWNER_ONLY);
  try {
    if ((fstatSync(fd).mode & 0o777) !== OWNER_ONLY) fchmodSync(fd, OWNER_ONLY);
  } catch (error) {
    // Typically a file owned by another user: refuse to run on data others can read.
    throw new Error(`cannot make the database file ${path} readable by its owner only (chmod 600 it as its owner): ${(error as Error).message}`, { cause: error });
  } finally {
    closeSync(fd);
  }
}

function secureCompanions(path: string): void {
  for (const suffix of COMPANIONS) {
    let mode: number;
    try {
      const st = lstatSync(path + suffix);
      if (!st.isFile()) continue;
      mode = st.mode & 0o777;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    if (mode !== OWNER_ONLY) chmodSync(path + suffix, OWNER_ONLY);
  }
}

export function openSqlite(options: SqliteOptions): DatabaseSync {
  const onDisk = options.path !== ':memory:' && options.path !== '';
  if (onDisk) {
    secureDatabaseFile(options.path);
    secureCompanions(options.path);
  }
  const db = new DatabaseSync(options.path, { enableForeignKeyConstraints: true });
  // WAL keeps readers off the writer's back; FULL sync makes every acknowledged commit
  // survive power loss; secure_delete zeroes freed pages so deleted personal data is gone.
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(`PRAGMA synchronous = ${options.synchronous}`);
  db.exec('PRAGMA secure_delete = ON');
  db.exec('PRAGMA busy_timeout = 5000');
  // Switching to WAL has just created -wal and -shm; check them rather than trust the VFS.
  if (onDisk) secureCompanions(options.path);
  return db;
}

function wrap(stmt: StatementSync): SqliteStatement {
  return {
    reader: stmt.columns().length > 0,
    all: (params) => stmt.all(...params.map(toSqlite)),
    run: (params) => {
      const r = stmt.run(...params.map(toSqlite));
      return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
    },
    iterate: (params) => stmt.iterate(...params.map(toSqlite)),
  };
}

export function sqliteDialect(db: DatabaseSync): SqliteDialect {
  // Prepared once per distinct SQL text; the intake path runs the same few statements
  // for every submission. Oldest entry out first when full. Multi-row inserts (audit and
  // outbox per batch) are cached too: a statement left uncached is finalised only when V8
  // collects its wrapper, which sees none of the native memory it holds, and under intake
  // load those waiting statements cost about 20 MB of peak RSS (bench/intake.ts).
  const cache = new Map<string, SqliteStatement>();
  return new SqliteDialect({
    database: {
      close: () => {
        cache.clear();
        if (db.isOpen) db.close();
      },
      prepare: (sql: string) => {
        let entry = cache.get(sql);
        if (!entry) {
          entry = wrap(db.prepare(sql));
          if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
          cache.set(sql, entry);
        }
        return entry;
      },
    },
  });
}
