// A staff reply: queued through the outbox in the same unit of work as its record in the
// thread, with its own Message-ID (the outbox id, as the worker sends it) and the
// thread's In-Reply-To/References, so the customer's mail program threads it and their
// answer finds its way back. Reply-To is the policy's correspondence.reply_address.
import type { Deps } from '../deps.ts';
import { oneLine } from '../mail/draft.ts';
import { findPerson } from '../people/store.ts';
import { inBatch } from '../unit-of-work.ts';
import { isSendableId, outboxMessageId } from './message-ids.ts';
import { CorrespondenceError } from './staff-actor.ts';
import { inboundSettings } from './settings.ts';
import { findInquiry, findThread, insertMessage, messagesOfThread, touchInquiry, touchThread } from './store.ts';

export const MAX_REPLY_LENGTH = 100_000;
/** References keeps the first message and the latest ones, as RFC 5322 suggests. */
const MAX_REFERENCES = 20;

export interface ReplyInput {
  threadId: string;
  staffAccountId: string;
  /** The console session the reply was written in (audited). */
  sessionId?: string;
  text: string;
}

export interface ReplyResult {
  messageRowId: string;
  outboxId: string;
  messageId: string;
}

function replySubject(subject: string): string {
  const s = oneLine(subject).trim();
  if (!s) return 'Your inquiry';
  return /^re:/i.test(s) ? s : `Re: ${s}`;
}

export async function replyToThread(deps: Pick<Deps, 'storage' | 'policy' | 'now' | 'mailQueued'>, input: ReplyInput): Promise<ReplyResult> {
  const text = input.text.replace(/\r\n?/g, '\n');
  if (text.trim().length === 0) throw new CorrespondenceError('invalid', 'the reply is empty');
  if (text.length > MAX_REPLY_LENGTH) throw new CorrespondenceError('invalid', `the reply is longer than ${MAX_REPLY_LENGTH} characters`);
  const policy = deps.policy.policy;
  return inBatch(deps, async (uow) => {
    const thread = await findThread(uow.trx, input.threadId);
    if (!thread) throw new CorrespondenceError('not_found', 'no such thread');
    if (!thread.inquiry_id) throw new CorrespondenceError('conflict', 'this thread is in triage: assign it to an inquiry before replying');
    const inquiry = await findInquiry(uow.trx, thread.inquiry_id);
    if (!inquiry) throw new CorrespondenceError('not_found', 'the thread\'s inquiry no longer exists');
    const person = await findPerson(uow.trx, inquiry.person_id);
    if (!person) throw new CorrespondenceError('not_found', 'the inquiry\'s person no longer exists');

    const messages = await messagesOfThread(uow.trx, thread.id);
    const ids = messages.map((m) => m.message_id).filter(isSendableId);
    const lastInbound = [...messages].reverse().find((m) => m.direction === 'in' && isSendableId(m.message_id));
    const inReplyTo = lastInbound?.message_id ?? ids.at(-1);
    const chain: string[] = [];
    // The references the last message carried, then the messages themselves.
    for (const id of [...(lastInbound?.reference_ids?.split(' ') ?? []), ...ids]) if (isSendableId(id) && !chain.includes(id)) chain.push(id);
    const references = chain.length > MAX_REFERENCES ? [chain[0], ...chain.slice(-(MAX_REFERENCES - 1))] : chain;
    const headers: Record<string, string> = { 'Reply-To': inboundSettings(policy).replyAddress };
    if (inReplyTo) headers['In-Reply-To'] = inReplyTo;
    if (references.length > 0) headers.References = references.join(' ');

    const subject = replySubject(lastInbound?.subject || thread.subject);
    const outboxId = uow.queueMail('correspondence-reply', { to: person.email, subject, text, headers }, { personId: person.id, inquiryId: inquiry.id });
    const messageId = outboxMessageId(policy, outboxId);
    const at = uow.now.toISOString();
    await insertMessage(uow.trx, {
      id: outboxId,
      thread_id: thread.id,
      direction: 'out',
      message_id: messageId,
      in_reply_to: inReplyTo ?? null,
      reference_ids: references.length > 0 ? references.join(' ') : null,
      from_person_id: null,
      from_address: null,
      staff_account_id: input.staffAccountId,
      outbox_id: outboxId,
      source: 'console',
      subject,
      text_body: text,
      html_body: null,
      note: null,
      at,
    });
    await touchThread(uow.trx, thread.id, at);
    await touchInquiry(uow.trx, inquiry.id, at, true);
    uow.audit({
      actor: `staff:${input.staffAccountId}`,
      action: 'correspondence.replied',
      entityType: 'mail_thread',
      entityId: thread.id,
      details: { inquiry: inquiry.id, person: person.id, outbox: outboxId, session: input.sessionId ?? '' },
    });
    return { messageRowId: outboxId, outboxId, messageId };
  });
}
