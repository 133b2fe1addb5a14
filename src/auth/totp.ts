// TOTP (RFC 6238: SHA-1, 6 digits, 30 s) with otpauth; the QR code is drawn as inline
// SVG on our own page (no image request, nothing sent elsewhere).
import { Secret, TOTP } from 'otpauth';

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totp(secret: string, issuer: string, label: string): TOTP {
  return new TOTP({ issuer, label, secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });
}

export function totpUri(secret: string, issuer: string, label: string): string {
  return totp(secret, issuer, label).toString();
}

/**
 * The time step of `code` when it is valid at `now` (one step of clock drift either
 * way), else undefined. The caller refuses a step not after the last one used.
 */
export function totpStep(secret: string, code: string, now: Date): number | undefined {
  const token = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(token)) return undefined;
  const delta = totp(secret, 'x', 'x').validate({ token, timestamp: now.getTime(), window: 1 });
  if (delta === null) return undefined;
  return Math.floor(now.getTime() / 30_000) + delta;
}

/** An SVG string; our html`` escapes, so the caller marks it safe (it is generated, not input). */
export async function qrSvg(text: string): Promise<string> {
  // Loaded on first use: only set-up pages draw a QR code.
  const { default: QRCode } = await import('qrcode');
  const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return svg.replace('<svg ', '<svg role="img" aria-label="QR code for your authenticator app" width="200" height="200" ');
}
