// Frozen: never edit a migration that has shipped; add a new one.
//
// Retention: holds that stop deletion, the log of what was deleted, and the sweep runs.
//   - retention_hold: a legal hold or a contractual obligation on a person, an inquiry or
//     a company's email domain. Lifted explicitly (lifted_at) and never deleted, so the
//     record of who held what, and why, stays; a contract hold also ends at `until`.
//   - deletion_log: one row per committed batch of deletions (a sweep's or an erasure's):
//     rule, category, counts and keyed hashes of the deleted ids, never a personal value.
//     A restore re-applies it, so it must outlive the data it describes.
//   - retention_run: one row per sweep; its batches point to it, so a killed sweep's
//     committed batches stay counted once and the next run carries on.
// The sweep walks each rule's rows in order of the date it counts from, so inquiries get
// an index on (status, closed_at) and (status, last_activity_at); an inquiry's last
// activity starts at its submission, which rows from before that change get here.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('retention_hold')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // legal_hold | contract
    .addColumn('kind', 'text', (c) => c.notNull())
    // person | inquiry | domain
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('scope_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('until', 'text')
    .addColumn('placed_by', 'text', (c) => c.notNull())
    .addColumn('placed_at', 'text', (c) => c.notNull())
    .addColumn('lifted_by', 'text')
    .addColumn('lifted_at', 'text')
    .execute();
  await db.schema.createIndex('retention_hold_scope').on('retention_hold').columns(['scope', 'scope_id']).execute();

  await db.schema
    .createTable('retention_run')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // The instant the rules were evaluated at (--as-of, or the start).
    .addColumn('as_of', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    // running | done (a killed run stays running; its committed batches count)
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('retention_run_started').on('retention_run').column('started_at').execute();

  await db.schema
    .createTable('deletion_log')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // Null for deletions outside a sweep (an erasure request).
    .addColumn('run_id', 'text')
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    // JSON object of table -> rows deleted.
    .addColumn('counts', 'text', (c) => c.notNull())
    // JSON array of `kid:hex` keyed hashes of the deleted rows' ids.
    .addColumn('affected_id_hashes', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('deletion_log_finished').on('deletion_log').column('finished_at').execute();
  await db.schema.createIndex('deletion_log_run').on('deletion_log').column('run_id').execute();

  await sql`update inquiry set last_activity_at = created_at where last_activity_at is null`.execute(db);
  await db.schema.createIndex('inquiry_closed').ifNotExists().on('inquiry').columns(['status', 'closed_at', 'id']).execute();
  await db.schema.createIndex('inquiry_last_activity').ifNotExists().on('inquiry').columns(['status', 'last_activity_at', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const index of ['inquiry_closed', 'inquiry_last_activity']) await db.schema.dropIndex(index).ifExists().execute();
  for (const table of ['deletion_log', 'retention_run', 'retention_hold']) await db.schema.dropTable(table).execute();
}
