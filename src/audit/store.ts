import type { Kysely, Transaction } from 'kysely';
import type { AuditEntry, Database } from '../storage/types.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** Bumps the chain head; on PostgreSQL the row lock serialises concurrent writers. */
export async function claimNextSeq(db: Db): Promise<{ seq: number; prevHash: string }> {
  const row = await db
    .updateTable('audit_head')
    .set((eb) => ({ seq: eb('seq', '+', 1) }))
    .where('id', '=', 1)
    .returning(['seq', 'hash'])
    .executeTakeFirstOrThrow();
  return { seq: Number(row.seq), prevHash: row.hash };
}

export async function insertEntry(db: Db, entry: AuditEntry): Promise<void> {
  await db.insertInto('audit_log').values(entry).execute();
  await db.updateTable('audit_head').set({ hash: entry.hash }).where('id', '=', 1).execute();
}

export async function listEntries(db: Db, fromSeq = 0, limit = 1000): Promise<AuditEntry[]> {
  const rows = await db.selectFrom('audit_log').selectAll().where('seq', '>', fromSeq).orderBy('seq').limit(limit).execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}
