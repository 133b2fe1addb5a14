// SQL for email threads, their messages and attachments, the inquiry lifecycle dates,
// and the IMAP poller's place in its mailbox.
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, InquiryStatus, MailAttachmentTable, MailMessageTable, MailThreadTable } from '../storage/types.ts';

type Db = Kysely<Database> | Transaction<Database>;

export type ThreadRow = Selectable<MailThreadTable>;
export type MessageRow = Selectable<MailMessageTable>;
export type AttachmentMeta = Omit<Selectable<MailAttachmentTable>, 'content'>;

export async function messageExists(db: Db, messageId: string): Promise<boolean> {
  return (await db.selectFrom('mail_message').select('id').where('message_id', '=', messageId).executeTakeFirst()) !== undefined;
}

/** The thread holding the latest of these messages, if any is ours. */
export async function threadOfMessages(db: Db, messageIds: string[]): Promise<string | undefined> {
  if (messageIds.length === 0) return undefined;
  const row = await db
    .selectFrom('mail_message')
    .select('thread_id')
    .where('message_id', 'in', messageIds.slice(0, 200))
    .orderBy('at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.thread_id;
}

/** What an outbox message was about (rows keep their ids after sending). */
export async function outboxRefs(db: Db, outboxId: string): Promise<{ inquiry_id: string | null; person_id: string | null } | undefined> {
  return db.selectFrom('outbox').select(['inquiry_id', 'person_id']).where('id', '=', outboxId).executeTakeFirst();
}

export async function findInquiry(db: Db, id: string): Promise<{ id: string; person_id: string; status: InquiryStatus } | undefined> {
  return db.selectFrom('inquiry').select(['id', 'person_id', 'status']).where('id', '=', id).executeTakeFirst();
}

export async function latestOpenInquiryOf(db: Db, personId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('inquiry')
    .select('id')
    .where('person_id', '=', personId)
    .where('status', '!=', 'closed')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.id;
}

export async function latestThreadOfInquiry(db: Db, inquiryId: string): Promise<string | undefined> {
  const row = await db.selectFrom('mail_thread').select('id').where('inquiry_id', '=', inquiryId).orderBy('last_message_at', 'desc').limit(1).executeTakeFirst();
  return row?.id;
}

export async function insertThread(db: Db, thread: ThreadRow): Promise<void> {
  await db.insertInto('mail_thread').values(thread).execute();
}

/** False when a message with this Message-ID is already stored. */
export async function insertMessage(db: Db, message: MessageRow): Promise<boolean> {
  const row = await db.insertInto('mail_message').values(message).onConflict((oc) => oc.column('message_id').doNothing()).returning('id').executeTakeFirst();
  return row !== undefined;
}

export async function insertAttachment(db: Db, attachment: Selectable<MailAttachmentTable>): Promise<void> {
  await db.insertInto('mail_attachment').values(attachment).execute();
}

export async function touchThread(db: Db, threadId: string, at: string): Promise<void> {
  await db.updateTable('mail_thread').set({ last_message_at: at }).where('id', '=', threadId).where('last_message_at', '<', at).execute();
}

/** Every message in or out is activity; the first staff reply starts the conversation. */
export async function touchInquiry(db: Db, inquiryId: string, at: string, staffReply: boolean): Promise<void> {
  await db.updateTable('inquiry').set({ last_activity_at: at }).where('id', '=', inquiryId).execute();
  if (staffReply) await db.updateTable('inquiry').set({ status: 'in_conversation' }).where('id', '=', inquiryId).where('status', '=', 'new').execute();
}

export async function findThread(db: Db, id: string): Promise<ThreadRow | undefined> {
  return db.selectFrom('mail_thread').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function threadsOfInquiry(db: Db, inquiryId: string): Promise<Array<ThreadRow & { messages: number }>> {
  const rows = await db
    .selectFrom('mail_thread')
    .selectAll('mail_thread')
    .select((eb) => eb.selectFrom('mail_message').select((e) => e.fn.countAll<number>().as('n')).whereRef('mail_message.thread_id', '=', 'mail_thread.id').as('messages'))
    .where('inquiry_id', '=', inquiryId)
    .orderBy('last_message_at', 'desc')
    .execute();
  return rows.map((r) => ({ ...r, messages: Number(r.messages ?? 0) }));
}

export async function messagesOfThread(db: Db, threadId: string): Promise<MessageRow[]> {
  return db.selectFrom('mail_message').selectAll().where('thread_id', '=', threadId).orderBy('at').orderBy('id').execute();
}

export async function attachmentsOf(db: Db, messageIds: string[]): Promise<AttachmentMeta[]> {
  if (messageIds.length === 0) return [];
  return db.selectFrom('mail_attachment').select(['id', 'message_id', 'filename', 'content_type', 'size']).where('message_id', 'in', messageIds).orderBy('id').execute();
}

export async function findAttachment(db: Db, id: string): Promise<(Selectable<MailAttachmentTable> & { thread_id: string }) | undefined> {
  return db
    .selectFrom('mail_attachment')
    .innerJoin('mail_message', 'mail_message.id', 'mail_attachment.message_id')
    .selectAll('mail_attachment')
    .select('mail_message.thread_id')
    .where('mail_attachment.id', '=', id)
    .executeTakeFirst();
}

/** Triage threads, newest first; `before` is the last row of the previous page (keyset). */
/** A privacy request's thread belongs to the privacy desk (src/rights/), whoever asks by id. */
export async function isPrivacyRequestThread(db: Db, threadId: string): Promise<boolean> {
  return (await db.selectFrom('privacy_request').select('id').where('thread_id', '=', threadId).executeTakeFirst()) !== undefined;
}

export async function triageThreads(db: Db, limit: number, before?: { lastMessageAt: string; id: string }): Promise<Array<ThreadRow & { messages: number }>> {
  let q = db
    .selectFrom('mail_thread')
    .selectAll('mail_thread')
    .select((eb) => eb.selectFrom('mail_message').select((e) => e.fn.countAll<number>().as('n')).whereRef('mail_message.thread_id', '=', 'mail_thread.id').as('messages'))
    .where('inquiry_id', 'is', null)
    // A privacy request's thread is the privacy desk's, never triage (src/rights/).
    .where((eb) => eb.not(eb.exists(eb.selectFrom('privacy_request').select('privacy_request.id').whereRef('privacy_request.thread_id', '=', 'mail_thread.id'))));
  if (before) {
    q = q.where((eb) => eb.or([eb('last_message_at', '<', before.lastMessageAt), eb.and([eb('last_message_at', '=', before.lastMessageAt), eb('id', '<', before.id)])]));
  }
  const rows = await q.orderBy('last_message_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({ ...r, messages: Number(r.messages ?? 0) }));
}

export async function assignThread(db: Db, threadId: string, inquiryId: string, personId: string): Promise<void> {
  await db.updateTable('mail_thread').set({ inquiry_id: inquiryId, person_id: personId }).where('id', '=', threadId).execute();
}

/** Messages from an address now known to be this person: the person row holds it from now on. */
export async function attributeMessages(db: Db, threadId: string, personId: string, matches: (address: string) => boolean): Promise<number> {
  const rows = await db.selectFrom('mail_message').select(['id', 'from_address']).where('thread_id', '=', threadId).where('from_address', 'is not', null).execute();
  const ids = rows.filter((r) => r.from_address !== null && matches(r.from_address)).map((r) => r.id);
  if (ids.length > 0) await db.updateTable('mail_message').set({ from_person_id: personId, from_address: null }).where('id', 'in', ids).execute();
  return ids.length;
}

export async function closeInquiryRow(db: Db, inquiryId: string, outcome: string, at: string): Promise<boolean> {
  const result = await db.updateTable('inquiry').set({ status: 'closed', outcome, closed_at: at }).where('id', '=', inquiryId).where('status', '!=', 'closed').executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function imapState(db: Db, mailbox: string): Promise<{ uid_validity: string; last_uid: number } | undefined> {
  const row = await db.selectFrom('imap_state').select(['uid_validity', 'last_uid']).where('mailbox', '=', mailbox).executeTakeFirst();
  return row ? { uid_validity: row.uid_validity, last_uid: Number(row.last_uid) } : undefined;
}

export async function saveImapState(db: Db, mailbox: string, uidValidity: string, lastUid: number, at: string): Promise<void> {
  await db
    .insertInto('imap_state')
    .values({ mailbox, uid_validity: uidValidity, last_uid: lastUid, updated_at: at })
    .onConflict((oc) => oc.column('mailbox').doUpdateSet({ uid_validity: uidValidity, last_uid: lastUid, updated_at: at }))
    .execute();
}
