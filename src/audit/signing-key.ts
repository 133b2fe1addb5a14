// The Ed25519 key that signs the audit chain head. It comes from AUDIT_SIGNING_KEY (PEM or
// base64 PKCS#8) or from data/audit-signing.key, created owner-only on first start. A key
// is named by its id, derived from the public key, so signatures say which key made them
// and a rotated key's signatures stay checkable with its kept public key.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../config.ts';

export const AUDIT_KEY_FILE = 'data/audit-signing.key';
const HOW_TO_MAKE = 'make one with `openssl genpkey -algorithm ed25519`';

/** Reads a PEM or a base64 PKCS#8 (DER) private key; undefined when it is neither. */
function parsePrivateKey(text: string): KeyObject | undefined {
  // Env files often carry a PEM on one line with literal \n.
  const pem = text.includes('\\n') ? text.replace(/\\n/g, '\n') : text;
  try {
    if (pem.includes('-----BEGIN')) return createPrivateKey({ key: pem, format: 'pem' });
    const der = Buffer.from(text.replace(/\s+/g, ''), 'base64');
    if (der.length === 0) return undefined;
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch {
    return undefined;
  }
}

/** The key, or a ConfigError naming where it came from and what is expected. */
export function readSigningKey(text: string, source: string): KeyObject {
  const key = parsePrivateKey(text.trim());
  if (!key) throw new ConfigError(`${source}: not a private key in PEM or base64 PKCS#8 form; ${HOW_TO_MAKE}`);
  if (key.asymmetricKeyType !== 'ed25519') throw new ConfigError(`${source}: an Ed25519 key is needed, this is ${key.asymmetricKeyType ?? 'not an asymmetric key'}; ${HOW_TO_MAKE}`);
  return key;
}

/**
 * The setting when given, else the key file (created 0600 when missing). A new file is
 * written aside and linked into place, so instances starting together never read half a key.
 */
export function loadAuditSigningKey(explicit: string | undefined, root: string): KeyObject {
  if (explicit) return readSigningKey(explicit, 'AUDIT_SIGNING_KEY');
  const file = resolve(root, AUDIT_KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(temp, pem, { mode: 0o600 });
    try {
      linkSync(temp, file);
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(temp);
    }
  }
  // A private key readable by others is no longer ours alone: tighten it.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return readSigningKey(readFileSync(file, 'utf8'), file);
}

export function publicKeyPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'pem', type: 'spki' }).toString();
}

/** 16 hex characters of the SHA-256 of the public key (SPKI DER). */
export function keyId(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(pub.export({ format: 'der', type: 'spki' }) as Buffer).digest('hex').slice(0, 16);
}

/** A public key from PEM text, or undefined. */
export function readPublicKey(pem: string): KeyObject | undefined {
  try {
    const key = createPublicKey({ key: pem, format: 'pem' });
    return key.asymmetricKeyType === 'ed25519' ? key : undefined;
  } catch {
    return undefined;
  }
}
