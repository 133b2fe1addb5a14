import { PostgresAdapter, sql, type Kysely, type Transaction } from 'kysely';
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
 * GLOB pattern for a literal substring in any case on SQLite, whose lower() and LIKE fold
 * ASCII only: each letter becomes the class of its case forms ('é' -> '[éÉ]'); GLOB's own
 * metacharacters stand in a class of their own.
 */
function globContaining(text: string): string {
  let pattern = '*';
  for (const c of text) {
    const forms = caseClass(c);
    pattern += forms.length > 1 ? `[${forms}]` : c === '*' || c === '?' || c === '[' ? `[${c}]` : c;
  }
  return `${pattern}*`;
}

/** An FTS5 query for the literal text: one quoted phrase (a quote inside is doubled). */
const phrase = (text: string) => `"${text.replaceAll('"', '""')}"`;

/**
 * Ids of inquiries whose company, or whose person's name or email, holds the text
 * (case-insensitive), or undefined when the term is too short for the trigram indexes.
 * Each column is matched on its own index and the matches are united by id, so the
 * planner never falls back to reading the inquiries in order and testing each.
 */
function indexedMatches(db: Db, text: string) {
  if ([...text].length < TRIGRAM) return undefined;
  if (!isPostgres(db)) {
    const match = phrase(text);
    return sql`select k.inquiry_id from inquiry_search s join inquiry_search_key k on k.key = s.rowid where inquiry_search match ${match}
      union
      select i2.id from person_search s join person_search_key k on k.key = s.rowid join inquiry i2 on i2.person_id = k.person_id where person_search match ${match}`;
  }
  const pattern = sql`lower(${containing(text)}) escape '\\'`;
  return sql`select c.id from inquiry c where lower(c.company) like ${pattern}
    union
    select i2.id from inquiry i2 where i2.person_id in (select p2.id from person p2 where lower(p2.name) like ${pattern} or lower(p2.email) like ${pattern})`;
}

/**
 * Newest first, keyset-paginated on (created_at, id) so a deep page costs what the first
 * does and rows arriving meanwhile never shift a page.
 *
 * Text is a case-insensitive substring of name, company or email, the same rows whichever
 * way it is found: FTS5 trigram tables on SQLite, pg_trgm indexes on PostgreSQL, and for
 * a term under three characters (or `search` = 'scan', PostgreSQL without pg_trgm) a
 * reading of the rows newest first until the page is full.
 */
export async function inboxPage(db: Db, filters: InboxFilters, after: InboxCursor | undefined, limit: number, search: TextSearch = 'trigram'): Promise<InboxRow[]> {
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
    const matches = search === 'trigram' ? indexedMatches(db, text) : undefined;
    if (matches) q = q.where(sql<boolean>`i.id in (${matches})`);
    else if (isPostgres(db)) {
      const pattern = sql`lower(${containing(text)}) escape '\\'`;
      q = q.where((eb) => eb.or((['p.name', 'i.company', 'p.email'] as const).map((column) => eb(sql`lower(${sql.ref(column)})`, 'like', pattern))));
    } else {
      const pattern = globContaining(text);
      q = q.where((eb) => eb.or((['p.name', 'i.company', 'p.email'] as const).map((column) => sql<boolean>`${sql.ref(column)} glob ${pattern}`)));
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
