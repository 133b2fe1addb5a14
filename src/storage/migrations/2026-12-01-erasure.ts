// Frozen: never edit a migration that has shipped; add a new one.
//
// Finding and erasing one person (src/rights/find-person-data.ts, erase-person.ts).
// Most of what is held about someone hangs off their person row, already indexed; these
// indexes cover what does not, so a look-up is a handful of index probes however large the
// tables grow (1,000,000 inquiries and 3,000,000 messages in bench/rights.ts):
//   - mail from an address that matched no person (triage) keeps the address on the
//     message: indexed lower-cased, only on the rows that have one;
//   - outbox mail to an address (rows without a person, and the address of rows with one);
//   - pending consent confirmations and withdrawal-link requests by person and subject key.
// `erasure_proof` is the proof of deletion: the keyed hash of the address (never the
// address), when, by whom, and the counts erased and kept, so the deletion can be shown
// and re-applied after a restore without keeping what was deleted.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('mail_message_from_address')
    .on('mail_message')
    .expression(sql`lower(from_address)`)
    .where(sql<boolean>`from_address is not null`)
    .execute();
  await db.schema
    .createIndex('outbox_to_address')
    .on('outbox')
    .expression(sql`lower(to_address)`)
    .where(sql<boolean>`to_address <> ''`)
    .execute();
  await db.schema.createIndex('consent_confirmation_person').on('consent_confirmation').column('person_id').execute();
  await db.schema.createIndex('withdrawal_request_subject').on('withdrawal_request').column('subject_key').execute();

  await db.schema
    .createTable('erasure_proof')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // Keyed hash of the normalised address, `kid:hex`, as on the suppression list.
    .addColumn('subject_key', 'text', (c) => c.notNull())
    .addColumn('erased_at', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    // JSON: { table: count } erased, and what was kept with the hold that kept it.
    .addColumn('erased', 'text', (c) => c.notNull())
    .addColumn('kept', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('erasure_proof_subject').on('erasure_proof').column('subject_key').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('erasure_proof').execute();
  for (const index of ['withdrawal_request_subject', 'consent_confirmation_person', 'outbox_to_address', 'mail_message_from_address']) {
    await db.schema.dropIndex(index).execute();
  }
}
