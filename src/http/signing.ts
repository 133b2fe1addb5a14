// HMAC signing for tokens that travel through the browser or email (form timestamps,
// unsubscribe links). Keyed hashes of addresses (suppression list) use the same key
// through a separate label so the two uses never collide.
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

export class Signer {
  // A KeyObject is imported once; a raw Buffer would be re-imported on every HMAC,
  // which cost most of the time of a form token check.
  private readonly key: KeyObject;
  constructor(key: Buffer) {
    this.key = createSecretKey(key);
  }

  mac(label: string, payload: string): string {
    return createHmac('sha256', this.key).update(label).update('\0').update(payload).digest('base64url');
  }

  sign(label: string, payload: string): string {
    return `${payload}.${this.mac(label, payload)}`;
  }

  /** Returns the payload when the signature is valid, else null. */
  verify(label: string, token: string): string | null {
    const dot = token.lastIndexOf('.');
    if (dot <= 0) return null;
    const payload = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.mac(label, payload));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    return payload;
  }

  keyedHash(label: string, value: string): string {
    return createHmac('sha256', this.key).update(label).update('\0').update(value).digest('hex');
  }
}
