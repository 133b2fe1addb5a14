// Frozen: never edit a migration that has shipped; add a new one.
//
// Analytics ingest speed (issue 11): the raw event table loses its index on hour. It only
// ever holds the views since the last rollup (an hour or two), and the rollup reads and
// deletes nearly all of it (hour < the current one), which a table scan does faster than
// the index; meanwhile every buffered view paid for the index on insert.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('analytics_event_hour').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('analytics_event_hour').on('analytics_event').column('hour').execute();
}
