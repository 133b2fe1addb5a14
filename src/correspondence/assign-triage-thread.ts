// A triage thread given to an inquiry: it joins the inquiry (and its person), messages
// from that person's address are attributed to the person row (the address is no longer
// kept on them), and the inquiry's last activity moves to the thread's latest message.
import type { Deps } from '../deps.ts';
import { subjectKeys } from '../people/subject.ts';
import { inBatch } from '../unit-of-work.ts';
import { actorOf, CorrespondenceError, type StaffActor } from './staff-actor.ts';
import { assignThread, attributeMessages, findInquiry, findThread, isPrivacyRequestThread, touchInquiry } from './store.ts';

export async function assignTriageThread(
  deps: Pick<Deps, 'storage' | 'now' | 'mailQueued' | 'signer'>,
  input: StaffActor & { threadId: string; inquiryId: string },
): Promise<{ attributedMessages: number }> {
  return inBatch(deps, async (uow) => {
    const thread = await findThread(uow.trx, input.threadId);
    if (!thread) throw new CorrespondenceError('not_found', 'no such thread');
    if (thread.inquiry_id) throw new CorrespondenceError('conflict', 'this thread already belongs to an inquiry');
    // Not in triage's list, but reachable by id: a privacy request's mail never joins an inquiry.
    if (await isPrivacyRequestThread(uow.trx, thread.id)) throw new CorrespondenceError('not_found', 'no such thread');
    const inquiry = await findInquiry(uow.trx, input.inquiryId);
    if (!inquiry) throw new CorrespondenceError('not_found', 'no such inquiry');
    const personKey = await uow.trx.selectFrom('person').select('subject_key').where('id', '=', inquiry.person_id).executeTakeFirst();
    await assignThread(uow.trx, thread.id, inquiry.id, inquiry.person_id);
    const attributed = personKey ? await attributeMessages(uow.trx, thread.id, inquiry.person_id, (address) => subjectKeys(deps.signer, address).includes(personKey.subject_key)) : 0;
    await touchInquiry(uow.trx, inquiry.id, thread.last_message_at, false);
    uow.audit({
      actor: actorOf(input),
      action: 'correspondence.thread_assigned',
      entityType: 'mail_thread',
      entityId: thread.id,
      details: { session: input.sessionId, inquiry: inquiry.id, person: inquiry.person_id, attributed_messages: attributed },
    });
    return { attributedMessages: attributed };
  });
}
