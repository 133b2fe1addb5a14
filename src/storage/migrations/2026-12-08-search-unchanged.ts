// Frozen: never edit a migration that has shipped; add a new one.
//
// SQLite's inbox search triggers (2026-12-01-inbox-search) rewrote a person's trigrams on
// every update naming the name or email column, even when neither changed: a returning
// visitor's submission refreshes the person row with the same values. FTS5's
// secure-delete removes a row's old trigrams from every doclist that holds them, and
// trigrams such as "com" or "exa" are in almost every address, so each such rewrite read
// and wrote index pages in proportion to everyone stored: the intake fell from about
// 2,200 to 600 submissions/s once the submitters were people already on file (6,600
// people). The triggers now fire only when the indexed text or the key really changes.
// PostgreSQL's GIN indexes are untouched: an update that leaves indexed values as they
// were does not change them.
import { PostgresAdapter, sql, type Kysely } from 'kysely';

function personUpdate(when: string): string {
  return `create trigger person_search_update after update of id, name, email on person ${when} begin
     insert into person_search (person_search, rowid, name, email)
       values ('delete', (select key from person_search_key where person_id = old.id), old.name, old.email);
     update person_search_key set person_id = new.id where person_id = old.id;
     insert into person_search (rowid, name, email)
       values ((select key from person_search_key where person_id = new.id), new.name, new.email);
   end`;
}

function inquiryUpdate(when: string): string {
  return `create trigger inquiry_search_update after update of id, company on inquiry ${when} begin
     insert into inquiry_search (inquiry_search, rowid, company)
       values ('delete', (select key from inquiry_search_key where inquiry_id = old.id), old.company);
     update inquiry_search_key set inquiry_id = new.id where inquiry_id = old.id;
     insert into inquiry_search (rowid, company)
       values ((select key from inquiry_search_key where inquiry_id = new.id), new.company);
   end`;
}

async function replaceTriggers(db: Kysely<any>, changedOnly: boolean): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await sql`drop trigger if exists person_search_update`.execute(db);
  await sql`drop trigger if exists inquiry_search_update`.execute(db);
  await sql.raw(personUpdate(changedOnly ? 'when old.id is not new.id or old.name is not new.name or old.email is not new.email' : '')).execute(db);
  await sql.raw(inquiryUpdate(changedOnly ? 'when old.id is not new.id or old.company is not new.company' : '')).execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  await replaceTriggers(db, true);
}

export async function down(db: Kysely<any>): Promise<void> {
  await replaceTriggers(db, false);
}
