import type { Kysely, Transaction } from 'kysely';
import { insertRows } from '../storage/insert-rows.ts';
import type { Database, OutboxRow } from '../storage/types.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface NewMessage {
  id: string;
  kind: string;
  inquiryId: string | null;
  personId: string | null;
  to: string;
  subject: string;
  text: string;
  headers: Record<string, string>;
  /** When it was queued: also when it is first due. */
  queuedAt: string;
}

/** One statement for all of them: the intake path queues two messages per submission. */
export async function insertMessages(db: Db, messages: NewMessage[]): Promise<void> {
  if (messages.length === 0) return;
  const rows = messages.map((message) => ({
    id: message.id,
    kind: message.kind,
    inquiry_id: message.inquiryId,
    person_id: message.personId,
    to_address: message.to,
    subject: message.subject,
    text_body: message.text,
    headers: JSON.stringify(message.headers),
    status: 'pending' as const,
    attempts: 0,
    next_attempt_at: message.queuedAt,
    locked_until: null,
    last_error: null,
    created_at: message.queuedAt,
    sent_at: null,
  }));
  await insertRows(db, 'outbox', rows);
}

/** Takes a lease on due messages so that several app instances never send one twice. */
export async function claimDue(db: Kysely<Database>, now: string, leaseUntil: string, limit: number): Promise<OutboxRow[]> {
  const due = await db
    .selectFrom('outbox')
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
    .orderBy('next_attempt_at')
    .limit(limit)
    .execute();
  const claimed: OutboxRow[] = [];
  for (const { id } of due) {
    const row = await db
      .updateTable('outbox')
      .set({ locked_until: leaseUntil })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
      .returningAll()
      .executeTakeFirst();
    if (row) claimed.push(row);
  }
  return claimed;
}

/** Once the server has the message, its contents are erased: only ids and times remain. */
export async function markSent(db: Db, id: string, at: string): Promise<void> {
  await db
    .updateTable('outbox')
    .set((eb) => ({ status: 'sent', sent_at: at, locked_until: null, attempts: eb('attempts', '+', 1), to_address: '', subject: '', text_body: '', headers: '{}', last_error: null }))
    .where('id', '=', id)
    .execute();
}

export async function markFailed(db: Db, id: string, nextAttemptAt: string, error: string): Promise<void> {
  await db
    .updateTable('outbox')
    .set((eb) => ({ locked_until: null, attempts: eb('attempts', '+', 1), next_attempt_at: nextAttemptAt, last_error: error }))
    .where('id', '=', id)
    .execute();
}

export async function listMessages(db: Db, status: 'pending' | 'sent' | 'all'): Promise<OutboxRow[]> {
  let q = db.selectFrom('outbox').selectAll().orderBy('created_at');
  if (status !== 'all') q = q.where('status', '=', status);
  return q.execute();
}

/** One message by id, whatever its status (a sent one has its contents erased). */
export async function findMessage(db: Db, id: string): Promise<OutboxRow | undefined> {
  return db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
}
