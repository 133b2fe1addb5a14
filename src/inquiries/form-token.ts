// A signed timestamp in the form: proves the form came from us and how long it has been
// open, without a cookie. Its hash is also the submission's idempotency key.
import { createHash, randomBytes } from 'node:crypto';
import type { Signer } from '../http/signing.ts';

const LABEL = 'form-token';

export function issueFormToken(signer: Signer, form: string, now: Date): string {
  return signer.sign(LABEL, `${form}~${now.getTime()}~${randomBytes(9).toString('base64url')}`);
}

export type TokenCheck =
  | { ok: true; submissionKey: string }
  | { ok: false; reason: 'missing' | 'invalid' | 'too_fast' | 'expired' };

export function checkFormToken(
  signer: Signer,
  token: unknown,
  form: string,
  now: Date,
  limits: { minFillSeconds: number; maxAgeHours: number },
): TokenCheck {
  if (typeof token !== 'string' || token === '') return { ok: false, reason: 'missing' };
  if (token.length > 200) return { ok: false, reason: 'invalid' };
  const payload = signer.verify(LABEL, token);
  if (!payload) return { ok: false, reason: 'invalid' };
  const [tokenForm, issuedAt] = payload.split('~');
  if (tokenForm !== form) return { ok: false, reason: 'invalid' };
  const ageMs = now.getTime() - Number(issuedAt);
  if (!Number.isFinite(ageMs) || ageMs < -60_000) return { ok: false, reason: 'invalid' };
  if (ageMs < limits.minFillSeconds * 1000) return { ok: false, reason: 'too_fast' };
  if (ageMs > limits.maxAgeHours * 3600_000) return { ok: false, reason: 'expired' };
  return { ok: true, submissionKey: createHash('sha256').update(token).digest('hex') };
}

/**
 * What a visitor reads when a public form's token fails. The honeypot answer reads exactly
 * like a forged token's, so a bot learns nothing about which check it tripped; a person
 * whose browser filled the trap sends again.
 */
export const sendAgain = 'We could not verify that this form came from our website. Please check your details and send it again.';
export const tokenMessages = {
  missing: sendAgain,
  invalid: sendAgain,
  too_fast: 'That was quicker than we expected. Please check your details, then send the form again.',
  expired: 'This form was open for a long time. Please check your details and send it again.',
} as const;
