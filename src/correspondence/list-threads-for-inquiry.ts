// An inquiry's threads, newest first. A staff read: audited with account and session.
import type { Deps } from '../deps.ts';
import { inBatch } from '../unit-of-work.ts';
import { actorOf, type StaffActor } from './staff-actor.ts';
import { threadsOfInquiry } from './store.ts';
import { threadSummary, type ThreadSummary } from './views.ts';

export async function listThreadsForInquiry(deps: Pick<Deps, 'storage' | 'now' | 'mailQueued'>, input: StaffActor & { inquiryId: string }): Promise<ThreadSummary[]> {
  return inBatch(deps, async (uow) => {
    const threads = await threadsOfInquiry(uow.trx, input.inquiryId);
    uow.audit({ actor: actorOf(input), action: 'correspondence.threads_viewed', entityType: 'inquiry', entityId: input.inquiryId, details: { session: input.sessionId, threads: threads.length } });
    return threads.map(threadSummary);
  });
}
