// Audit entries hold ids, actions and counts, never personal values. Each entry's hash
// covers the previous one, so editing or removing an entry breaks the chain.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../storage/types.ts';
import type { Collector } from '../storage/write-batcher.ts';
import { entryHash } from './hash.ts';
import { claimSeqs, insertEntries, listKeys, readHead } from './store.ts';
import { checkTrail, databaseTrail } from './verify.ts';

export interface AuditInput {
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  details?: Record<string, number | string | boolean>;
}


interface PendingEntry {
  at: Date;
  input: AuditInput;
}

/** Extends the chain by all entries at once: three statements however many there are. */
async function writeEntries(trx: Transaction<Database>, pending: PendingEntry[]): Promise<void> {
  const { firstSeq, prevHash } = await claimSeqs(trx, pending.length);
  let prev = prevHash;
  const entries = pending.map(({ at, input }, i) => {
    const base = {
      seq: firstSeq + i,
      at: at.toISOString(),
      actor: input.actor,
      action: input.action,
      entity_type: input.entityType,
      entity_id: input.entityId,
      details: JSON.stringify(input.details ?? {}),
      prev_hash: prev,
    };
    prev = entryHash(base);
    return { ...base, hash: prev };
  });
  await insertEntries(trx, entries);
}

/**
 * Entries reach the chain through this collector only: written with the rest of their
 * transaction's entries just before COMMIT, so the chain head is locked for the shortest
 * time and an entry stands or falls with the change it records.
 */
export const auditCollector: Collector<PendingEntry> = async (trx, pending) => {
  await writeEntries(trx, pending);
};

export type { PendingEntry };

export interface ChainCheck {
  ok: boolean;
  entries: number;
  brokenAt?: number;
}

/** The hash chain and its head alone (signatures: `verifyAuditTrail`). */
export async function verifyAuditChain(db: Kysely<Database>): Promise<ChainCheck> {
  const head = await readHead(db);
  const check = await checkTrail(databaseTrail(db, { signatures: false }, head, await listKeys(db)), []);
  const first = check.findings[0];
  return first ? { ok: false, entries: check.goodEntries, brokenAt: first.seq } : { ok: true, entries: check.entries };
}
