// Frozen: never edit a migration that has shipped; add a new one.
//
// Email correspondence. A thread belongs to an inquiry (and so to its person) or, while
// nobody has matched it, sits in triage (inquiry_id null). Its messages go in (received
// by the SMTP listener or the IMAP poller) or out (staff replies, queued through the
// outbox, whose id is the Message-ID). Message-IDs are unique, so a message delivered
// twice is stored once. Attachments are kept as bytes beside their message.
//
// Inquiries get the lifecycle dates retention needs: status (new | in_conversation |
// closed), outcome, closed_at and last_activity_at (null until the first message; the
// inquiry's own created_at stands for it until then).
import { PostgresAdapter, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const bytes = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';

  await db.schema.alterTable('inquiry').addColumn('status', 'text', (c) => c.notNull().defaultTo('new')).execute();
  await db.schema.alterTable('inquiry').addColumn('outcome', 'text').execute();
  await db.schema.alterTable('inquiry').addColumn('closed_at', 'text').execute();
  await db.schema.alterTable('inquiry').addColumn('last_activity_at', 'text').execute();
  await db.schema.createIndex('inquiry_status').on('inquiry').columns(['status', 'created_at']).execute();

  await db.schema
    .createTable('mail_thread')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('inquiry_id', 'text', (c) => c.references('inquiry.id').onDelete('cascade'))
    .addColumn('person_id', 'text', (c) => c.references('person.id').onDelete('cascade'))
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_message_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('mail_thread_inquiry').on('mail_thread').columns(['inquiry_id', 'last_message_at']).execute();
  await db.schema.createIndex('mail_thread_person').on('mail_thread').column('person_id').execute();
  await db.schema.createIndex('mail_thread_last').on('mail_thread').column('last_message_at').execute();

  await db.schema
    .createTable('mail_message')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('thread_id', 'text', (c) => c.notNull().references('mail_thread.id').onDelete('cascade'))
    .addColumn('direction', 'text', (c) => c.notNull())
    // With its angle brackets, as in the header.
    .addColumn('message_id', 'text', (c) => c.notNull().unique())
    .addColumn('in_reply_to', 'text')
    // Space-separated ids, as in the header.
    .addColumn('reference_ids', 'text')
    .addColumn('from_person_id', 'text', (c) => c.references('person.id').onDelete('set null'))
    // Only when the sender is nobody we know (triage); a known sender is their person row.
    .addColumn('from_address', 'text')
    .addColumn('staff_account_id', 'text')
    .addColumn('outbox_id', 'text')
    // smtp | imap | console
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('text_body', 'text', (c) => c.notNull())
    .addColumn('html_body', 'text')
    // What was done to the message on its way in (attachments dropped, unreadable parts).
    .addColumn('note', 'text')
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('mail_message_thread').on('mail_message').columns(['thread_id', 'at']).execute();
  await db.schema.createIndex('mail_message_person').on('mail_message').column('from_person_id').execute();

  await db.schema
    .createTable('mail_attachment')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('message_id', 'text', (c) => c.notNull().references('mail_message.id').onDelete('cascade'))
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('content', bytes, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('mail_attachment_message').on('mail_attachment').column('message_id').execute();

  // The IMAP poller's place in each mailbox: UIDs are only meaningful with UIDVALIDITY.
  await db.schema
    .createTable('imap_state')
    .addColumn('mailbox', 'text', (c) => c.primaryKey())
    .addColumn('uid_validity', 'text', (c) => c.notNull())
    .addColumn('last_uid', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['imap_state', 'mail_attachment', 'mail_message', 'mail_thread']) await db.schema.dropTable(table).execute();
  await db.schema.dropIndex('inquiry_status').execute();
  for (const column of ['status', 'outcome', 'closed_at', 'last_activity_at']) await db.schema.alterTable('inquiry').dropColumn(column).execute();
}
