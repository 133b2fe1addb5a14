// TOTP secrets must be readable to check codes, so they cannot be hashed: they are kept
// sealed (AES-256-GCM) under a key derived from SECRET_KEY for this purpose alone, so a
// copy of the database without the secret key gives no working authenticator. The sealed
// text names its key; during a rotation the previous key still opens it, and a sign-in
// re-seals it under the current key.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Config } from '../config.ts';
import { keyId } from '../http/signing.ts';

type Keys = Pick<Config, 'secretKey' | 'previousSecretKey'>;

const sealKey = (secret: Buffer) => Buffer.from(hkdfSync('sha256', secret, 'lumetrax', 'purpose:staff-totp-seal', 32));

export function sealTotp(keys: Keys, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealKey(keys.secretKey), iv);
  const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', keyId(keys.secretKey), iv.toString('base64url'), sealed.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/** The plain secret, or undefined when no configured key opens it (or it was altered). */
export function openTotp(keys: Keys, sealed: string): string | undefined {
  const [version, kid, iv, data, tag] = sealed.split('.');
  if (version !== 'v1' || !tag) return undefined;
  const secret = kid === keyId(keys.secretKey) ? keys.secretKey : keys.previousSecretKey && kid === keyId(keys.previousSecretKey) ? keys.previousSecretKey : undefined;
  if (!secret) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealKey(secret), Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

export function sealedUnderCurrentKey(keys: Keys, sealed: string): boolean {
  return sealed.split('.')[1] === keyId(keys.secretKey);
}
