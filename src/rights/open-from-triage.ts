// A privacy user turns a triage thread (mail nobody's inquiry or request holds) into a
// request: the first inbound message's sender becomes the requester, the clock starts
// when that mail arrived (not when staff noticed it), and the acknowledgement with its
// verification link goes out as for any request. Audited with the staff session.
import type { Deps } from '../deps.ts';
import { findThread as findThreadRow, messagesOfThread as findMessagesOfThread } from '../correspondence/store.ts';
import { findPerson } from '../people/store.ts';
import { inBatch } from '../unit-of-work.ts';
import { REQUEST_TYPES, UNSPECIFIED, type RequestType } from './due-dates.ts';
import { isJurisdiction } from './jurisdictions.ts';
import { openRequest } from './open-request.ts';
import { requestOfThread } from './store.ts';
import { RequestError, staffActor, type StaffActor } from './staff-actor.ts';

export async function openRequestFromTriage(
  deps: Pick<Deps, 'storage' | 'now' | 'mailQueued' | 'policy' | 'signer' | 'config'>,
  actor: StaffActor,
  input: { threadId: string; type: string; jurisdiction: string },
): Promise<{ requestId: string; reference: string }> {
  const type = input.type as RequestType;
  if (!([...REQUEST_TYPES, UNSPECIFIED] as string[]).includes(type)) throw new RequestError('invalid', 'choose a request type from the list');
  const jurisdiction = input.jurisdiction === UNSPECIFIED ? UNSPECIFIED : input.jurisdiction.trim().toUpperCase();
  if (!isJurisdiction(deps.policy, jurisdiction)) throw new RequestError('invalid', 'choose a jurisdiction from the list');
  return inBatch(deps, async (uow) => {
    const thread = await findThreadRow(uow.trx, input.threadId);
    if (!thread) throw new RequestError('not_found', 'no such thread');
    if (thread.inquiry_id) throw new RequestError('conflict', 'this thread belongs to an inquiry');
    if (await requestOfThread(uow.trx, thread.id)) throw new RequestError('conflict', 'this thread is already a privacy request');
    const first = (await findMessagesOfThread(uow.trx, thread.id)).find((m) => m.direction === 'in');
    const person = first?.from_person_id ? await findPerson(uow.trx, first.from_person_id) : undefined;
    const email = person?.email ?? first?.from_address;
    if (!first || !email) throw new RequestError('invalid', 'this thread has no sender we can answer');
    const opened = await openRequest(uow, deps, {
      email,
      type,
      jurisdiction,
      channel: 'triage',
      personId: person?.id ?? null,
      threadId: thread.id,
      inReplyTo: first.message_id,
      receivedAt: new Date(first.at),
      actor: staffActor(actor),
    });
    return { requestId: opened.requestId, reference: opened.reference };
  });
}
