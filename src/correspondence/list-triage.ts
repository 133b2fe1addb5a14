// Threads no inquiry holds yet, newest first, a page at a time (keyset: pass the last
// row's `next` to get the following page). Each names its first sender (a person id, or
// the address of someone we do not know) so staff can match it. A staff read: audited.
import type { Deps } from '../deps.ts';
import { inBatch } from '../unit-of-work.ts';
import { actorOf, type StaffActor } from './staff-actor.ts';
import { messagesOfThread, triageThreads } from './store.ts';
import { senderOf, threadSummary, type Sender, type ThreadSummary } from './views.ts';

export interface TriageEntry extends ThreadSummary {
  firstFrom: Sender;
}

export interface TriagePage {
  threads: TriageEntry[];
  /** Pass as `after` for the next page; undefined on the last. */
  next: { lastMessageAt: string; id: string } | undefined;
}

export async function listTriage(
  deps: Pick<Deps, 'storage' | 'now' | 'mailQueued'>,
  input: StaffActor & { limit?: number; after?: { lastMessageAt: string; id: string } },
): Promise<TriagePage> {
  const limit = Math.max(1, Math.min(100, Math.trunc(input.limit ?? 50)));
  return inBatch(deps, async (uow) => {
    const rows = await triageThreads(uow.trx, limit + 1, input.after);
    const page = rows.slice(0, limit);
    const threads: TriageEntry[] = [];
    for (const t of page) {
      const [first] = await messagesOfThread(uow.trx, t.id);
      threads.push({ ...threadSummary(t), firstFrom: first ? senderOf(first) : { kind: 'unknown' } });
    }
    uow.audit({ actor: actorOf(input), action: 'correspondence.triage_viewed', entityType: 'mail_thread', entityId: '*', details: { session: input.sessionId, threads: threads.length } });
    const last = page.at(-1);
    return { threads, next: rows.length > limit && last ? { lastMessageAt: last.last_message_at, id: last.id } : undefined };
  });
}
