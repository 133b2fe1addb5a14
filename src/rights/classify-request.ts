// Staff set a request's type and jurisdiction (mail says neither). The due dates are
// worked out again by the clock from the same receipt instant, so the legal deadline of
// the requester's jurisdiction applies from then on if it is earlier than ours.
import type { Deps } from '../deps.ts';
import { inBatch } from '../unit-of-work.ts';
import { dueDatesFor, REQUEST_TYPES, toUtcIso, UNSPECIFIED, type RequestType } from './due-dates.ts';
import { isJurisdiction } from './jurisdictions.ts';
import { recordEvent } from './request-events.ts';
import { findRequest, OPEN_STATUSES, updateRequest } from './store.ts';
import { RequestError, staffActor, type StaffActor } from './staff-actor.ts';

export async function classifyRequest(
  deps: Pick<Deps, 'storage' | 'now' | 'mailQueued' | 'policy'>,
  actor: StaffActor,
  input: { requestId: string; type: string; jurisdiction: string },
): Promise<void> {
  const type = input.type as RequestType;
  if (!([...REQUEST_TYPES, UNSPECIFIED] as string[]).includes(type)) throw new RequestError('invalid', 'choose a request type from the list');
  const jurisdiction = input.jurisdiction === UNSPECIFIED ? UNSPECIFIED : input.jurisdiction.trim().toUpperCase();
  if (!isJurisdiction(deps.policy, jurisdiction)) throw new RequestError('invalid', 'choose a jurisdiction from the list');
  await inBatch(deps, async (uow) => {
    const request = await findRequest(uow.trx, input.requestId);
    if (!request) throw new RequestError('not_found', 'no such request');
    if (!OPEN_STATUSES.includes(request.status)) throw new RequestError('conflict', `the request is ${request.status.replace('_', ' ')}; its type can no longer change`);
    const due = dueDatesFor(deps, { receivedAt: new Date(request.received_at), type, jurisdiction });
    const at = uow.now.toISOString();
    await updateRequest(uow.trx, request.id, {
      type,
      jurisdiction,
      respond_by: toUtcIso(due.respondBy),
      respond_rule: due.respondRule.id,
      respond_rule_kind: due.respondRule.kind,
      respond_citation: due.respondRule.citation,
      updated_at: at,
    });
    await recordEvent(uow, request.id, staffActor(actor), 'classified', { from_type: request.type, type, from_jurisdiction: request.jurisdiction, jurisdiction, respond_by: toUtcIso(due.respondBy), respond_rule: due.respondRule.id });
  });
}
