// Audit entries hold ids, actions and counts, never personal values. Each entry's hash
// covers the previous one, so editing or removing an entry breaks the chain.
import type { Kysely, Transaction } from 'kysely';
import { isPostgres } from '../storage/insert-rows.ts';
import type { AuditEntry, Database } from '../storage/types.ts';
import type { Collector } from '../storage/write-batcher.ts';
import { entryHash } from './hash.ts';
import { claimSeqs, insertEntries, insertEntriesAtHead, listKeys, readHead } from './store.ts';
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

/** The entries for `pending`, chained from the entry `firstSeq - 1` whose hash is `prevHash`. */
function chainFrom(pending: PendingEntry[], firstSeq: number, prevHash: string): AuditEntry[] {
  let prev = prevHash;
  return pending.map(({ at, input }, i) => {
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
}

/**
 * The chain head as this process expects to find it: the end of the entries it last
 * wrote. A guess, checked by the statement that relies on it, so a head moved by another
 * instance, or left by a batch that was then rolled back, costs one statement and is
 * never written over. One value for the process, whatever the database.
 */
let expectedHead: { seq: number; hash: string } | undefined;
const headAfter = (entries: AuditEntry[]) => ({ seq: entries[entries.length - 1].seq, hash: entries[entries.length - 1].hash });
/** Settles when the batch before has its entries in (and so holds the head's lock). */
let previousTurn: Promise<void> = Promise.resolve();

/**
 * Extends the chain by all entries at once. On PostgreSQL the head's row lock is held
 * from the first statement that touches it to COMMIT. Batches of this process take
 * turns: each sends its entries once the batch before has written its own (so holds the
 * lock), chained from where that batch leaves the head, as one statement that checks the
 * head. That statement waits in the server for the batch before to commit and runs at
 * once, so the lock passes from COMMIT to the next batch without a round trip, and is
 * held for one statement and a COMMIT instead of a claim, the hashing in between and the
 * insert. Without a guess, or with a wrong one: claim, hash, insert.
 */
async function writeEntries(trx: Transaction<Database>, pending: PendingEntry[]): Promise<void> {
  if (!isPostgres(trx)) {
    const { firstSeq, prevHash } = await claimSeqs(trx, pending.length);
    await insertEntries(trx, chainFrom(pending, firstSeq, prevHash));
    return;
  }
  const before = previousTurn;
  let done!: () => void;
  previousTurn = new Promise((resolve) => (done = resolve));
  try {
    await before;
    const guess = expectedHead;
    expectedHead = undefined;
    if (guess) {
      const entries = chainFrom(pending, guess.seq + 1, guess.hash);
      if (await insertEntriesAtHead(trx, guess, entries)) {
        expectedHead = headAfter(entries);
        return;
      }
    }
    const { firstSeq, prevHash } = await claimSeqs(trx, pending.length);
    const entries = chainFrom(pending, firstSeq, prevHash);
    await insertEntries(trx, entries);
    expectedHead = headAfter(entries);
  } finally {
    done();
  }
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
