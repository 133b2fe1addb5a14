// The deletion log: what was deleted, by which rule, when, and how much, without the
// deleted data. Ids are kept only as keyed hashes (HMAC under a key of their own), so the
// log cannot be joined back to a person by anyone without the secret, yet a restore can
// recognise a row it must delete again by hashing the ids it restored.
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Signer } from '../http/signing.ts';
import type { Database } from '../storage/types.ts';
import { insertDeletionLog } from './store.ts';

export const DELETED_ID_LABEL = 'retention.deleted-id';

/** Keyed hashes (`kid:hex`) of deleted rows' ids, for `recordDeletion`. */
export function hashDeletedIds(signer: Signer, ids: Iterable<string>): string[] {
  return [...ids].map((id) => signer.keyedHash(DELETED_ID_LABEL, id));
}

export interface DeletionRecord {
  /** The retention rule id, or e.g. `erasure_request` for deletions outside a sweep. */
  rule: string;
  category: string;
  /** Rows deleted per table. */
  counts: Record<string, number>;
  /** From `hashDeletedIds`: never ids, names, addresses or text. */
  affectedIdHashes: string[];
  startedAt: string;
  finishedAt: string;
  /** The sweep this batch belongs to (none for an erasure). */
  runId?: string;
}

const KEYED_HASH = /^[A-Za-z0-9_-]{1,16}:[0-9a-f]{64}$/;
const NAME = /^[a-z][a-z0-9_.-]{0,63}$/;

/**
 * Appends one entry in the caller's transaction, so it exists exactly when the deletions
 * it describes do. Refuses anything that is not a keyed hash in place of one, so a raw id
 * or an address cannot slip into the log.
 */
export async function recordDeletion(trx: Transaction<Database> | Kysely<Database>, record: DeletionRecord): Promise<string> {
  if (!NAME.test(record.rule)) throw new Error('recordDeletion: rule must be a lower-case rule id');
  if (!NAME.test(record.category)) throw new Error('recordDeletion: category must be a lower-case category id');
  for (const [table, n] of Object.entries(record.counts)) {
    if (!NAME.test(table) || !Number.isInteger(n) || n < 0) throw new Error('recordDeletion: counts must map table names to whole numbers');
  }
  if (!record.affectedIdHashes.every((h) => KEYED_HASH.test(h))) throw new Error('recordDeletion: affectedIdHashes must be keyed hashes from hashDeletedIds');
  const id = randomUUID();
  await insertDeletionLog(trx, {
    id,
    run_id: record.runId ?? null,
    rule: record.rule,
    category: record.category,
    counts: JSON.stringify(record.counts),
    affected_id_hashes: JSON.stringify(record.affectedIdHashes),
    started_at: record.startedAt,
    finished_at: record.finishedAt,
  });
  return id;
}
