import type { Signer } from '../http/signing.ts';

/** A keyed hash of the normalised address: identifies a person on the suppression list without storing the address. */
export function subjectKey(signer: Signer, email: string): string {
  return signer.keyedHash('marketing-subject', email.trim().toLowerCase());
}

const UNSUBSCRIBE = 'unsubscribe';

export function unsubscribeToken(signer: Signer, consentRecordId: string): string {
  return signer.sign(UNSUBSCRIBE, consentRecordId);
}

export function readUnsubscribeToken(signer: Signer, token: string): string | null {
  if (token.length > 200) return null;
  return signer.verify(UNSUBSCRIBE, token);
}
