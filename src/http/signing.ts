// Keys for everything that travels through a browser or email (form tokens, receipts,
// unsubscribe and confirmation links) and for keyed hashes of addresses (the subject
// key, the suppression list, rate-limit keys).
//
// One secret, many keys: each purpose gets its own key, derived with HKDF-SHA256 and the
// purpose as label, so a token for one purpose can never pass as another and no key is
// used for two things. Every token starts with the id of the key that signed it, so when
// SECRET_KEY is rotated (the old one moved to SECRET_KEY_PREVIOUS) links already sent keep
// working until the previous key is removed.
//
// Tokens and hashes made before key ids existed (an HMAC straight from the secret, label
// first) are still accepted, from either key, so links already in people's mailboxes and
// suppression entries already stored keep working.
import { createHash, createHmac, createSecretKey, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';

interface SecretKeys {
  id: string;
  secret: Buffer;
  /** The secret as a key object, for the pre-key-id scheme. */
  legacy: KeyObject;
  derived: Map<string, KeyObject>;
}

/** A short public id of a secret: lets a token name its key without revealing it. */
export function keyId(secret: Buffer): string {
  return createHash('sha256').update('lumetrax key id\0').update(secret).digest('base64url').slice(0, 6);
}

function keysOf(secret: Buffer): SecretKeys {
  return { id: keyId(secret), secret, legacy: createSecretKey(secret), derived: new Map() };
}

function derive(keys: SecretKeys, label: string): KeyObject {
  let key = keys.derived.get(label);
  if (!key) {
    key = createSecretKey(Buffer.from(hkdfSync('sha256', keys.secret, 'lumetrax', `purpose:${label}`, 32)));
    keys.derived.set(label, key);
  }
  return key;
}

function hmac(key: KeyObject, parts: string[], encoding: 'hex' | 'base64url'): string {
  const mac = createHmac('sha256', key);
  parts.forEach((part, i) => {
    if (i > 0) mac.update('\0');
    mac.update(part);
  });
  return mac.digest(encoding);
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class Signer {
  private readonly current: SecretKeys;
  private readonly previous: SecretKeys | undefined;

  constructor(secret: Buffer, previousSecret?: Buffer) {
    this.current = keysOf(secret);
    this.previous = previousSecret ? keysOf(previousSecret) : undefined;
  }

  get currentKeyId(): string {
    return this.current.id;
  }

  private keysById(id: string): SecretKeys | undefined {
    if (id === this.current.id) return this.current;
    if (this.previous && id === this.previous.id) return this.previous;
    return undefined;
  }

  /** `kid.payload.mac`: the payload must not contain a dot. */
  sign(label: string, payload: string): string {
    if (payload.includes('.')) throw new Error('signed payloads may not contain "."');
    return `${this.current.id}.${payload}.${hmac(derive(this.current, label), [payload], 'base64url')}`;
  }

  /** Returns the payload when the signature is valid under the current or previous key, else null. */
  verify(label: string, token: string): string | null {
    const parts = token.split('.');
    if (parts.length === 3) {
      const [id, payload, given] = parts;
      const keys = this.keysById(id);
      if (!keys || payload === '') return null;
      return sameText(given, hmac(derive(keys, label), [payload], 'base64url')) ? payload : null;
    }
    if (parts.length === 2) {
      // Issued before key ids: an HMAC over label and payload with the secret itself.
      const [payload, given] = parts;
      if (payload === '') return null;
      for (const keys of [this.current, this.previous]) {
        if (keys && sameText(given, hmac(keys.legacy, [label, payload], 'base64url'))) return payload;
      }
    }
    return null;
  }

  /** A keyed hash under the current key, as `kid:hex`. */
  keyedHash(label: string, value: string): string {
    return `${this.current.id}:${hmac(derive(this.current, label), [value], 'hex')}`;
  }

  /**
   * Every form the value's keyed hash can have in stored data: under the current and
   * previous keys, and the pre-key-id form. Lookups match any of them.
   */
  keyedHashes(label: string, value: string): string[] {
    const out = [this.keyedHash(label, value)];
    if (this.previous) out.push(`${this.previous.id}:${hmac(derive(this.previous, label), [value], 'hex')}`);
    for (const keys of [this.current, this.previous]) {
      if (keys) out.push(hmac(keys.legacy, [label, value], 'hex'));
    }
    return out;
  }

  /** True when a stored keyed hash was made with the current key. */
  isCurrent(hash: string): boolean {
    return hash.startsWith(`${this.current.id}:`);
  }
}
