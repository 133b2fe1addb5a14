// Frozen: never edit a migration that has shipped; add a new one.
//
// One row per data subject. Contact details (address and name) move out of inquiries
// and consent records into `person`, which everything else refers to, so finding or
// erasing everything about someone starts from one row. The subject key (a keyed hash of
// the normalised address) cannot be computed here without the secret: moved rows get a
// placeholder that the service replaces at its next start (`rekeySubjects`).
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('person')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('subject_key', 'text', (c) => c.notNull().unique())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  for (const table of ['inquiry', 'consent_record', 'outbox']) {
    await db.schema
      .alterTable(table)
      .addColumn('person_id', 'text', (c) => c.references('person.id').onDelete('cascade'))
      .execute();
  }

  // Existing people: one row per normalised address, with the latest name given.
  const { rows } = await sql<{ email: string; name: string; at: string }>`
    select email, name, created_at as at from inquiry
    union all
    select email, name, recorded_at as at from consent_record
    order by at`.execute(db);
  const people = new Map<string, { id: string; email: string; name: string; first: string; last: string }>();
  for (const r of rows) {
    const key = r.email.trim().toLowerCase();
    const seen = people.get(key);
    if (seen) Object.assign(seen, { email: r.email, name: r.name, last: r.at });
    else people.set(key, { id: randomUUID(), email: r.email, name: r.name, first: r.at, last: r.at });
  }
  for (const [key, p] of people) {
    await db
      .insertInto('person')
      .values({ id: p.id, subject_key: `unkeyed:${p.id}`, email: p.email, name: p.name, created_at: p.first, updated_at: p.last })
      .execute();
    for (const table of ['inquiry', 'consent_record']) {
      await db
        .updateTable(table)
        .set({ person_id: p.id })
        .where(sql`lower(trim(email))`, '=', key)
        .execute();
    }
  }
  await sql`update outbox set person_id = (select person_id from inquiry where inquiry.id = outbox.inquiry_id) where inquiry_id is not null`.execute(db);

  await db.schema.dropIndex('consent_record_subject').execute();
  for (const column of ['email', 'name']) await db.schema.alterTable('inquiry').dropColumn(column).execute();
  for (const column of ['subject_key', 'email', 'name', 'company', 'country']) {
    await db.schema.alterTable('consent_record').dropColumn(column).execute();
  }
  await db.schema.createIndex('consent_record_person').on('consent_record').columns(['person_id', 'purpose', 'recorded_at']).execute();
  await db.schema.createIndex('inquiry_person').on('inquiry').column('person_id').execute();
  await db.schema.createIndex('outbox_person').on('outbox').column('person_id').execute();

  // Re-opt-in after a withdrawal is confirmed by mail: a pending grant waits here.
  await db.schema
    .createTable('consent_confirmation')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('person_id', 'text', (c) => c.notNull().references('person.id').onDelete('cascade'))
    .addColumn('inquiry_id', 'text')
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('wording', 'text', (c) => c.notNull())
    .addColumn('notice_version', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('requested_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();

  // "Email me a link to unsubscribe": only the keyed hash of the typed address is kept,
  // and only until a job has looked it up, so the answer never waits on who is subscribed.
  await db.schema
    .createTable('withdrawal_request')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('subject_key', 'text', (c) => c.notNull())
    .addColumn('requested_at', 'text', (c) => c.notNull())
    .execute();

  // Withdrawal-link mails per subject and day, so a typed address cannot be flooded.
  await db.schema
    .createTable('mail_allowance')
    .addColumn('subject_key', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('sent', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('mail_allowance_pk', ['subject_key', 'day'])
    .execute();

  // Scheduled jobs: one row each, holding the lock lease and the last run's outcome.
  await db.schema
    .createTable('job_state')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('locked_by', 'text')
    .addColumn('locked_until', 'text')
    .addColumn('last_started_at', 'text')
    .addColumn('last_finished_at', 'text')
    .addColumn('last_outcome', 'text')
    .addColumn('last_counts', 'text')
    .addColumn('last_duration_ms', 'integer')
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('2026-11-29-person cannot be undone: contact details were merged into person rows');
}
