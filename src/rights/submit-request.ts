// A request from the public form, in one group-committed unit of work: the request, its
// acknowledgement (with the verification link) and the history, or nothing.
import type { Deps } from '../deps.ts';
import { inBatch } from '../unit-of-work.ts';
import { openRequest } from './open-request.ts';
import type { CleanRequest } from './validate-request.ts';

export async function submitRequest(deps: Pick<Deps, 'storage' | 'now' | 'mailQueued' | 'policy' | 'signer' | 'config'>, input: { request: CleanRequest; submissionKey: string }) {
  return inBatch(deps, (uow) =>
    openRequest(uow, deps, {
      email: input.request.email,
      type: input.request.type,
      jurisdiction: input.request.jurisdiction,
      message: input.request.message,
      channel: 'form',
      submissionKey: input.submissionKey,
      actor: { actor: 'requester' },
    }),
  );
}
