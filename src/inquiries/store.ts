import { CompiledQuery, PostgresAdapter, sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import { upsertPerson, type PersonContact } from '../people/store.ts';
import { cachedText } from '../storage/insert-rows.ts';
import { prepared } from '../storage/pg-prepared.ts';
import type { Database, InquiryStatus, NewInquiry } from '../storage/types.ts';

type Db = Kysely<Database> | Transaction<Database>;

export async function findBySubmissionKey(trx: Transaction<Database>, key: string): Promise<{ id: string; reference: string } | undefined> {
  return trx.selectFrom('inquiry').select(['id', 'reference']).where('submission_key', '=', key).executeTakeFirst();
}

/**
 * False when a unique key is taken: the submission key (a resend, or a double click that
 * reached another instance), which must read as a resend, or by rare chance the random
 * reference, which the caller draws again. A failed statement would abort the whole
 * transaction on PostgreSQL, hence DO NOTHING. Inserting first saves a lookup on every
 * new submission.
 */
export async function insertInquiry(trx: Transaction<Database>, inquiry: NewInquiry): Promise<boolean> {
  const row = await trx
    .insertInto('inquiry')
    .values(inquiry)
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export interface InquiryWithPerson {
  person: PersonContact;
  inquiry: Omit<NewInquiry, 'person_id'>;
}

export interface WrittenInquiry {
  personId: string;
  /** False when a unique key was taken, as `insertInquiry` says. */
  inserted: boolean;
}

const PERSON_INPUT = ['ord', 'p_id', 'p_subject_key', 'p_email', 'p_name', 'p_at'];

/**
 * The PostgreSQL statement for a batch of submissions, which arrive as one JSON array
 * parameter: one text (a prepared statement: storage/pg-prepared.ts) for any batch size.
 */
function leadText(columns: readonly string[]): string {
  const input = [...PERSON_INPUT, ...columns];
  const q = (c: string) => `"${c}"`;
  const typed = input.map((c) => `${q(c)} ${c === 'ord' || c === 'free_mail' ? 'integer' : 'text'}`);
  return prepared(`with input as (select * from json_to_recordset($1::json) as x(${typed.join(', ')})),
    p as (
      insert into person (id, subject_key, email, name, created_at, updated_at)
      select distinct on (p_subject_key) p_id, p_subject_key, p_email, p_name, p_at, p_at from input order by p_subject_key, ord desc
      on conflict (subject_key) do update set email = excluded.email, name = excluded.name, updated_at = excluded.updated_at
      returning id, subject_key
    ),
    i as (
      insert into inquiry (${columns.map(q).join(', ')}, person_id)
      select ${columns.map((c) => `input.${q(c)}`).join(', ')}, p.id from input join p on p.subject_key = input.p_subject_key order by input.ord
      on conflict do nothing
      returning id
    )
    select input.ord, p.id as person_id, i.id is not null as inserted
    from input join p on p.subject_key = input.p_subject_key left join i on i.id = input.id
    order by input.ord`);
}

/**
 * The person (created or refreshed) and their inquiry, for every submission of a write
 * batch (its lead statement). On PostgreSQL the whole batch is one statement (a
 * data-modifying WITH over the submissions as JSON): a round trip per submission was most
 * of what the intake spent beyond its bare insert. SQLite, in process, runs two
 * statements each. Within the statement, as if the submissions ran one after another:
 * one address twice is one person holding the later name, and a submission key twice
 * keeps the first.
 */
export async function insertInquiriesWithPeople(trx: Transaction<Database>, items: InquiryWithPerson[]): Promise<WrittenInquiry[]> {
  if (!(trx.getExecutor().adapter instanceof PostgresAdapter)) {
    const written: WrittenInquiry[] = [];
    for (const item of items) written.push(await insertInquiryWithPerson(trx, item.person, item.inquiry));
    return written;
  }
  const columns = Object.keys(items[0].inquiry) as Array<keyof InquiryWithPerson['inquiry'] & string>;
  const text = cachedText(`lead:inquiry+person|${columns.join(',')}`, () => leadText(columns));
  const rows = items.map(({ person, inquiry }, ord) => ({ ord, p_id: person.id, p_subject_key: person.subjectKey, p_email: person.email, p_name: person.name, p_at: person.at, ...inquiry }));
  const result = await trx.executeQuery<{ ord: number; person_id: string; inserted: boolean }>(CompiledQuery.raw(text, [JSON.stringify(rows)]));
  return result.rows.map((r) => ({ personId: r.person_id, inserted: r.inserted }));
}

/** One submission's person and inquiry, as `insertInquiriesWithPeople` does for a batch. */
export async function insertInquiryWithPerson(
  trx: Transaction<Database>,
  person: PersonContact,
  inquiry: Omit<NewInquiry, 'person_id'>,
): Promise<WrittenInquiry> {
  if (!(trx.getExecutor().adapter instanceof PostgresAdapter)) {
    const personId = await upsertPerson(trx, person);
    return { personId, inserted: await insertInquiry(trx, { ...inquiry, person_id: personId }) };
  }
  return (await insertInquiriesWithPeople(trx, [{ person, inquiry }]))[0];
}

export interface InboxFilters {
  status?: InquiryStatus;
  form?: string;
  country?: string;
  /** Received on or after this instant (ISO). */
  from?: string;
  /** Received before this instant (ISO). */
  to?: string;
  freeMail?: boolean;
  /** Matched, case-insensitively, inside name, company or email. */
  text?: string;
}

/** Where a page ends: the next page starts strictly after this row in inbox order. */
export interface InboxCursor {
  createdAt: string;
  id: string;
}

export interface InboxRow {
  id: string;
  reference: string;
  form: string;
  status: InquiryStatus;
  company: string;
  country: string;
  free_mail: number;
  created_at: string;
  last_activity_at: string | null;
  person_id: string;
  name: string;
  email: string;
}

/** How the inbox finds text: through the trigram indexes, or by reading every row. */
export type TextSearch = 'trigram' | 'scan';

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

/**
 * Whether the text search has its trigram indexes (migration 2026-12-01-inbox-search).
 * SQLite always has them (FTS5 is built into node:sqlite); PostgreSQL only when the role
 * that migrated could create the pg_trgm extension.
 */
export async function textSearchIndexed(db: Db): Promise<boolean> {
  if (!isPostgres(db)) return true;
  const { rows } = await sql<{ n: number | string }>`select count(*) as n from pg_indexes
    where schemaname = current_schema() and indexname in ('person_name_trgm', 'person_email_trgm', 'inquiry_company_trgm')`.execute(db);
  return Number(rows[0]?.n) === 3;
}

/** A trigram index can answer a term of at least this many characters (code points). */
const TRIGRAM = 3;

/** LIKE pattern for a literal substring: % and _ and the escape itself mean themselves. */
function containing(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The other case forms of a letter under Unicode simple case folding, the folding FTS5's
 * trigram tokenizer applies ('ẞ' ~ 'ß', 'ſ' ~ 's', 'ς' ~ 'σ' ~ 'Σ'), so that a short term,
 * which no trigram index can answer, matches what a longer one would. JavaScript's
 * case-insensitive Unicode regular expressions fold the same way, so they decide which
 * upper/lower-case candidates are equivalent; classes are joined transitively. Built
 * once, for the BMP (FTS5 folds nothing beyond it). SQLite's table is of an older Unicode
 * version: the few letters added since (e.g. Georgian Mtavruli) fold here but not there.
 */
let caseClasses: Map<string, string> | undefined;
function caseClass(c: string): string {
  if (!caseClasses) {
    const parent = new Map<string, string>();
    const root = (x: string): string => {
      let r = x;
      while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
      return r;
    };
    for (let code = 0; code < 0x10000; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const ch = String.fromCharCode(code);
      const lower = ch.toLowerCase();
      const upper = ch.toUpperCase();
      if (lower === ch && upper === ch) continue;
      const same = new RegExp(`^\\u{${code.toString(16)}}$`, 'iu');
      for (const other of [lower, upper, upper.toLowerCase(), lower.toUpperCase()]) {
        if (other.length !== 1 || other === ch || !same.test(other)) continue;
        const [ra, rb] = [root(ch), root(other)];
        if (ra !== rb) parent.set(ra, rb);
        if (!parent.has(rb)) parent.set(rb, rb);
      }
    }
    const classes = new Map<string, string[]>();
    for (const ch of parent.keys()) {
      const r = root(ch);
      (classes.get(r) ?? classes.set(r, []).get(r)!).push(ch);
    }
    caseClasses = new Map();
    for (const members of classes.values()) if (members.length > 1) for (const m of members) caseClasses.set(m, members.join(''));
  }
  return caseClasses.get(c) ?? c;
}

/**
 * A substring in any case on SQLite, whose lower() and LIKE fold ASCII letters only.
 * GLOB is exact: each letter becomes the class of its case forms ('é' -> '[éÉ]') and
 * GLOB's own metacharacters stand in a class of their own. GLOB with classes is slow,
 * so a LIKE runs first, as a filter that never misses: ASCII folding where a letter's
 * forms are all ASCII, any one character ('_') where they are not ('é', and 'k', whose
 * forms include the Kelvin sign).
 */
function sqliteContains(column: RawBuilder<unknown>, text: string): RawBuilder<boolean> {
  let glob = '*';
  let like = '%';
  for (const c of text) {
    const forms = caseClass(c);
    glob += forms.length > 1 ? `[${forms}]` : c === '*' || c === '?' || c === '[' ? `[${c}]` : c;
    like += forms.length > 1 && /[^\x00-\x7f]/.test(forms) ? '_' : c === '%' || c === '_' || c === '\\' ? `\\${c}` : c;
  }
  return sql<boolean>`(${column} like ${like + '%'} escape '\\' and ${column} glob ${glob + '*'})`;
}

/** A substring in any case on PostgreSQL: lower() on both sides (the database's own case rules). */
function postgresContains(column: RawBuilder<unknown>, text: string): RawBuilder<boolean> {
  return sql<boolean>`lower(${column}) like lower(${containing(text)}) escape '\\'`;
}

/** An FTS5 query for the literal text: one quoted phrase (a quote inside is doubled). */
const phrase = (text: string) => `"${text.replaceAll('"', '""')}"`;

/**
 * Past this many matches of one column, a term counts as common: the page is then found
 * by reading inquiries newest first and testing each, which for a term in at least 1 of
 * N/PROBE rows fills 50 rows within about 50*N/PROBE rows read, cheaper than fetching and
 * sorting every match. Below it, the matches' ids are fetched and only those rows read.
 */
const PROBE = 1000;

/** How a search runs: `search` as detected; `probe` (tests) other than PROBE. */
export interface SearchOptions {
  search?: TextSearch;
  probe?: number;
}

/** Up to probe + 1 ids from a query; more than probe means a common term. */
async function capped(db: Db, query: RawBuilder<{ id: string }>, probe: number): Promise<string[] | 'common'> {
  const { rows } = await query.execute(db);
  return rows.length > probe ? 'common' : rows.map((r) => r.id);
}

/**
 * The ids of inquiries whose company, or whose person's name or email, holds the text, or
 * 'common' when one column alone matches more than PROBE rows. Through the trigram
 * indexes when the term is long enough (FTS5 on SQLite, pg_trgm on PostgreSQL), else by
 * reading each table. One query after another: on PostgreSQL they share the unit of
 * work's one connection.
 */
async function matchingIds(db: Db, text: string, search: TextSearch, probe: number): Promise<string[] | 'common'> {
  const cap = probe + 1;
  let inquiries: string[] | 'common';
  let viaPeople: string[] | 'common';
  if (!isPostgres(db)) {
    if (search === 'trigram' && [...text].length >= TRIGRAM) {
      const match = phrase(text);
      inquiries = await capped(db, sql`select k.inquiry_id as id from inquiry_search s join inquiry_search_key k on k.key = s.rowid where inquiry_search match ${match} limit ${cap}`, probe);
      if (inquiries === 'common') return inquiries;
      viaPeople = await capped(db, sql`select i2.id from person_search s join person_search_key k on k.key = s.rowid join inquiry i2 on i2.person_id = k.person_id where person_search match ${match} limit ${cap}`, probe);
    } else {
      inquiries = await capped(db, sql`select c.id from inquiry c where ${sqliteContains(sql.ref('c.company'), text)} limit ${cap}`, probe);
      if (inquiries === 'common') return inquiries;
      viaPeople = await capped(db, sql`select i2.id from person p2 join inquiry i2 on i2.person_id = p2.id where ${sqliteContains(sql.ref('p2.name'), text)} or ${sqliteContains(sql.ref('p2.email'), text)} limit ${cap}`, probe);
    }
  } else {
    // Each column alone, so each can use its own index. A MATERIALIZED CTE is planned for
    // all its rows (a LIMIT on a plain query tempts the planner into a sequential scan that
    // reads the whole table for a rare term) yet read lazily, so the LIMIT still stops it.
    // Without pg_trgm ('scan') the same SQL reads the tables.
    // A term no index can answer reads the person table once for both columns.
    const indexed = search === 'trigram' && [...text].length >= TRIGRAM;
    const matching = (table: 'inquiry' | 'person', columns: Array<'company' | 'name' | 'email'>) =>
      capped(db, sql`with m as materialized (select id from ${sql.table(table)} where ${sql.join(columns.map((c) => postgresContains(sql.ref(c), text)), sql` or `)}) select id from m limit ${cap}`, probe);
    inquiries = await matching('inquiry', ['company']);
    if (inquiries === 'common') return inquiries;
    const people: string[] = [];
    for (const columns of indexed ? [['name'] as const, ['email'] as const] : [['name', 'email'] as const]) {
      const found = await matching('person', [...columns]);
      if (found === 'common') return found;
      people.push(...found);
    }
    viaPeople = people.length ? await capped(db, sql`select id from inquiry where person_id in (select unnest(${[...new Set(people)]}::text[])) limit ${cap}`, probe) : [];
  }
  if (viaPeople === 'common') return viaPeople;
  return [...new Set([...inquiries, ...viaPeople])];
}

/**
 * Newest first, keyset-paginated on (created_at, id) so a deep page costs what the first
 * does and rows arriving meanwhile never shift a page.
 *
 * Text is a case-insensitive substring of name, company or email, the same rows whichever
 * way they are found. First the matching ids are asked for (matchingIds: FTS5 trigram
 * tables on SQLite, pg_trgm indexes on PostgreSQL, a reading of each table for a term
 * under three characters or without the indexes); when there are few, the page is read
 * from those ids; when a term is common, from the inquiries newest first, each tested.
 */
export async function inboxPage(db: Db, filters: InboxFilters, after: InboxCursor | undefined, limit: number, options: SearchOptions = {}): Promise<InboxRow[]> {
  let q = db
    .selectFrom('inquiry as i')
    .innerJoin('person as p', 'p.id', 'i.person_id')
    .select(['i.id', 'i.reference', 'i.form', 'i.status', 'i.company', 'i.country', 'i.free_mail', 'i.created_at', 'i.last_activity_at', 'i.person_id', 'p.name', 'p.email']);
  if (filters.status) q = q.where('i.status', '=', filters.status);
  if (filters.form) q = q.where('i.form', '=', filters.form);
  if (filters.country) q = q.where('i.country', '=', filters.country);
  if (filters.from) q = q.where('i.created_at', '>=', filters.from);
  if (filters.to) q = q.where('i.created_at', '<', filters.to);
  if (filters.freeMail !== undefined) q = q.where('i.free_mail', '=', filters.freeMail ? 1 : 0);
  if (filters.text) {
    const text = filters.text;
    const ids = await matchingIds(db, text, options.search ?? 'trigram', options.probe ?? PROBE);
    if (ids === 'common') {
      const contains = isPostgres(db) ? postgresContains : sqliteContains;
      q = q.where((eb) => eb.or([contains(sql.ref('p.name'), text), contains(sql.ref('i.company'), text), contains(sql.ref('p.email'), text)]));
    } else if (ids.length === 0) {
      return [];
    } else {
      // A set to join rather than a list to test: each row is then fetched by its id and
      // only the matches are sorted (with `= any(...)` PostgreSQL walked the newest-first
      // index and compared each row against the whole list).
      q = q.where(isPostgres(db) ? sql<boolean>`i.id in (select unnest(${ids}::text[]))` : sql<boolean>`i.id in (select value from json_each(${JSON.stringify(ids)}))`);
    }
  }
  if (after) {
    // A row-value comparison, so both databases read the (created_at, id) index as a range
    // instead of walking it from the top and filtering.
    q = q.where((eb) => eb(eb.refTuple('i.created_at', 'i.id'), '<', eb.tuple(after.createdAt, after.id)));
  }
  const rows = await q.orderBy('i.created_at', 'desc').orderBy('i.id', 'desc').limit(limit).execute();
  return rows as InboxRow[];
}

export interface InquiryDetail extends InboxRow {
  role: string;
  context: string | null;
  notice_version: string;
  outcome: string | null;
  closed_at: string | null;
  delete_after: string;
}

export async function inquiryDetail(db: Db, id: string): Promise<InquiryDetail | undefined> {
  const row = await db
    .selectFrom('inquiry as i')
    .innerJoin('person as p', 'p.id', 'i.person_id')
    .select(['i.id', 'i.reference', 'i.form', 'i.status', 'i.company', 'i.role', 'i.country', 'i.context', 'i.free_mail', 'i.notice_version', 'i.outcome', 'i.closed_at', 'i.delete_after', 'i.created_at', 'i.last_activity_at', 'i.person_id', 'p.name', 'p.email'])
    .where('i.id', '=', id)
    .executeTakeFirst();
  return row as InquiryDetail | undefined;
}
