// Frozen: never edit a migration that has shipped; add a new one.
//
// inquiry.delete_after (submission + the follow-up window) stopped deciding anything when
// retention became rules: the sweep counts from each inquiry's status event, and the
// console and access packages show the date those rules give (retention/schedule.ts,
// inquiryDeletion). Nothing reads the column any more, so its index only cost every
// submission a B-tree insert; it goes. The column stays, written as before, for the
// exports and tools of older versions that read it.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists inquiry_delete_after`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('inquiry_delete_after').ifNotExists().on('inquiry').column('delete_after').execute();
}
