// Frozen: never edit a migration that has shipped; add a new one.
//
// Analytics rollup in slices (issue 11): the rollup takes the raw events a slice of
// visitor keys at a time (all of one visitor's events in one slice, so distinct counts
// and visits add up across slices), each slice its own short transaction. A slice is a
// set of keys' first two characters (a keyed hash in base64url: 4,096 about equal
// shares); this index on them lets each slice read and delete only its own rows. It holds
// two characters of the key and the row's place, and is gone with the rows. SQLite only:
// PostgreSQL rolls up in one transaction (it does not hold the event loop), and every page
// view would pay for the index there.
import { PostgresAdapter, sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await db.schema.createIndex('analytics_event_slice').on('analytics_event').expression(sql`substr(visitor, 1, 2)`).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('analytics_event_slice').ifExists().execute();
}
