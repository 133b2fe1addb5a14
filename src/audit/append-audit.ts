// Audit entries hold ids, actions and counts, never personal values. Each entry's hash
// covers the previous one, so editing or removing an entry breaks the chain.
import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { AuditEntry, Database } from '../storage/types.ts';
import type { Collector } from '../storage/write-batcher.ts';
import { claimSeqs, insertEntries, listEntries } from './store.ts';

export interface AuditInput {
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  details?: Record<string, number | string | boolean>;
}

function entryHash(e: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256')
    .update(JSON.stringify([e.seq, e.at, e.actor, e.action, e.entity_type, e.entity_id, e.details, e.prev_hash]))
    .digest('hex');
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

export async function verifyAuditChain(db: Kysely<Database>): Promise<ChainCheck> {
  let prev = '0'.repeat(64);
  let count = 0;
  let from = 0;
  for (;;) {
    const batch = await listEntries(db, from, 1000);
    if (batch.length === 0) break;
    for (const e of batch) {
      const { hash, ...rest } = e;
      if (e.prev_hash !== prev || entryHash(rest) !== hash) return { ok: false, entries: count, brokenAt: e.seq };
      prev = hash;
      count++;
      from = e.seq;
    }
  }
  const head = await db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();
  if (!head || Number(head.seq) !== from || head.hash !== prev) return { ok: false, entries: count, brokenAt: from + 1 };
  return { ok: true, entries: count };
}
