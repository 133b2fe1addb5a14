// Signs the audit chain head with the Ed25519 audit key, on a cadence (the job
// `audit.sign-head`) and at shutdown. A signature fixes the hash the chain had at a seq:
// cutting the tail off (with the head rolled back) or recomputing the chain from an
// edited entry can then no longer pass `lumetrax audit verify`.
import { sign, verify, type KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../storage/types.ts';
import { keyId, publicKeyPem } from './signing-key.ts';
import { endorseKey, insertKey, insertSignature, listKeys, readHead } from './store.ts';

export const AUDIT_SIGN_JOB = 'audit.sign-head';

/** What a head signature covers: seq, the head's hash at that seq, when, and which key. */
export function headMessage(seq: number, hash: string, signedAt: string, kid: string): Buffer {
  return Buffer.from(JSON.stringify(['lumetrax.audit-head.v1', seq, hash, signedAt, kid]));
}

/** What an endorsement covers: the key vouched for, by id and public key. */
export function keyMessage(kid: string, publicKey: string): Buffer {
  return Buffer.from(JSON.stringify(['lumetrax.audit-key.v1', kid, publicKey]));
}

export const signBytes = (key: KeyObject, message: Buffer): string => sign(null, message, key).toString('base64');

export function verifyBytes(publicKey: KeyObject, message: Buffer, signature: string): boolean {
  try {
    return verify(null, message, publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/**
 * Keeps this key's public half beside the chain. The first time a key signs, it vouches
 * for the keys before it that nobody vouched for yet (the key it replaces), so the chain of
 * keys leads back from the current one and a key merely inserted in the table is not trusted.
 */
export async function registerKey(db: Kysely<Database>, privateKey: KeyObject, now: Date): Promise<string> {
  const kid = keyId(privateKey);
  const known = await listKeys(db);
  if (known.some((k) => k.key_id === kid)) return kid;
  await db.transaction().execute(async (trx) => {
    const inserted = await insertKey(trx, { key_id: kid, public_key: publicKeyPem(privateKey), created_at: now.toISOString(), endorsed_by: null, endorsement: null });
    if (!inserted) return;
    for (const old of known) {
      if (old.endorsed_by !== null || old.key_id === kid) continue;
      await endorseKey(trx, old.key_id, kid, signBytes(privateKey, keyMessage(old.key_id, old.public_key)));
    }
  });
  return kid;
}

/** Signs the current head unless it is empty or this key already signed that seq. */
export async function signAuditHead(db: Kysely<Database>, privateKey: KeyObject, now: Date): Promise<{ signed: number; seq: number }> {
  const kid = await registerKey(db, privateKey, now);
  const head = await readHead(db);
  if (!head || head.seq === 0) return { signed: 0, seq: 0 };
  const signedAt = now.toISOString();
  const inserted = await insertSignature(db, {
    seq: head.seq,
    key_id: kid,
    hash: head.hash,
    signed_at: signedAt,
    signature: signBytes(privateKey, headMessage(head.seq, head.hash, signedAt, kid)),
  });
  return { signed: inserted ? 1 : 0, seq: head.seq };
}
