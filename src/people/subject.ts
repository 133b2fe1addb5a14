// A person is found by the keyed hash of their normalised address (the subject key),
// never by the address itself, so the suppression list can outlive the person's row.
import type { Signer } from '../http/signing.ts';

// Named when only the marketing list used it; kept so hashes already stored still match.
const SUBJECT_LABEL = 'marketing-subject';

export function normaliseAddress(email: string): string {
  return email.trim().toLowerCase();
}

/** The subject key under the current key: what new rows are written with. */
export function subjectKey(signer: Signer, email: string): string {
  return signer.keyedHash(SUBJECT_LABEL, normaliseAddress(email));
}

/** Every form a stored subject key for this address can have (current, previous, pre-key-id). */
export function subjectKeys(signer: Signer, email: string): string[] {
  return signer.keyedHashes(SUBJECT_LABEL, normaliseAddress(email));
}
