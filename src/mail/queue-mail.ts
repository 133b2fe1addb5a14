import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Database } from '../storage/types.ts';
import { insertMessages } from './outbox-store.ts';
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

/** Writes the message to the outbox inside the caller's transaction: it is sent only if that commits. */
export async function queueMail(trx: Transaction<Database>, at: Date, kind: string, inquiryId: string | null, draft: MailDraft): Promise<string> {
  const [id] = await queueMails(trx, at, inquiryId, [{ kind, draft }]);
  return id;
}

/** Several messages in one statement, all or none (every draft is checked first). */
export async function queueMails(trx: Transaction<Database>, at: Date, inquiryId: string | null, items: Array<{ kind: string; draft: MailDraft }>): Promise<string[]> {
  for (const { draft } of items) assertSafeDraft(draft);
  const messages = items.map(({ kind, draft }) => ({ id: randomUUID(), kind, inquiryId, to: draft.to, subject: draft.subject, text: draft.text, headers: draft.headers }));
  await insertMessages(trx, messages, at.toISOString());
  return messages.map((m) => m.id);
}
