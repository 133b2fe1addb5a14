// Frozen: never edit a migration that has shipped; add a new one.
//
// What the retention sweep's deletions need, and what they paid for without use
// (bench/retention.ts). Every index is one more entry to find and remove per deleted row.
//   - consent_record, consent_confirmation and outbox point to an inquiry (inquiry_id,
//     not a foreign key: consent proof outlives the inquiry) without an index, so each
//     batch of deleted inquiries scanned those tables whole to clear or delete what
//     pointed to them. They get one.
//   - inquiry_closed and inquiry_last_activity (status, date, id) held every inquiry in
//     both; the sweep only reads the closed ones by closing date and the ones in
//     conversation by last activity. As partial indexes they hold each inquiry in one at most.
//   - inquiry_delete_after: no query reads inquiries by delete_after (the date is shown,
//     never searched); dropped.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('consent_record_inquiry').on('consent_record').column('inquiry_id').where(sql.ref('inquiry_id'), 'is not', null).execute();
  await db.schema.createIndex('consent_confirmation_inquiry').on('consent_confirmation').column('inquiry_id').where(sql.ref('inquiry_id'), 'is not', null).execute();
  await db.schema.createIndex('outbox_inquiry').on('outbox').column('inquiry_id').where(sql.ref('inquiry_id'), 'is not', null).execute();
  await db.schema.dropIndex('inquiry_closed').execute();
  await db.schema.dropIndex('inquiry_last_activity').execute();
  // Status stays the first column: the planner then sees the sweep's equality on it.
  await db.schema.createIndex('inquiry_closed').on('inquiry').columns(['status', 'closed_at', 'id']).where(sql.ref('status'), '=', 'closed').execute();
  await db.schema.createIndex('inquiry_last_activity').on('inquiry').columns(['status', 'last_activity_at', 'id']).where(sql.ref('status'), '=', 'in_conversation').execute();
  await db.schema.dropIndex('inquiry_delete_after').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('inquiry_delete_after').on('inquiry').column('delete_after').execute();
  await db.schema.dropIndex('inquiry_last_activity').execute();
  await db.schema.dropIndex('inquiry_closed').execute();
  await db.schema.createIndex('inquiry_closed').on('inquiry').columns(['status', 'closed_at', 'id']).execute();
  await db.schema.createIndex('inquiry_last_activity').on('inquiry').columns(['status', 'last_activity_at', 'id']).execute();
  for (const name of ['outbox_inquiry', 'consent_confirmation_inquiry', 'consent_record_inquiry']) await db.schema.dropIndex(name).execute();
}
