// A request's state changes and staff actions: one history row and one audit entry each,
// in the unit of work of the change. Both carry ids, state names and counts only: never
// the requester's address, their words or a refusal's reasons.
import { randomBytes } from 'node:crypto';
import type { UnitOfWork } from '../unit-of-work.ts';
import { insertEvent } from './store.ts';

export interface RequestActor {
  /** system | mail:smtp | mail:imap | requester | staff:ACCOUNT_ID */
  actor: string;
  sessionId?: string;
}

// Event ids sort in the order they were written within one instant (history is read
// ordered by time, then id): a process-wide counter, then random bits for uniqueness.
let counter = 0;
function eventId(at: string): string {
  counter = (counter + 1) % 1e12;
  return `${at}~${String(counter).padStart(12, '0')}~${randomBytes(6).toString('hex')}`;
}

export async function recordEvent(uow: UnitOfWork, requestId: string, who: RequestActor, event: string, details: Record<string, string | number | boolean> = {}): Promise<void> {
  const at = uow.now.toISOString();
  const detail = Object.keys(details).length ? JSON.stringify(details) : null;
  await insertEvent(uow.trx, { id: eventId(at), request_id: requestId, at, actor: who.actor, event, detail });
  uow.audit({
    actor: who.actor,
    action: `privacy_request.${event}`,
    entityType: 'privacy_request',
    entityId: requestId,
    details: { ...details, ...(who.sessionId ? { session: who.sessionId } : {}) },
  });
}
