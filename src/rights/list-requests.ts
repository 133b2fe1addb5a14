// The queue for the privacy role: requests soonest-due first, each with the share of its
// time used (from the clock) and whether it is at risk (>= 50%, >= 80%) or overdue.
// A staff read of personal data's metadata: audited with the count shown.
import type { Deps } from '../deps.ts';
import { inBatch } from '../unit-of-work.ts';
import { elapsedFraction } from './clock.ts';
import { queue, type QueueFilters, type RequestRow } from './store.ts';
import type { StaffActor } from './staff-actor.ts';

export type Risk = 'overdue' | 'at_risk_80' | 'at_risk_50' | 'on_track' | 'done';

export interface QueueEntry {
  request: Omit<RequestRow, 'requester_email' | 'message' | 'verify_token_hash' | 'refusal_reason' | 'package_token_hash'>;
  elapsed: number;
  risk: Risk;
  msLeft: number;
}

const QUEUE_LIMIT = 500;
const OPEN = new Set(['received', 'acknowledged', 'verifying', 'in_progress']);

export function riskOf(request: Pick<RequestRow, 'status' | 'received_at' | 'respond_by'>, now: Date): { elapsed: number; risk: Risk; msLeft: number } {
  const elapsed = elapsedFraction(new Date(request.received_at), new Date(request.respond_by), now);
  const msLeft = Date.parse(request.respond_by) - now.getTime();
  if (!OPEN.has(request.status)) return { elapsed, risk: 'done', msLeft };
  const risk: Risk = msLeft < 0 ? 'overdue' : elapsed >= 0.8 ? 'at_risk_80' : elapsed >= 0.5 ? 'at_risk_50' : 'on_track';
  return { elapsed, risk, msLeft };
}

export async function listRequests(deps: Pick<Deps, 'storage' | 'now' | 'mailQueued'>, actor: StaffActor, filters: QueueFilters): Promise<QueueEntry[]> {
  return inBatch(deps, async (uow) => {
    const rows = await queue(uow.trx, filters, QUEUE_LIMIT);
    uow.audit({ actor: `staff:${actor.staffAccountId}`, action: 'privacy_request.queue_viewed', entityType: 'privacy_request', entityId: '*', details: { session: actor.sessionId, count: rows.length } });
    return rows.map(({ requester_email: _e, message: _m, verify_token_hash: _v, refusal_reason: _r, package_token_hash: _p, ...request }) => ({ request, ...riskOf(request, uow.now) }));
  });
}
