// Carrying out a verified request with the erasure part's functions. Access: an expiring
// download link (14 days; keyed hash on the request) is mailed, and the package is built
// fresh from what is held at each download (access-package.ts audits every build).
// Deletion: erase-person.ts in its own transaction (it asks the retention engine for holds),
// then the request is marked fulfilled and the requester told what was deleted and what
// a hold keeps, and why. Correction has its own form and use case: correct-request.ts.
// Nothing runs for an unverified request. The request row itself outlives an erasure:
// it is the proof we answered (its own retention rule, privacy_requests), with the
// address and free text removed in the erasure's transaction once the answer is queued.
import { randomBytes } from 'node:crypto';
import type { Deps } from '../deps.ts';
import { inBatch } from '../unit-of-work.ts';
import { erasePerson } from './erase-person.ts';
import { accessLinkMail, erasureMail } from './mail.ts';
import { recordEvent } from './request-events.ts';
import { ERASED_MARKER, findRequest, updateRequest, type RequestRow } from './store.ts';
import { RequestError, staffActor, type StaffActor } from './staff-actor.ts';

/** The answer to a deletion request: the last thing that holds the address (until sent). */
export const ERASURE_ANSWER_MAIL = 'privacy-request-erasure';

export const PACKAGE_LINK_DAYS = 14;
const PACKAGE_LABEL = 'privacy-request-package';

export function packageHashes(deps: Pick<Deps, 'signer'>, token: string): string[] {
  return deps.signer.keyedHashes(PACKAGE_LABEL, token);
}

function ready(request: RequestRow | undefined): RequestRow {
  if (!request) throw new RequestError('not_found', 'no such request');
  if (request.requester_email === ERASED_MARKER) throw new RequestError('conflict', 'the requester was erased: their address is no longer held');
  if (!request.verified_at) throw new RequestError('conflict', 'the requester has not verified the address yet: nothing may be disclosed, changed or deleted');
  if (!['acknowledged', 'verifying', 'in_progress'].includes(request.status)) throw new RequestError('conflict', `the request is ${request.status.replace('_', ' ')}`);
  if (request.type === 'unspecified') throw new RequestError('invalid', 'set the request type first');
  if (request.type === 'correction') throw new RequestError('invalid', 'a correction is made with the correction form on the request\'s page');
  return request;
}

export async function fulfilRequest(deps: Pick<Deps, 'storage' | 'now' | 'mailQueued' | 'signer' | 'policy' | 'config'>, actor: StaffActor, input: { requestId: string }): Promise<{ type: 'access' | 'deletion' }> {
  const request = ready(await findRequest(deps.storage.db, input.requestId));
  if (request.type === 'access') {
    await inBatch(deps, async (uow) => {
      const current = ready(await findRequest(uow.trx, request.id));
      const token = randomBytes(32).toString('base64url');
      const expires = new Date(uow.now.getTime() + PACKAGE_LINK_DAYS * 86_400_000).toISOString();
      const at = uow.now.toISOString();
      await updateRequest(uow.trx, current.id, { status: 'fulfilled', fulfilled_at: at, package_token_hash: deps.signer.keyedHash(PACKAGE_LABEL, token), package_expires_at: expires, updated_at: at });
      const url = `${deps.config.publicUrl}/privacy/request/${current.id}/package/${token}`;
      const outbox = uow.queueMail('privacy-request-access', accessLinkMail(deps, current, url, PACKAGE_LINK_DAYS), { personId: current.person_id });
      await recordEvent(uow, current.id, staffActor(actor), 'fulfilled', { from: current.status, outbox, link_expires_at: expires });
    });
    return { type: 'access' };
  }
  // One transaction: the erasure, the request marked fulfilled, the answer queued to the
  // address, and only then the requester's requests redacted (erase-person.ts).
  await erasePerson(
    deps,
    { actor: `staff:${actor.staffAccountId}`, requestId: request.id, email: request.requester_email },
    async (uow, result) => {
      const current = ready(await findRequest(uow.trx, request.id));
      const at = uow.now.toISOString();
      await updateRequest(uow.trx, current.id, { status: 'fulfilled', fulfilled_at: at, person_id: null, updated_at: at });
      const erased = Object.values(result.erased).reduce((n, c) => n + c, 0);
      const kept = result.kept.reduce((n, k) => n + k.ids.length, 0);
      const outbox = uow.queueMail(ERASURE_ANSWER_MAIL, erasureMail(deps, current, result), {});
      await recordEvent(uow, current.id, staffActor(actor), 'fulfilled', { from: current.status, erased, kept, proof: result.proofId, outbox });
    },
  );
  return { type: 'deletion' };
}
