// What inbound mail means for the privacy desk, called by correspondence/receive-mail.ts
// inside its unit of work. Mail to the privacy address whose subject means the policy's
// privacy subject opens a request in a thread of its own (kept out of triage); a reply
// to a request's thread or to its acknowledgement joins that request. Everything else
// is threaded as before (an inquiry, or triage, where privacy staff may turn it into a
// request). Mail tells us neither the request type nor the jurisdiction, so both start
// as 'unspecified' and the company deadline applies until staff set them: guessing
// "access" from a free-text sentence would start the wrong legal clock.
import type { Deps } from '../deps.ts';
import type { UnitOfWork } from '../unit-of-work.ts';
import { openRequest } from './open-request.ts';
import { meansPrivacySubject } from './privacy-subject.ts';
import { recordEvent } from './request-events.ts';
import { requestOfAckOutbox, requestOfThread, updateRequest, type RequestRow } from './store.ts';

export function isPrivacyRequestMail(deps: Pick<Deps, 'policy'>, mail: { recipients: string[]; subject: string; fromAddress: string | null }): boolean {
  const org = deps.policy.policy.organisation;
  if (!mail.fromAddress) return false;
  if (!mail.recipients.includes(org.privacy_address.trim().toLowerCase())) return false;
  return meansPrivacySubject(mail.subject, org.privacy_subject);
}

/** The request a message belongs to: by the thread it joined, else by our acknowledgement it answers. */
export async function requestForMail(uow: UnitOfWork, threadId: string | undefined, outboxIds: string[]): Promise<RequestRow | undefined> {
  if (threadId) {
    const byThread = await requestOfThread(uow.trx, threadId);
    if (byThread) return byThread;
  }
  for (const outboxId of outboxIds) {
    const byAck = await requestOfAckOutbox(uow.trx, outboxId);
    if (byAck) return byAck;
  }
  return undefined;
}

export async function linkThread(uow: UnitOfWork, requestId: string, threadId: string): Promise<void> {
  await updateRequest(uow.trx, requestId, { thread_id: threadId, updated_at: uow.now.toISOString() });
}

export async function noteFollowUp(uow: UnitOfWork, request: Pick<RequestRow, 'id'>, source: string, messageRowId: string): Promise<void> {
  await recordEvent(uow, request.id, { actor: `mail:${source}` }, 'mail_received', { message: messageRowId });
}

export async function openRequestFromMail(
  uow: UnitOfWork,
  deps: Pick<Deps, 'policy' | 'signer' | 'config'>,
  mail: { fromAddress: string; personId: string | null; threadId: string; messageId: string; messageRowId: string; source: string },
): Promise<{ requestId: string; reference: string }> {
  const opened = await openRequest(uow, deps, {
    email: mail.fromAddress,
    type: 'unspecified',
    jurisdiction: 'unspecified',
    channel: 'mail',
    personId: mail.personId,
    threadId: mail.threadId,
    inReplyTo: mail.messageId,
    actor: { actor: `mail:${mail.source}` },
  });
  return opened;
}
