// Frozen: never edit a migration that has shipped; add a new one.
//
// The console inbox's text search (a case-insensitive substring of the person's name or
// email or the inquiry's company) scanned every row: at 100,000 inquiries 94 ms on SQLite
// and about 150 ms on PostgreSQL, 570 ms on SQLite for a term that matches nothing
// (bench/console.ts). Here each database gets a trigram index, so a term of three or more
// characters reads only the rows holding its trigrams.
//
// SQLite: two contentless FTS5 tables with the trigram tokenizer (its Unicode case
// folding: 'ÉLODIE' finds 'Élodie'), person_search(name, email) and
// inquiry_search(company). They hold no copy of the text, only the trigrams. Triggers keep
// them current on every insert, update and delete of person and inquiry, whoever runs the
// statement (the privacy desk, the retention sweep, a foreign-key cascade, an operator's
// sqlite3 shell). Deleting a row must leave none of its trigrams behind, so:
//   - the tables run with FTS5's secure-delete option, which removes a deleted row's
//     entries from the index pages at once (contentless_delete=1 would only mark them
//     deleted in a tombstone, leaving the trigrams readable in the pages until a merge);
//   - secure-delete needs the row's old values, which the triggers pass (old.name, ...).
// An FTS row is found by an integer key. The tables' own rowids are not stable (person and
// inquiry have text primary keys, and VACUUM may renumber such rowids), so
// person_search_key and inquiry_search_key give each row an INTEGER PRIMARY KEY that never
// changes. A later migration that rebuilds person or inquiry (the 12-step table copy) drops
// these triggers with the old table and must create them again.
//
// PostgreSQL: pg_trgm GIN indexes on lower(name), lower(email) and lower(company). The
// extension is created if it is missing (in the schema public when this role may create
// there, so per-tenant or per-test schemas that come and go do not carry it); a role that
// may not create it leaves the migration successful without the indexes, and the search
// scans as before (the service says so once at start, README "Running on PostgreSQL").
import { sql, PostgresAdapter, type Kysely } from 'kysely';

const SQLITE_TRIGGERS = [
  // person: name and email
  `create trigger person_search_insert after insert on person begin
     insert into person_search_key (person_id) values (new.id);
     insert into person_search (rowid, name, email)
       values ((select key from person_search_key where person_id = new.id), new.name, new.email);
   end`,
  `create trigger person_search_update after update of id, name, email on person begin
     insert into person_search (person_search, rowid, name, email)
       values ('delete', (select key from person_search_key where person_id = old.id), old.name, old.email);
     update person_search_key set person_id = new.id where person_id = old.id;
     insert into person_search (rowid, name, email)
       values ((select key from person_search_key where person_id = new.id), new.name, new.email);
   end`,
  `create trigger person_search_delete after delete on person begin
     insert into person_search (person_search, rowid, name, email)
       values ('delete', (select key from person_search_key where person_id = old.id), old.name, old.email);
     delete from person_search_key where person_id = old.id;
   end`,
  // inquiry: company
  `create trigger inquiry_search_insert after insert on inquiry begin
     insert into inquiry_search_key (inquiry_id) values (new.id);
     insert into inquiry_search (rowid, company)
       values ((select key from inquiry_search_key where inquiry_id = new.id), new.company);
   end`,
  `create trigger inquiry_search_update after update of id, company on inquiry begin
     insert into inquiry_search (inquiry_search, rowid, company)
       values ('delete', (select key from inquiry_search_key where inquiry_id = old.id), old.company);
     update inquiry_search_key set inquiry_id = new.id where inquiry_id = old.id;
     insert into inquiry_search (rowid, company)
       values ((select key from inquiry_search_key where inquiry_id = new.id), new.company);
   end`,
  `create trigger inquiry_search_delete after delete on inquiry begin
     insert into inquiry_search (inquiry_search, rowid, company)
       values ('delete', (select key from inquiry_search_key where inquiry_id = old.id), old.company);
     delete from inquiry_search_key where inquiry_id = old.id;
   end`,
];

const PG_INDEXES: Array<[name: string, table: string, column: string]> = [
  ['person_name_trgm', 'person', 'name'],
  ['person_email_trgm', 'person', 'email'],
  ['inquiry_company_trgm', 'inquiry', 'company'],
];

async function trgmSchema(db: Kysely<any>): Promise<string | undefined> {
  const { rows } = await sql<{ schema: string }>`select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'`.execute(db);
  return rows[0]?.schema;
}

/** The schema holding pg_trgm, creating the extension when this role may; else undefined. */
async function ensureTrgm(db: Kysely<any>): Promise<string | undefined> {
  const found = await trgmSchema(db);
  if (found) return found;
  const { rows } = await sql<{ public: boolean }>`select coalesce((select has_schema_privilege(oid, 'CREATE') from pg_namespace where nspname = 'public'), false) as public`.execute(db);
  const target = rows[0]?.public ? 'public' : (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0].s;
  // The migration runs in a transaction: a refused CREATE EXTENSION must not abort it.
  await sql`savepoint lumetrax_pg_trgm`.execute(db);
  try {
    await sql`create extension if not exists pg_trgm schema ${sql.id(target)}`.execute(db);
    await sql`release savepoint lumetrax_pg_trgm`.execute(db);
  } catch {
    // Typically 42501 (no privilege to create it), or another session creating it at the
    // same moment (then it exists now).
    await sql`rollback to savepoint lumetrax_pg_trgm`.execute(db);
    await sql`release savepoint lumetrax_pg_trgm`.execute(db);
  }
  return trgmSchema(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    const schema = await ensureTrgm(db);
    if (!schema) return;
    for (const [name, table, column] of PG_INDEXES) {
      await sql`create index ${sql.id(name)} on ${sql.table(table)} using gin (lower(${sql.ref(column)}) ${sql.id(schema)}.gin_trgm_ops)`.execute(db);
    }
    return;
  }
  await sql`create table person_search_key (key integer primary key, person_id text not null unique)`.execute(db);
  await sql`create table inquiry_search_key (key integer primary key, inquiry_id text not null unique)`.execute(db);
  await sql`create virtual table person_search using fts5(name, email, tokenize = 'trigram', content = '')`.execute(db);
  await sql`create virtual table inquiry_search using fts5(company, tokenize = 'trigram', content = '')`.execute(db);
  await sql`insert into person_search (person_search, rank) values ('secure-delete', 1)`.execute(db);
  await sql`insert into inquiry_search (inquiry_search, rank) values ('secure-delete', 1)`.execute(db);
  // Existing rows first, then the triggers for everything after.
  await sql`insert into person_search_key (person_id) select id from person`.execute(db);
  await sql`insert into person_search (rowid, name, email) select k.key, p.name, p.email from person p join person_search_key k on k.person_id = p.id`.execute(db);
  await sql`insert into inquiry_search_key (inquiry_id) select id from inquiry`.execute(db);
  await sql`insert into inquiry_search (rowid, company) select k.key, i.company from inquiry i join inquiry_search_key k on k.inquiry_id = i.id`.execute(db);
  for (const trigger of SQLITE_TRIGGERS) await sql.raw(trigger).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    for (const [name] of PG_INDEXES) await sql`drop index if exists ${sql.id(name)}`.execute(db);
    return;
  }
  for (const t of ['person_search_insert', 'person_search_update', 'person_search_delete', 'inquiry_search_insert', 'inquiry_search_update', 'inquiry_search_delete']) {
    await sql`drop trigger if exists ${sql.id(t)}`.execute(db);
  }
  for (const t of ['person_search', 'inquiry_search', 'person_search_key', 'inquiry_search_key']) await sql`drop table if exists ${sql.id(t)}`.execute(db);
}
