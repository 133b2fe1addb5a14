import { randomUUID } from 'node:crypto';
import type { Collector } from '../storage/write-batcher.ts';
import { insertMessages, type NewMessage } from './outbox-store.ts';
import type { MailDraft } from './draft.ts';

// One bare address: a plain local part (never a quoted one, which mailers rewrite), no
// display name, no list, no control or line-break characters. The mailer would read
// "a@x.example\r\nBcc: b@y.example" or "a@x.example, b@y.example" as more recipients,
// so only this shape may reach it.
const SINGLE_ADDRESS = /^[^\s"@,;:<>()[\]\\]+@[^\s"@,;:<>()[\]\\]+$/u;
const HEADER_NAME = /^[A-Za-z][A-Za-z0-9-]*$/;
const LINE_BREAK_OR_CONTROL = /[\p{Cc}\u2028\u2029]/u;
// Threading headers carry Message-IDs only: one for In-Reply-To, a space-separated list for References.
const ONE_MESSAGE_ID = /^<[^<>\s"(),;:\\[\]]{1,900}>$/;
const MESSAGE_ID_LIST = /^<[^<>\s"(),;:\\[\]]{1,900}>(?: <[^<>\s"(),;:\\[\]]{1,900}>){0,99}$/;

export function isSingleAddress(value: string): boolean {
  return SINGLE_ADDRESS.test(value) && !LINE_BREAK_OR_CONTROL.test(value);
}

/** Defence in depth below form validation: a draft that could add a recipient or a header is a bug. */
export function assertSafeDraft(draft: Pick<MailDraft, 'to' | 'headers'>): void {
  if (!isSingleAddress(draft.to)) throw new Error('mail draft refused: recipient is not a single plain address');
  for (const [name, value] of Object.entries(draft.headers)) {
    if (!HEADER_NAME.test(name) || LINE_BREAK_OR_CONTROL.test(value)) throw new Error(`mail draft refused: unsafe header ${JSON.stringify(name)}`);
    if (name.toLowerCase() === 'reply-to' && !isSingleAddress(value)) throw new Error('mail draft refused: Reply-To is not a single plain address');
    if (name.toLowerCase() === 'in-reply-to' && !ONE_MESSAGE_ID.test(value)) throw new Error('mail draft refused: In-Reply-To is not one <message-id>');
    if (name.toLowerCase() === 'references' && !MESSAGE_ID_LIST.test(value)) throw new Error('mail draft refused: References is not a list of <message-id>s');
  }
}

/** What a message is about: the person it concerns and the inquiry it belongs to. */
export interface MailRefs {
  personId?: string | null;
  inquiryId?: string | null;
}

/** Checks the draft before anything is written, so a bad one fails its own unit of work. */
export function toMessage(at: Date, kind: string, draft: MailDraft, refs: MailRefs): NewMessage {
  assertSafeDraft(draft);
  const queuedAt = at.toISOString();
  return { id: randomUUID(), kind, inquiryId: refs.inquiryId ?? null, personId: refs.personId ?? null, to: draft.to, subject: draft.subject, text: draft.text, headers: draft.headers, queuedAt };
}

/** The messages of a whole batch in one statement, just before its COMMIT: sent only if that commits. */
export const outboxCollector: Collector<NewMessage> = (trx, messages) => insertMessages(trx, messages);
