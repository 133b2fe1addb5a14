import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import { cachedText, insertRows, isPostgres, jsonInsertText } from '../storage/insert-rows.ts';
import { prepared } from '../storage/pg-prepared.ts';
import type { AuditEntry, AuditKeyTable, AuditSignatureTable, Database } from '../storage/types.ts';

export type AuditKey = AuditKeyTable;
export type AuditSignature = AuditSignatureTable;

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Reserves `count` sequence numbers at the chain head and returns the first with the hash
 * it must chain from. On PostgreSQL the row lock serialises writers until COMMIT.
 */
export async function claimSeqs(db: Db, count: number): Promise<{ firstSeq: number; prevHash: string }> {
  const row = await db
    .updateTable('audit_head')
    .set((eb) => ({ seq: eb('seq', '+', count) }))
    .where('id', '=', 1)
    .returning(['seq', 'hash'])
    .executeTakeFirstOrThrow();
  return { firstSeq: Number(row.seq) - count + 1, prevHash: row.hash };
}

/**
 * Entries in chain order; the head then points at the last one. The chain head stays
 * locked from `claimSeqs` to COMMIT, so on PostgreSQL the entries and the head update go
 * as one statement (a data-modifying WITH, the entries as one JSON parameter): one round
 * trip less under the lock, and one prepared text for any number of entries.
 */
export async function insertEntries(db: Db, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const head = entries[entries.length - 1].hash;
  if (isPostgres(db)) {
    const columns = Object.keys(entries[0]) as Array<keyof AuditEntry & string>;
    const text = cachedText(`audit+head|${columns.join(',')}`, () => prepared(`with entries as (${jsonInsertText('audit_log', columns)} returning seq) update audit_head set hash = $2 where id = 1`));
    await db.executeQuery(CompiledQuery.raw(text, [JSON.stringify(entries), head]));
    return;
  }
  await insertRows(db, 'audit_log', entries);
  await db.updateTable('audit_head').set({ hash: head }).where('id', '=', 1).execute();
}

/**
 * PostgreSQL: the entries and the new head in one statement, provided the head is still
 * `expected` (else nothing is written and the answer is false). The update waits for
 * the head's row lock like `claimSeqs`, then compares the head as the transaction it
 * waited for committed it: the comparison sits in SET, not WHERE, because a WHERE is
 * first tested on the row as it was when the statement began, and a row that failed it
 * then is skipped without waiting. On a mismatch the head is rewritten unchanged (and
 * stays locked for the claim that follows).
 */
export async function insertEntriesAtHead(db: Db, expected: { seq: number; hash: string }, entries: AuditEntry[]): Promise<boolean> {
  const last = entries[entries.length - 1];
  const columns = Object.keys(entries[0]) as Array<keyof AuditEntry & string>;
  const text = cachedText(`audit-at-head|${columns.join(',')}`, () => {
    const list = columns.map((c) => `"${c}"`).join(', ');
    const found = 'seq = $4 and hash = $5';
    return prepared(`with head as (
        update audit_head set seq = case when ${found} then $2 else seq end, hash = case when ${found} then $3 else hash end
        where id = 1 returning seq = $2 and hash = $3 as moved),
      entries as (insert into audit_log (${list}) select ${list} from json_populate_recordset(null::audit_log, $1::json) where (select moved from head))
      select moved from head`);
  });
  const result = await db.executeQuery<{ moved: boolean }>(CompiledQuery.raw(text, [JSON.stringify(entries), last.seq, last.hash, expected.seq, expected.hash]));
  return result.rows[0]?.moved === true;
}

export async function listEntries(db: Db, fromSeq = 0, limit = 1000): Promise<AuditEntry[]> {
  const rows = await db.selectFrom('audit_log').selectAll().where('seq', '>', fromSeq).orderBy('seq').limit(limit).execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

/** Signatures in (seq, key_id) order, one page after the given position. */
export async function listSignatures(db: Db, after: { seq: number; keyId: string } | undefined, limit = 1000): Promise<AuditSignature[]> {
  let q = db.selectFrom('audit_signature').selectAll();
  if (after) q = q.where((eb) => eb.or([eb('seq', '>', after.seq), eb.and([eb('seq', '=', after.seq), eb('key_id', '>', after.keyId)])]));
  const rows = await q.orderBy('seq').orderBy('key_id').limit(limit).execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

export async function listKeys(db: Db): Promise<AuditKey[]> {
  return db.selectFrom('audit_key').selectAll().orderBy('created_at').orderBy('key_id').execute();
}

export async function readHead(db: Db): Promise<{ seq: number; hash: string } | undefined> {
  const head = await db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();
  return head && { seq: Number(head.seq), hash: head.hash };
}

/** False when the key was already there (another instance, or an earlier run). */
export async function insertKey(db: Db, key: AuditKey): Promise<boolean> {
  const result = await db.insertInto('audit_key').values(key).onConflict((oc) => oc.column('key_id').doNothing()).executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

export async function endorseKey(db: Db, keyId: string, endorsedBy: string, endorsement: string): Promise<void> {
  await db.updateTable('audit_key').set({ endorsed_by: endorsedBy, endorsement }).where('key_id', '=', keyId).where('endorsed_by', 'is', null).execute();
}

/** False when this key already signed this seq. */
export async function insertSignature(db: Db, signature: AuditSignature): Promise<boolean> {
  const result = await db.insertInto('audit_signature').values(signature).onConflict((oc) => oc.columns(['seq', 'key_id']).doNothing()).executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

export interface AuditFilters {
  action?: string;
  actor?: string;
  entityType?: string;
  entityId?: string;
  /** Entries at or after this instant (ISO). */
  from?: string;
  /** Entries before this instant (ISO). */
  to?: string;
}

/** Newest first, keyset-paginated on seq: a page of entries before `beforeSeq`. */
export async function browseEntries(db: Db, filters: AuditFilters, beforeSeq: number | undefined, limit: number): Promise<AuditEntry[]> {
  let q = db.selectFrom('audit_log').selectAll();
  if (filters.action) q = q.where('action', '=', filters.action);
  if (filters.actor) q = q.where('actor', '=', filters.actor);
  if (filters.entityType) q = q.where('entity_type', '=', filters.entityType);
  if (filters.entityId) q = q.where('entity_id', '=', filters.entityId);
  if (filters.from) q = q.where('at', '>=', filters.from);
  if (filters.to) q = q.where('at', '<', filters.to);
  if (beforeSeq !== undefined) q = q.where('seq', '<', beforeSeq);
  const rows = await q.orderBy('seq', 'desc').limit(limit).execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

