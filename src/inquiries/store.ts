import { PostgresAdapter, sql, type Kysely, type Transaction } from 'kysely';
import { personUpsertQuery, upsertPerson, type PersonContact } from '../people/store.ts';
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

/**
 * The person (created or refreshed) and their inquiry, as `insertInquiry` says. On
 * PostgreSQL both are one statement (a data-modifying WITH): a submission then costs one
 * round trip to the server instead of two, which is most of what the intake spends
 * beyond its bare insert. SQLite, in process, runs the two statements.
 */
export async function insertInquiryWithPerson(
  trx: Transaction<Database>,
  person: PersonContact,
  inquiry: Omit<NewInquiry, 'person_id'>,
): Promise<{ personId: string; inserted: boolean }> {
  if (!(trx.getExecutor().adapter instanceof PostgresAdapter)) {
    const personId = await upsertPerson(trx, person);
    return { personId, inserted: await insertInquiry(trx, { ...inquiry, person_id: personId }) };
  }
  const columns = Object.keys(inquiry) as Array<keyof typeof inquiry>;
  // Parameters in a SELECT list have no type of their own: each takes its column's. Kysely
  // puts a raw CTE body as it is, hence the parentheses.
  const values = columns.map((c) => (c === 'free_mail' ? sql`${inquiry[c]}::integer` : sql`${inquiry[c]}::text`));
  const row = await trx
    .with('p', (db) => personUpsertQuery(db, person))
    .with('i', () => sql<{ id: string }>`(insert into inquiry (${sql.join(columns.map((c) => sql.ref(c)))}, person_id) select ${sql.join(values)}, p.id from p on conflict do nothing returning id)`)
    .selectFrom('p')
    .select((eb) => ['p.id', eb.selectFrom('i').select((e) => e.fn.countAll<string>().as('n')).as('inserted')])
    .executeTakeFirstOrThrow();
  return { personId: row.id, inserted: Number(row.inserted) === 1 };
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

/** LIKE pattern for a literal substring: % and _ and the escape itself mean themselves. */
function containing(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Newest first, keyset-paginated on (created_at, id) so a deep page costs what the first
 * does and rows arriving meanwhile never shift a page.
 */
export async function inboxPage(db: Db, filters: InboxFilters, after: InboxCursor | undefined, limit: number): Promise<InboxRow[]> {
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
    const pattern = containing(filters.text);
    q = q.where((eb) =>
      eb.or(
        (['p.name', 'i.company', 'p.email'] as const).map((column) => eb(sql`lower(${sql.ref(column)})`, 'like', sql`${pattern} escape '\\'`)),
      ),
    );
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
