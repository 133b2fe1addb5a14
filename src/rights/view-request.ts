// One request for the privacy role: everything on it (the requester's address and
// words included) and its history. A staff read: audited with account and session.
import type { Deps } from '../deps.ts';
import { inBatch } from '../unit-of-work.ts';
import { riskOf, type Risk } from './list-requests.ts';
import { eventsOf, findRequest, type EventRow, type RequestRow } from './store.ts';
import type { StaffActor } from './staff-actor.ts';

export interface RequestView {
  request: RequestRow;
  events: EventRow[];
  risk: Risk;
  elapsed: number;
  msLeft: number;
}

export async function viewRequest(deps: Pick<Deps, 'storage' | 'now' | 'mailQueued'>, actor: StaffActor, id: string): Promise<RequestView | undefined> {
  return inBatch(deps, async (uow) => {
    const request = await findRequest(uow.trx, id);
    if (!request) return undefined;
    const events = await eventsOf(uow.trx, id);
    uow.audit({ actor: `staff:${actor.staffAccountId}`, action: 'privacy_request.viewed', entityType: 'privacy_request', entityId: id, details: { session: actor.sessionId, events: events.length } });
    return { request, events, ...riskOf(request, uow.now) };
  });
}
