// Signed links in consent mail: unsubscribe (a consent record id) and the confirmation
// of a fresh opt-in (a pending confirmation id). Each has its own key purpose.
import type { Signer } from '../http/signing.ts';

const UNSUBSCRIBE = 'unsubscribe';
const CONFIRM = 'consent-confirm';
const MAX_TOKEN_LENGTH = 200;

export function unsubscribeToken(signer: Signer, consentRecordId: string): string {
  return signer.sign(UNSUBSCRIBE, consentRecordId);
}

export function readUnsubscribeToken(signer: Signer, token: string): string | null {
  if (token.length > MAX_TOKEN_LENGTH) return null;
  return signer.verify(UNSUBSCRIBE, token);
}

export function confirmationToken(signer: Signer, confirmationId: string): string {
  return signer.sign(CONFIRM, confirmationId);
}

export function readConfirmationToken(signer: Signer, token: string): string | null {
  if (token.length > MAX_TOKEN_LENGTH) return null;
  return signer.verify(CONFIRM, token);
}
