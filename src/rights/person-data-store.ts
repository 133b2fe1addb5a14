// SQL for finding, correcting and erasing everything held about one person. Every
// look-up is an index probe (the person's id, a subject key, or the lower-cased address
// on the partial indexes of the 2026-12-01-erasure migration), never a scan, so it stays
// fast however many other people are stored. Lists of ids go in slices, below SQLite's
// bound on parameters.
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type {
  ConsentConfirmationTable,
  ConsentRecord,
  Database,
  ErasureProofTable,
  Inquiry,
  MailAllowanceTable,
  MailAttachmentTable,
  MailMessageTable,
  MailThreadTable,
  OutboxRow,
  Person,
  SuppressionTable,
  WithdrawalRequestTable,
} from '../storage/types.ts';

type Db = Kysely<Database> | Transaction<Database>;

export type ThreadRow = Selectable<MailThreadTable>;
export type MessageRow = Selectable<MailMessageTable>;
export type AttachmentRow = Selectable<MailAttachmentTable>;
export type AttachmentMetaRow = Omit<AttachmentRow, 'content'>;

const SLICE = 500;

function slices<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += SLICE) out.push(items.slice(i, i + SLICE));
  return out;
}

async function inSlices<T, R>(items: T[], fn: (slice: T[]) => Promise<R[]>): Promise<R[]> {
  const out: R[] = [];
  for (const slice of slices(items)) out.push(...(await fn(slice)));
  return out;
}

export async function personBySubjectKeys(db: Db, keys: string[]): Promise<Person | undefined> {
  return db.selectFrom('person').selectAll().where('subject_key', 'in', keys).orderBy('created_at').executeTakeFirst();
}

export async function personById(db: Db, id: string): Promise<Person | undefined> {
  return db.selectFrom('person').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function inquiriesOf(db: Db, personId: string): Promise<Inquiry[]> {
  return db.selectFrom('inquiry').selectAll().where('person_id', '=', personId).orderBy('created_at').orderBy('id').execute();
}

export async function consentRecordsOf(db: Db, personId: string): Promise<ConsentRecord[]> {
  return db.selectFrom('consent_record').selectAll().where('person_id', '=', personId).orderBy('recorded_at').orderBy('id').execute();
}

export async function consentConfirmationsOf(db: Db, personId: string): Promise<Array<Selectable<ConsentConfirmationTable>>> {
  return db.selectFrom('consent_confirmation').selectAll().where('person_id', '=', personId).orderBy('requested_at').orderBy('id').execute();
}

/** Threads recorded as the person's, or as one of their inquiries'. */
export async function threadsOfPerson(db: Db, personId: string | undefined, inquiryIds: string[]): Promise<ThreadRow[]> {
  const rows: ThreadRow[] = [];
  if (personId) rows.push(...(await db.selectFrom('mail_thread').selectAll().where('person_id', '=', personId).execute()));
  rows.push(...(await inSlices(inquiryIds, (ids) => db.selectFrom('mail_thread').selectAll().where('inquiry_id', 'in', ids).execute())));
  return rows;
}

export async function threadsByIds(db: Db, ids: string[]): Promise<ThreadRow[]> {
  return inSlices(ids, (slice) => db.selectFrom('mail_thread').selectAll().where('id', 'in', slice).execute());
}

/**
 * Messages sent by the person: as a known sender, or from their address when it matched
 * nobody (triage). `address` is normalised (lower-cased); the index is on lower(from_address).
 */
export async function messagesFrom(db: Db, personId: string | undefined, address: string): Promise<MessageRow[]> {
  const rows: MessageRow[] = [];
  if (personId) rows.push(...(await db.selectFrom('mail_message').selectAll().where('from_person_id', '=', personId).execute()));
  rows.push(
    ...(await db
      .selectFrom('mail_message')
      .selectAll()
      // Both terms, so SQLite and PostgreSQL see the partial index's condition is met.
      .where(sql<string>`lower(from_address)`, '=', address)
      .where('from_address', 'is not', null)
      .execute()),
  );
  return rows;
}

export async function messagesOfThreads(db: Db, threadIds: string[]): Promise<MessageRow[]> {
  return inSlices(threadIds, (ids) => db.selectFrom('mail_message').selectAll().where('thread_id', 'in', ids).execute());
}

export async function attachmentMetaOf(db: Db, messageIds: string[]): Promise<AttachmentMetaRow[]> {
  return inSlices(messageIds, (ids) =>
    db.selectFrom('mail_attachment').select(['id', 'message_id', 'filename', 'content_type', 'size']).where('message_id', 'in', ids).execute(),
  );
}

export async function attachmentsWithContent(db: Db, messageIds: string[]): Promise<AttachmentRow[]> {
  return inSlices(messageIds, (ids) => db.selectFrom('mail_attachment').selectAll().where('message_id', 'in', ids).execute());
}

/** Outbox mail about the person, or to their address (a sent row keeps ids and times only). */
export async function outboxOf(db: Db, personId: string | undefined, address: string): Promise<OutboxRow[]> {
  const rows: OutboxRow[] = [];
  if (personId) rows.push(...(await db.selectFrom('outbox').selectAll().where('person_id', '=', personId).execute()));
  rows.push(
    ...(await db
      .selectFrom('outbox')
      .selectAll()
      .where(sql<string>`lower(to_address)`, '=', address)
      .where(sql<boolean>`to_address <> ''`)
      .execute()),
  );
  return rows;
}

export async function suppressionOf(db: Db, keys: string[]): Promise<Array<Selectable<SuppressionTable>>> {
  return db.selectFrom('suppression').selectAll().where('subject_key', 'in', keys).execute();
}

export async function withdrawalRequestsOf(db: Db, keys: string[]): Promise<Array<Selectable<WithdrawalRequestTable>>> {
  return db.selectFrom('withdrawal_request').selectAll().where('subject_key', 'in', keys).execute();
}

export async function mailAllowancesOf(db: Db, keys: string[]): Promise<Array<Selectable<MailAllowanceTable>>> {
  return db.selectFrom('mail_allowance').selectAll().where('subject_key', 'in', keys).execute();
}

export async function erasureProofsOf(db: Db, keys: string[]): Promise<Array<Selectable<ErasureProofTable>>> {
  return db.selectFrom('erasure_proof').selectAll().where('subject_key', 'in', keys).orderBy('erased_at').execute();
}

// ---- correction ----

export async function updatePersonRow(db: Db, id: string, set: { name?: string; email?: string; subject_key?: string }, at: string): Promise<void> {
  await db.updateTable('person').set({ ...set, updated_at: at }).where('id', '=', id).execute();
}

export async function updateInquiryRow(db: Db, id: string, set: Partial<Pick<Inquiry, 'company' | 'role' | 'country' | 'context'>>): Promise<void> {
  await db.updateTable('inquiry').set(set).where('id', '=', id).execute();
}

/** Suppression follows the address to its new key; the old entry stays (a hash only). */
export async function copySuppressionTo(db: Db, fromKeys: string[], toKey: string, at: string): Promise<void> {
  const found = await suppressionOf(db, fromKeys);
  if (found.length === 0) return;
  await db
    .insertInto('suppression')
    .values({ subject_key: toKey, reason: found[0].reason, created_at: at })
    .onConflict((oc) => oc.column('subject_key').doNothing())
    .execute();
}

// ---- erasure ----

type ErasableTable = 'mail_attachment' | 'mail_message' | 'mail_thread' | 'outbox' | 'consent_confirmation' | 'consent_record' | 'inquiry' | 'person';

/** Deletes rows by primary key; returns how many went. */
export async function deleteByIds(db: Db, table: ErasableTable, ids: string[]): Promise<number> {
  let n = 0;
  for (const slice of slices([...new Set(ids)])) {
    const r = await db.deleteFrom(table).where('id', 'in', slice).executeTakeFirst();
    n += Number(r.numDeletedRows);
  }
  return n;
}

export async function deleteBySubjectKeys(db: Db, table: 'withdrawal_request' | 'mail_allowance', keys: string[]): Promise<number> {
  const r = await db.deleteFrom(table).where('subject_key', 'in', keys).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** A thread that also holds someone else's mail leaves the person and goes back to triage. */
export async function detachThread(db: Db, id: string, subject: string): Promise<void> {
  await db.updateTable('mail_thread').set({ inquiry_id: null, person_id: null, subject }).where('id', '=', id).execute();
}

/** The only trace kept of an erased address: its keyed hash on the suppression list. */
export async function suppress(db: Db, subjectKey: string, reason: string, at: string): Promise<void> {
  await db.insertInto('suppression').values({ subject_key: subjectKey, reason, created_at: at }).onConflict((oc) => oc.column('subject_key').doNothing()).execute();
}

export async function insertErasureProof(db: Db, proof: Selectable<ErasureProofTable>): Promise<void> {
  await db.insertInto('erasure_proof').values(proof).execute();
}
