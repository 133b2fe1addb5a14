// One thread with every message (sanitised HTML, attachment names and sizes, no bytes).
// A staff read: audited with account and session. Undefined when there is no such thread.
import type { Deps } from '../deps.ts';
import { inBatch } from '../unit-of-work.ts';
import { actorOf, type StaffActor } from './staff-actor.ts';
import { attachmentsOf, findThread, messagesOfThread } from './store.ts';
import { messageView, threadSummary, type ThreadView } from './views.ts';

export async function getThread(deps: Pick<Deps, 'storage' | 'now' | 'mailQueued'>, input: StaffActor & { threadId: string }): Promise<ThreadView | undefined> {
  return inBatch(deps, async (uow) => {
    const thread = await findThread(uow.trx, input.threadId);
    if (!thread) return undefined;
    const messages = await messagesOfThread(uow.trx, thread.id);
    const attachments = await attachmentsOf(uow.trx, messages.map((m) => m.id));
    uow.audit({
      actor: actorOf(input),
      action: 'correspondence.thread_viewed',
      entityType: 'mail_thread',
      entityId: thread.id,
      details: { session: input.sessionId, inquiry: thread.inquiry_id ?? '', person: thread.person_id ?? '', messages: messages.length },
    });
    return { ...threadSummary({ ...thread, messages: messages.length }), triage: thread.inquiry_id === null, messageList: messages.map((m) => messageView(m, attachments)) };
  });
}
