// Privacy staff write to the requester (to ask what they want, where they live, or to
// answer): through the outbox, recorded as an outgoing message in the request's thread
// (opened now for a request that came by form), threaded under their latest mail, with
// the privacy address as Reply-To so the answer comes back to the desk and joins the
// request. Audited with the session; the text stays in the thread, not in the trail.
import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps.ts';
import { isSendableId, outboxMessageId } from '../correspondence/message-ids.ts';
import { insertMessage, insertThread, messagesOfThread, touchThread } from '../correspondence/store.ts';
import { inBatch } from '../unit-of-work.ts';
import { recordEvent } from './request-events.ts';
import { ERASED_MARKER, findRequest, updateRequest } from './store.ts';
import { RequestError, staffActor, type StaffActor } from './staff-actor.ts';

export const MAX_REPLY = 20_000;

export async function replyToRequester(deps: Pick<Deps, 'storage' | 'policy' | 'now' | 'mailQueued'>, actor: StaffActor, input: { requestId: string; text: string }): Promise<void> {
  const text = input.text.replace(/\r\n?/g, '\n');
  if (!text.trim()) throw new RequestError('invalid', 'the message is empty');
  if ([...text].length > MAX_REPLY) throw new RequestError('invalid', `shorten the message to ${MAX_REPLY} characters or fewer`);
  const org = deps.policy.policy.organisation;
  await inBatch(deps, async (uow) => {
    const request = await findRequest(uow.trx, input.requestId);
    if (!request) throw new RequestError('not_found', 'no such request');
    if (request.requester_email === ERASED_MARKER) throw new RequestError('conflict', 'the requester was erased: their address is no longer held');
    const at = uow.now.toISOString();
    const subject = `Re: ${org.privacy_subject} (${request.reference})`;
    let threadId = request.thread_id;
    if (!threadId) {
      threadId = randomUUID();
      await insertThread(uow.trx, { id: threadId, inquiry_id: null, person_id: request.person_id, subject, created_at: at, last_message_at: at });
      await updateRequest(uow.trx, request.id, { thread_id: threadId, updated_at: at });
    }
    const messages = await messagesOfThread(uow.trx, threadId);
    const lastIn = [...messages].reverse().find((m) => m.direction === 'in' && isSendableId(m.message_id));
    const ackId = request.ack_outbox_id ? outboxMessageId(deps.policy.policy, request.ack_outbox_id) : undefined;
    const inReplyTo = lastIn?.message_id ?? ackId;
    const references = [...new Set([ackId, ...messages.map((m) => m.message_id)].filter((id): id is string => id !== undefined && isSendableId(id)))].slice(-20);
    const headers: Record<string, string> = { 'Reply-To': org.privacy_address };
    if (inReplyTo) headers['In-Reply-To'] = inReplyTo;
    if (references.length) headers.References = references.join(' ');
    const outboxId = uow.queueMail('privacy-request-reply', { to: request.requester_email, subject, text, headers }, { personId: request.person_id });
    await insertMessage(uow.trx, {
      id: outboxId,
      thread_id: threadId,
      direction: 'out',
      message_id: outboxMessageId(deps.policy.policy, outboxId),
      in_reply_to: inReplyTo ?? null,
      reference_ids: references.length ? references.join(' ') : null,
      from_person_id: null,
      from_address: null,
      staff_account_id: actor.staffAccountId,
      outbox_id: outboxId,
      source: 'console',
      subject,
      text_body: text,
      html_body: null,
      note: null,
      at,
    });
    await touchThread(uow.trx, threadId, at);
    await recordEvent(uow, request.id, staffActor(actor), 'replied', { outbox: outboxId, thread: threadId });
  });
}
