import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Database } from '../storage/types.ts';
import { insertMessage } from './outbox-store.ts';
import type { MailDraft } from './templates.ts';

/** Writes the message to the outbox inside the caller's transaction: it is sent only if that commits. */
export async function queueMail(trx: Transaction<Database>, at: Date, kind: string, inquiryId: string | null, draft: MailDraft): Promise<string> {
  const id = randomUUID();
  await insertMessage(trx, { id, kind, inquiryId, to: draft.to, subject: draft.subject, text: draft.text, headers: draft.headers }, at.toISOString());
  return id;
}
