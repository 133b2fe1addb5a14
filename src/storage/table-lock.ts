// A transaction that reads a table and then deletes what it read must not let rows
// committed in between slip into the delete unread. PostgreSQL (READ COMMITTED) gives
// each statement a new snapshot, so the table is locked against writes (SHARE ROW
// EXCLUSIVE: reads go on; inserts wait for the COMMIT). SQLite has one writer at a time
// and a transaction holds it, so there is nothing to add.
import { sql, type Transaction } from 'kysely';
import type { Storage } from './db.ts';
import type { Database } from './types.ts';

export async function lockAgainstWrites(kind: Storage['kind'], trx: Transaction<Database>, table: keyof Database): Promise<void> {
  if (kind === 'postgres') await sql`lock table ${sql.table(table)} in share row exclusive mode`.execute(trx);
}
