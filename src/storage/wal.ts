// After data that must be gone is deleted: SQLite's secure_delete zeroes it in the pages,
// but the write-ahead log still holds the earlier versions of those pages until they are
// overwritten. A TRUNCATE checkpoint copies the current pages into the database and
// empties the WAL file. PostgreSQL has no such file for us to clear (its WAL is recycled
// by the server), so there it does nothing.
import { sql } from 'kysely';
import type { Storage } from './db.ts';

export async function clearWriteAheadLog(storage: Pick<Storage, 'kind' | 'db'>): Promise<boolean> {
  if (storage.kind !== 'sqlite') return false;
  const { rows } = await sql<{ busy: number }>`PRAGMA wal_checkpoint(TRUNCATE)`.execute(storage.db);
  return Number(rows[0]?.busy ?? 0) === 0;
}
