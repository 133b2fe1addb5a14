// Opening the access package's link: the request's own, unexpired, for a fulfilled
// access request. The package is built from what is held now (access-package.ts audits
// the build) and the opening is recorded on the request.
import type { Deps } from '../deps.ts';
import { inBatch } from '../unit-of-work.ts';
import { buildAccessPackage, type AccessPackage } from './access-package.ts';
import { packageHashes } from './fulfil-request.ts';
import { recordEvent } from './request-events.ts';
import { ERASED_MARKER, findRequest } from './store.ts';
import { wellFormedLink } from './verification.ts';

export async function openPackage(deps: Pick<Deps, 'storage' | 'now' | 'mailQueued' | 'signer' | 'policy'>, requestId: string, token: string): Promise<AccessPackage | undefined> {
  if (!wellFormedLink(requestId, token)) return undefined;
  const request = await findRequest(deps.storage.db, requestId);
  if (!request || request.type !== 'access' || !request.package_token_hash || !request.package_expires_at) return undefined;
  if (request.package_expires_at <= deps.now().toISOString()) return undefined;
  // The requester was erased since: there is no address left to build a package for.
  if (request.requester_email === ERASED_MARKER) return undefined;
  if (!packageHashes(deps, token).includes(request.package_token_hash)) return undefined;
  const pkg = await buildAccessPackage(deps, { actor: 'requester', requestId: request.id, email: request.requester_email });
  await inBatch(deps, (uow) => recordEvent(uow, request.id, { actor: 'requester' }, 'package_opened'));
  return pkg;
}
