// A request's state changes and staff actions: one history row and one audit entry each,
// in the unit of work of the change. Both carry ids, state names and counts only: never
// the requester's address, their words or a refusal's reasons.
import { randomUUID } from 'node:crypto';
import type { UnitOfWork } from '../unit-of-work.ts';
import { insertEvent } from './store.ts';

export interface RequestActor {
  /** system | mail:smtp | mail:imap | requester | staff:ACCOUNT_ID */
  actor: string;
  sessionId?: string;
}

export async function recordEvent(uow: UnitOfWork, requestId: string, who: RequestActor, event: string, details: Record<string, string | number | boolean> = {}): Promise<void> {
  const at = uow.now.toISOString();
  const detail = Object.keys(details).length ? JSON.stringify(details) : null;
  await insertEvent(uow.trx, { id: randomUUID(), request_id: requestId, at, actor: who.actor, event, detail });
  uow.audit({
    actor: who.actor,
    action: `privacy_request.${event}`,
    entityType: 'privacy_request',
    entityId: requestId,
    details: { ...details, ...(who.sessionId ? { session: who.sessionId } : {}) },
  });
}
