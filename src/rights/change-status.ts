// Staff moves of a request through its states. The allowed moves are a table; anything
// else is refused with the state it is in. A refusal needs its reason and tells the
// requester (GDPR Art. 12(4) asks for the reasons); the reason stays on the request and
// never enters the history or the audit trail (only its length does).
import type { Deps } from '../deps.ts';
import { inBatch } from '../unit-of-work.ts';
import type { PrivacyRequestStatus } from '../storage/types.ts';
import { recordEvent } from './request-events.ts';
import { refusalMail } from './mail.ts';
import { ERASED_MARKER, findRequest, updateRequest } from './store.ts';
import { RequestError, staffActor, type StaffActor } from './staff-actor.ts';

export type StaffMove = 'start' | 'refuse' | 'close';

const MOVES: Record<StaffMove, { from: readonly PrivacyRequestStatus[]; to: PrivacyRequestStatus }> = {
  start: { from: ['received', 'acknowledged', 'verifying'], to: 'in_progress' },
  refuse: { from: ['received', 'acknowledged', 'verifying', 'in_progress'], to: 'refused' },
  close: { from: ['received', 'acknowledged', 'verifying', 'in_progress', 'fulfilled', 'refused'], to: 'closed' },
};

export const REASON_MAX = 2000;

export function allowedMoves(status: PrivacyRequestStatus): StaffMove[] {
  return (Object.keys(MOVES) as StaffMove[]).filter((m) => MOVES[m].from.includes(status));
}

export async function changeStatus(
  deps: Pick<Deps, 'storage' | 'now' | 'mailQueued' | 'policy'>,
  actor: StaffActor,
  input: { requestId: string; move: StaffMove; reason?: string },
): Promise<void> {
  const move = MOVES[input.move];
  if (!move) throw new RequestError('invalid', 'unknown action');
  const reason = (input.reason ?? '').trim();
  if (input.move === 'refuse' && !reason) throw new RequestError('invalid', 'give the reason for the refusal; the requester is told it');
  if ([...reason].length > REASON_MAX) throw new RequestError('invalid', `shorten the reason to ${REASON_MAX} characters or fewer`);
  await inBatch(deps, async (uow) => {
    const request = await findRequest(uow.trx, input.requestId);
    if (!request) throw new RequestError('not_found', 'no such request');
    if (!move.from.includes(request.status)) throw new RequestError('conflict', `the request is ${request.status.replace('_', ' ')}; it cannot be ${input.move === 'start' ? 'started' : input.move === 'refuse' ? 'refused' : 'closed'} now`);
    if (input.move === 'refuse' && request.requester_email === ERASED_MARKER) throw new RequestError('conflict', 'the requester was erased: no refusal can be sent to them; close the request instead');
    const at = uow.now.toISOString();
    const stamp = { in_progress: 'in_progress_at', refused: 'refused_at', closed: 'closed_at' } as const;
    await updateRequest(uow.trx, request.id, {
      status: move.to,
      [stamp[move.to as keyof typeof stamp]]: at,
      ...(input.move === 'refuse' ? { refusal_reason: reason } : {}),
      // A refused or closed request can no longer be verified: its link stops working.
      ...(input.move !== 'start' ? { verify_token_hash: null, verify_expires_at: null } : {}),
      updated_at: at,
    });
    const details: Record<string, string | number> = { from: request.status };
    if (input.move === 'refuse') {
      details.reason_length = [...reason].length;
      details.outbox = uow.queueMail('privacy-request-refusal', refusalMail(deps, request, reason), { personId: request.person_id });
    }
    await recordEvent(uow, request.id, staffActor(actor), move.to, details);
  });
}
