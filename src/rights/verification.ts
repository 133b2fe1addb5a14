// The requester's proof that the address is theirs: a random 256-bit token in a link,
// stored only as a keyed hash (HMAC under a key derived for this purpose), valid for
// VERIFY_LINK_DAYS, for one request (its id is in the link too) and for one use.
import type { Signer } from '../http/signing.ts';

export const VERIFY_LINK_DAYS = 14;
const LABEL = 'privacy-request-verify';

export function verifyHash(signer: Signer, token: string): string {
  return signer.keyedHash(LABEL, token);
}

/** Every form a stored hash of this token can have (current key, previous key). */
export function verifyHashes(signer: Signer, token: string): string[] {
  return signer.keyedHashes(LABEL, token);
}

export function verifyUrl(publicUrl: string, requestId: string, token: string): string {
  return `${publicUrl}/privacy/request/${requestId}/verify/${token}`;
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function wellFormedLink(requestId: string, token: string): boolean {
  return UUID.test(requestId) && TOKEN.test(token);
}
