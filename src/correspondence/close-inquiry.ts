// Closes an inquiry with its outcome and the date retention counts from.
import type { Deps } from '../deps.ts';
import { oneLine } from '../mail/draft.ts';
import { inBatch } from '../unit-of-work.ts';
import { actorOf, CorrespondenceError, type StaffActor } from './staff-actor.ts';
import { closeInquiryRow, findInquiry } from './store.ts';

export const MAX_OUTCOME_LENGTH = 200;

export async function closeInquiry(deps: Pick<Deps, 'storage' | 'now' | 'mailQueued'>, input: StaffActor & { inquiryId: string; outcome: string }): Promise<{ closedAt: string }> {
  const outcome = oneLine(input.outcome).trim();
  if (!outcome) throw new CorrespondenceError('invalid', 'give an outcome');
  if (outcome.length > MAX_OUTCOME_LENGTH) throw new CorrespondenceError('invalid', `the outcome is longer than ${MAX_OUTCOME_LENGTH} characters`);
  return inBatch(deps, async (uow) => {
    const inquiry = await findInquiry(uow.trx, input.inquiryId);
    if (!inquiry) throw new CorrespondenceError('not_found', 'no such inquiry');
    const at = uow.now.toISOString();
    if (!(await closeInquiryRow(uow.trx, inquiry.id, outcome, at))) throw new CorrespondenceError('conflict', 'the inquiry is already closed');
    // The outcome is staff's words about the inquiry, not personal data; only its length is audited all the same.
    uow.audit({ actor: actorOf(input), action: 'inquiry.closed', entityType: 'inquiry', entityId: inquiry.id, details: { session: input.sessionId, outcome_length: outcome.length } });
    return { closedAt: at };
  });
}
