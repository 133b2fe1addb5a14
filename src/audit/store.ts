import type { Kysely, Transaction } from 'kysely';
import { insertChunks } from '../storage/insert-chunks.ts';
import type { AuditEntry, Database } from '../storage/types.ts';

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

/** Entries in chain order; the head then points at the last one. */
export async function insertEntries(db: Db, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  for (const chunk of insertChunks(entries, Object.keys(entries[0]).length)) {
    await db.insertInto('audit_log').values(chunk).execute();
  }
  await db.updateTable('audit_head').set({ hash: entries[entries.length - 1].hash }).where('id', '=', 1).execute();
}

export async function listEntries(db: Db, fromSeq = 0, limit = 1000): Promise<AuditEntry[]> {
  const rows = await db.selectFrom('audit_log').selectAll().where('seq', '>', fromSeq).orderBy('seq').limit(limit).execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}
