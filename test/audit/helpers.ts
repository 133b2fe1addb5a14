// Shared by the audit tests: a fresh Ed25519 key and audited entries written through the unit of work.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Storage } from '../../src/storage/db.ts';
import { inTransaction } from '../../src/unit-of-work.ts';

export function newKey(): { privateKey: KeyObject; pem: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { privateKey, pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
}

export const at = (minute: number) => new Date(Date.UTC(2026, 10, 29, 12, minute));

/** Entries `from` to `to`, each in a transaction of its own (ids and counts only). */
export async function appendEntries(storage: Storage, from: number, to: number): Promise<void> {
  for (let i = from; i <= to; i++) {
    await inTransaction({ storage, now: () => at(i), mailQueued: () => undefined }, async (uow) =>
      uow.audit({ actor: 'test', action: 'thing.done', entityType: 'thing', entityId: `t${i}`, details: { n: i } }),
    );
  }
}
