import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Database } from '../storage/types.ts';
import type { Batch, Collector } from '../storage/write-batcher.ts';
import { insertMessages, type NewMessage } from './outbox-store.ts';
import type { MailDraft } from './templates.ts';

// One bare address: a plain or quoted local part, no display name, no list, no control
// or line-break characters. The mailer would read "a@x.example\r\nBcc: b@y.example" or
// "a@x.example, b@y.example" as more recipients, so only this shape may reach it.
const SINGLE_ADDRESS = /^(?:[^\s"@,;:<>()[\]\\]+|"(?:[^"\\\p{Cc}\u2028\u2029]|\\[^\p{Cc}\u2028\u2029])*")@[^\s"@,;:<>()[\]\\]+$/u;
const HEADER_NAME = /^[A-Za-z][A-Za-z0-9-]*$/;
const LINE_BREAK_OR_CONTROL = /[\p{Cc}\u2028\u2029]/u;

export function isSingleAddress(value: string): boolean {
  return SINGLE_ADDRESS.test(value) && !LINE_BREAK_OR_CONTROL.test(value);
}

/** Defence in depth below form validation: a draft that could add a recipient or a header is a bug. */
export function assertSafeDraft(draft: Pick<MailDraft, 'to' | 'headers'>): void {
  if (!isSingleAddress(draft.to)) throw new Error('mail draft refused: recipient is not a single plain address');
  for (const [name, value] of Object.entries(draft.headers)) {
    if (!HEADER_NAME.test(name) || LINE_BREAK_OR_CONTROL.test(value)) throw new Error(`mail draft refused: unsafe header ${JSON.stringify(name)}`);
    if (name.toLowerCase() === 'reply-to' && !isSingleAddress(value)) throw new Error('mail draft refused: Reply-To is not a single plain address');
  }
}

type QueueItem = { kind: string; draft: MailDraft };

// Every draft is checked before anything is written, so a bad one fails its own job.
function toMessages(at: Date, inquiryId: string | null, items: QueueItem[]): NewMessage[] {
  for (const { draft } of items) assertSafeDraft(draft);
  const queuedAt = at.toISOString();
  return items.map(({ kind, draft }) => ({ id: randomUUID(), kind, inquiryId, to: draft.to, subject: draft.subject, text: draft.text, headers: draft.headers, queuedAt }));
}

/** Writes the message to the outbox inside the caller's transaction: it is sent only if that commits. */
export async function queueMail(trx: Transaction<Database>, at: Date, kind: string, inquiryId: string | null, draft: MailDraft): Promise<string> {
  const [message] = toMessages(at, inquiryId, [{ kind, draft }]);
  await insertMessages(trx, [message]);
  return message.id;
}

const insertCollectedMessages: Collector<NewMessage> = (trx, messages) => insertMessages(trx, messages);

/**
 * Inside a batched unit of work: the messages are written with every other job's in one
 * statement just before the batch's COMMIT, so they exist exactly when the job's change does.
 */
export function queueMailsInBatch(batch: Batch, at: Date, inquiryId: string | null, items: QueueItem[]): string[] {
  const messages = toMessages(at, inquiryId, items);
  for (const message of messages) batch.collect(insertCollectedMessages, message);
  return messages.map((m) => m.id);
}
