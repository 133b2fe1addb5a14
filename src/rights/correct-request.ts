// Carrying out a verified correction request: the console shows the person's fields and
// their inquiries' (read with findPersonData, so the staff read is audited), staff edit
// them, correct-person.ts validates and writes them (audit: record ids and field names),
// then the request is marked fulfilled and the requester told which fields changed on
// which record, never the values. A submission that changes nothing is refused, so a
// request is never "fulfilled" by an empty edit. The correction and the request's move
// are two transactions, as for deletion: if the second fails the records are already
// right and staff can close the request.
import type { Deps } from '../deps.ts';
import type { Inquiry, Person } from '../storage/types.ts';
import { inBatch } from '../unit-of-work.ts';
import { correctPerson, CorrectionError, type ChangedField, type InquiryField, type PersonField } from './correct-person.ts';
import { findPersonData } from './find-person-data.ts';
import { correctionMail } from './mail.ts';
import { recordEvent } from './request-events.ts';
import { ERASED_MARKER, findRequest, updateRequest, type RequestRow } from './store.ts';
import { RequestError, staffActor, type StaffActor } from './staff-actor.ts';

type CorrectDeps = Pick<Deps, 'storage' | 'now' | 'mailQueued' | 'signer' | 'policy'>;

function correctable(request: RequestRow | undefined): RequestRow {
  if (!request) throw new RequestError('not_found', 'no such request');
  if (request.type !== 'correction') throw new RequestError('invalid', 'this is not a correction request');
  if (request.requester_email === ERASED_MARKER) throw new RequestError('conflict', 'the requester was erased: their address is no longer held');
  if (!request.verified_at) throw new RequestError('conflict', 'the requester has not verified the address yet: nothing may be disclosed, changed or deleted');
  if (!['acknowledged', 'verifying', 'in_progress'].includes(request.status)) throw new RequestError('conflict', `the request is ${request.status.replace('_', ' ')}`);
  return request;
}

export interface CorrectionRecords {
  person: Person | undefined;
  inquiries: Inquiry[];
}

/** What the correction form shows: the requester's person row and inquiries (an audited staff read). */
export async function recordsToCorrect(deps: CorrectDeps, actor: StaffActor, requestId: string): Promise<CorrectionRecords> {
  const request = correctable(await findRequest(deps.storage.db, requestId));
  const data = await findPersonData(deps, { actor: `staff:${actor.staffAccountId}`, requestId: request.id, email: request.requester_email });
  return { person: data.person, inquiries: data.inquiries };
}

export interface CorrectRequestInput {
  requestId: string;
  person: Partial<Record<PersonField, string>>;
  inquiries: Record<string, Partial<Record<InquiryField, string>>>;
}

/**
 * Applies the correction and answers the request. Raises CorrectionError (bad values,
 * per field) or RequestError (not correctable, nothing held, nothing changed).
 */
export async function correctRequest(deps: CorrectDeps, actor: StaffActor, input: CorrectRequestInput): Promise<{ changed: ChangedField[] }> {
  const { person, inquiries } = await recordsToCorrect(deps, actor, input.requestId);
  if (!person) throw new RequestError('not_found', 'we hold no person record under the requester\'s address');
  const { changed } = await correctPerson(deps, { actor: `staff:${actor.staffAccountId}`, requestId: input.requestId, personId: person.id, person: input.person, inquiries: input.inquiries });
  if (changed.length === 0) throw new RequestError('invalid', 'every field still has the value it had, so nothing changed; edit a field, or refuse or close the request');
  // References never change with a correction: the ones read for the form name the records.
  const references = new Map(inquiries.map((i) => [i.id, i.reference]));
  try {
    await answer(deps, actor, input.requestId, person.id, changed, references);
  } catch (error) {
    // Closed, refused or answered by someone else meanwhile: the records are corrected.
    if (error instanceof RequestError) throw new AnsweredElsewhereError(error.message);
    throw error;
  }
  return { changed };
}

/** The records were corrected, but the request could no longer be answered. */
export class AnsweredElsewhereError extends RequestError {
  constructor(state: string) {
    super('conflict', `the records were corrected, but ${state} meanwhile, so the requester was not mailed: tell them yourself`);
  }
}

async function answer(deps: CorrectDeps, actor: StaffActor, requestId: string, personId: string, changed: ChangedField[], references: Map<string, string>): Promise<void> {
  await inBatch(deps, async (uow) => {
    const current = correctable(await findRequest(uow.trx, requestId));
    const at = uow.now.toISOString();
    await updateRequest(uow.trx, current.id, { status: 'fulfilled', fulfilled_at: at, updated_at: at });
    const outbox = uow.queueMail('privacy-request-correction', correctionMail(deps, current, changed, references), { personId });
    await recordEvent(uow, current.id, staffActor(actor), 'fulfilled', { from: current.status, changed: changed.length, fields: changed.map((c) => `${c.table}.${c.id}.${c.field}`).join(','), outbox });
  });
}

export { CorrectionError };
