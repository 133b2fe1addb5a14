// Frozen: never edit a migration that has shipped; add a new one.
//
// The console inbox lists inquiries newest first, keyset-paginated on (created_at, id)
// (src/inquiries/store.ts inboxPage). Without an index in that order every page, the
// first included, read and sorted the whole table: at 100,000 inquiries about 250 ms on
// SQLite (bench/console.ts). With it, a page reads its 51 rows off the index's end, a
// deep page starts at its cursor, and a filter or search walks the index newest first and
// stops when the page is full.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('inquiry_created').on('inquiry').columns(['created_at', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('inquiry_created').execute();
}
