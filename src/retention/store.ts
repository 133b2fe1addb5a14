// Retention's SQL: holds, the deletion log and sweep runs. (The sweep's own deletions
// are in sweep-store.ts.)
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, DeletionLogTable, RetentionHoldTable, RetentionRunTable } from '../storage/types.ts';

type Db = Kysely<Database> | Transaction<Database>;
export type HoldRow = Selectable<RetentionHoldTable>;
export type DeletionLogRow = Selectable<DeletionLogTable>;
export type RunRow = Selectable<RetentionRunTable>;

/** Holds in force at `now`: not lifted, and a contract not yet past its end. */
export async function activeHolds(db: Db, now: string, where: { persons?: string[]; inquiries?: string[]; domains?: string[] } = {}): Promise<HoldRow[]> {
  let q = db
    .selectFrom('retention_hold')
    .selectAll()
    .where('lifted_at', 'is', null)
    .where((eb) => eb.or([eb('until', 'is', null), eb('until', '>', now)]));
  const { persons, inquiries, domains } = where;
  if (persons || inquiries || domains) {
    // Asked about nothing in particular (empty lists): nothing is covered.
    if (!persons?.length && !inquiries?.length && !domains?.length) return [];
    q = q.where((eb) =>
      eb.or([
        ...(persons?.length ? [eb.and([eb('scope', '=', 'person'), eb('scope_id', 'in', persons)])] : []),
        ...(inquiries?.length ? [eb.and([eb('scope', '=', 'inquiry'), eb('scope_id', 'in', inquiries)])] : []),
        ...(domains?.length ? [eb.and([eb('scope', '=', 'domain'), eb('scope_id', 'in', domains)])] : []),
      ]),
    );
  }
  return q.orderBy('placed_at').orderBy('id').execute();
}

export async function listHoldRows(db: Db, includeLifted: boolean): Promise<HoldRow[]> {
  let q = db.selectFrom('retention_hold').selectAll();
  if (!includeLifted) q = q.where('lifted_at', 'is', null);
  return q.orderBy('placed_at', 'desc').orderBy('id').execute();
}

export async function findHoldRow(db: Db, id: string): Promise<HoldRow | undefined> {
  return db.selectFrom('retention_hold').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertHold(trx: Transaction<Database>, row: HoldRow): Promise<void> {
  await trx.insertInto('retention_hold').values(row).execute();
}

/** Lifts a hold still in place; false when it was lifted already. */
export async function markHoldLifted(trx: Transaction<Database>, id: string, by: string, at: string): Promise<boolean> {
  const r = await trx.updateTable('retention_hold').set({ lifted_by: by, lifted_at: at }).where('id', '=', id).where('lifted_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function personExists(db: Db, id: string): Promise<boolean> {
  return !!(await db.selectFrom('person').select('id').where('id', '=', id).executeTakeFirst());
}

/** An inquiry by id or by its reference (what staff see). */
export async function findInquiryId(db: Db, idOrReference: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('inquiry')
    .select('id')
    .where((eb) => eb.or([eb('id', '=', idOrReference), eb('reference', '=', idOrReference)]))
    .executeTakeFirst();
  return row?.id;
}

/** Ids of the people whose address is at one of these domains (domain holds cover them). */
export async function personIdsAtDomains(db: Db, domains: string[]): Promise<string[]> {
  if (domains.length === 0) return [];
  const rows = await db
    .selectFrom('person')
    .select('id')
    .where((eb) => eb.or(domains.map((d) => eb(sql<string>`lower(email)`, 'like', `%@${d.replace(/[\\%_]/g, (c) => `\\${c}`)}`))))
    .execute();
  return rows.map((r) => r.id);
}

export async function insertDeletionLog(trx: Transaction<Database> | Kysely<Database>, row: DeletionLogRow): Promise<void> {
  await trx.insertInto('deletion_log').values(row).execute();
}

/** Log entries finished after `since` (all when undefined), oldest first. */
export async function deletionLogSince(db: Db, since: string | undefined): Promise<DeletionLogRow[]> {
  let q = db.selectFrom('deletion_log').selectAll();
  if (since) q = q.where('finished_at', '>', since);
  return q.orderBy('finished_at').orderBy('id').execute();
}

export async function insertRun(db: Db, row: RunRow): Promise<void> {
  await db.insertInto('retention_run').values(row).execute();
}

/** A no-op write on the run's row (takes the write lock at the start of a batch). */
export async function touchRun(db: Db, id: string): Promise<void> {
  await db.updateTable('retention_run').set({ status: 'running' }).where('id', '=', id).execute();
}

export async function finishRun(db: Db, id: string, at: string): Promise<void> {
  await db.updateTable('retention_run').set({ status: 'done', finished_at: at }).where('id', '=', id).execute();
}

export async function lastFinishedRun(db: Db): Promise<RunRow | undefined> {
  return db.selectFrom('retention_run').selectAll().where('status', '=', 'done').orderBy('finished_at', 'desc').limit(1).executeTakeFirst();
}

export async function logEntriesOfRun(db: Db, runId: string): Promise<Pick<DeletionLogRow, 'rule' | 'category' | 'counts'>[]> {
  return db.selectFrom('deletion_log').select(['rule', 'category', 'counts']).where('run_id', '=', runId).execute();
}
