// Following the verification link. GET only looks (checkVerifyLink: mail scanners fetch
// links, so looking must change nothing); the button's POST verifies (verifyRequester).
// The token must be this request's, unexpired and unused; every failure reads the same
// to the visitor. Once verified, a duplicate of the same address and type that was
// verified and still open is merged with it: the later one is closed into the earlier
// (audited on both). Only verified requests are ever merged: an unverified one touches nothing.
import type { Deps } from '../deps.ts';
import { inTransaction } from '../unit-of-work.ts';
import { recordEvent } from './request-events.ts';
import { findRequest, updateRequest, verifiedTwins, type RequestRow } from './store.ts';
import { verifyHashes, wellFormedLink } from './verification.ts';

export type VerifyOutcome = { ok: true; reference: string; mergedInto?: string } | { ok: false };

function usable(deps: Pick<Deps, 'signer'>, request: RequestRow | undefined, token: string, now: Date): request is RequestRow {
  if (!request?.verify_token_hash || !request.verify_expires_at) return false;
  if (request.verify_expires_at <= now.toISOString()) return false;
  return verifyHashes(deps.signer, token).includes(request.verify_token_hash);
}

export async function checkVerifyLink(deps: Pick<Deps, 'storage' | 'signer' | 'now'>, requestId: string, token: string): Promise<VerifyOutcome> {
  if (!wellFormedLink(requestId, token)) return { ok: false };
  const request = await findRequest(deps.storage.db, requestId);
  return usable(deps, request, token, deps.now()) ? { ok: true, reference: request.reference } : { ok: false };
}

export async function verifyRequester(deps: Pick<Deps, 'storage' | 'signer' | 'now' | 'mailQueued'>, requestId: string, token: string): Promise<VerifyOutcome> {
  if (!wellFormedLink(requestId, token)) return { ok: false };
  return inTransaction(deps, async (uow) => {
    const request = await findRequest(uow.trx, requestId);
    if (!usable(deps, request, token, uow.now)) return { ok: false };
    const at = uow.now.toISOString();
    const next = request.status === 'verifying' || request.status === 'acknowledged' ? 'in_progress' : request.status;
    await updateRequest(uow.trx, request.id, {
      verified_at: at,
      // Single use: the hash is gone once it has served.
      verify_token_hash: null,
      verify_expires_at: null,
      status: next,
      in_progress_at: next !== request.status ? at : request.in_progress_at,
      updated_at: at,
    });
    await recordEvent(uow, request.id, { actor: 'requester' }, 'verified');
    if (next !== request.status) await recordEvent(uow, request.id, { actor: 'system' }, 'in_progress', { from: request.status });
    if (request.type === 'unspecified') return { ok: true, reference: request.reference };
    const [twin] = await verifiedTwins(uow.trx, request);
    if (!twin) return { ok: true, reference: request.reference };
    // The later of the two is closed into the earlier, whose clock started first.
    const [keep, drop] = twin.received_at <= request.received_at ? [twin, request] : [request, twin];
    await updateRequest(uow.trx, drop.id, { status: 'closed', closed_at: at, merged_into: keep.id, verify_token_hash: null, verify_expires_at: null, updated_at: at });
    await recordEvent(uow, drop.id, { actor: 'system' }, 'merged', { into: keep.id });
    await recordEvent(uow, keep.id, { actor: 'system' }, 'absorbed', { duplicate: drop.id });
    return { ok: true, reference: keep.reference, mergedInto: drop.id === request.id ? keep.id : undefined };
  });
}
