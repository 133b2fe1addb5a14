// The sweep's SQL: for each (category, event) the policy may name, which rows are due
// (walked in key order, a bounded pass at a time, each pass then taken in the order its
// rows sit on disk) and how a batch of them is deleted with
// everything that belongs to it. Each source reads, besides the row's id, what a hold may
// name: its person, its inquiry and an address whose domain may be held.
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import { isPostgres } from '../storage/insert-rows.ts';
import type { Database } from '../storage/types.ts';
import type { DataCategory, RetentionEvent } from '../storage/categories.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface Candidate {
  id: string;
  /** The date the rule counts from, for the dry run's "oldest". */
  at: string;
  person_id: string | null;
  inquiry_id: string | null;
  email: string | null;
}

export interface Removed {
  /** Rows deleted per table. */
  counts: Record<string, number>;
  /** Ids of the rows the rule deleted (its own table's), for the deletion log's hashes. */
  ids: string[];
}

export interface Source {
  /** The table whose ids the log hashes (a restore deletes those again). */
  table: string;
  /** The due rows' query: what it selects, from where, in which key order. */
  parts(cutoff: string): QueryParts;
  /**
   * On PostgreSQL, what a deleting batch reads again instead of `parts`, when `remove`
   * itself checks the rest under row locks (reading it twice would cost as much again).
   */
  lockedPickParts?(cutoff: string): QueryParts;
  remove(trx: Transaction<Database>, ids: string[], cutoff: string): Promise<Removed>;
}

export const n = (r: { numDeletedRows: bigint } | { numUpdatedRows: bigint }) => Number('numDeletedRows' in r ? r.numDeletedRows : r.numUpdatedRows);

export interface QueryParts {
  select: string;
  from: RawBuilder<unknown>;
  keys: [string] | [string, string];
}

/** How many rows a rule finds due (holds not yet taken into account): the progress bar's total. */
export async function countDue(db: Db, parts: QueryParts): Promise<number> {
  const { rows } = await sql<{ n: string | number }>`select count(*) as n ${parts.from}`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/** One pass of the walk: due rows in the order they sit on disk, and where the next pass starts. */
export interface Pass {
  /**
   * The rows, ascending by their place on disk: rowids on SQLite (which identify the
   * row), ids on PostgreSQL (ordered by ctid; a ctid can move, an id cannot).
   */
  members: number[] | string[];
  /** The keyset position after the pass's last row, in the rule's key order. */
  cursor: string[];
  /** Whether the pass stopped at its limit (more may be due after the cursor). */
  full: boolean;
}

/** The table alias of a source's rows (its last key is `alias.id`). */
const aliasOf = (parts: QueryParts) => parts.keys[parts.keys.length - 1].split('.')[0];

/**
 * Up to `limit` due rows after the cursor, walked in the rule's key order (its index),
 * then sorted by where they sit on disk. Batches taken in that order delete rows that
 * are neighbours in the table, so a batch dirties a few pages instead of one page per
 * row (rows written together, as an inquiry and its thread and messages are, sit
 * together). Keys are raw column references written here, never input.
 */
export async function collect(db: Db, kind: 'sqlite' | 'postgres', parts: QueryParts, after: string[] | undefined, limit: number): Promise<Pass> {
  const { keys } = parts;
  const alias = aliasOf(parts);
  const cursorSql = !after
    ? sql``
    : keys.length === 1
      ? sql` and ${sql.raw(keys[0])} > ${after[0]}`
      : sql` and (${sql.raw(keys[0])} > ${after[0]} or (${sql.raw(keys[0])} = ${after[0]} and ${sql.raw(keys[1])} > ${after[1]}))`;
  const pos = sql.raw(kind === 'sqlite' ? `${alias}.rowid` : `${alias}.ctid::text`);
  const { rows } = await sql<{ pos: number | string; id: string; k1: string; k2: string | null }>`
    select ${pos} as pos, ${sql.raw(alias)}.id as id, ${sql.raw(keys[0])} as k1, ${sql.raw(keys[1] ?? 'null')} as k2
    ${parts.from}${cursorSql}
    order by ${sql.raw(keys.join(', '))}
    limit ${limit}`.execute(db);
  if (rows.length === 0) return { members: [], cursor: after ?? [], full: false };
  const last = rows[rows.length - 1];
  const cursor = keys.length === 1 ? [last.k1] : [last.k1, last.k2 as string];
  let members: number[] | string[];
  if (kind === 'sqlite') members = rows.map((r) => Number(r.pos)).sort((a, b) => a - b);
  else {
    // A ctid is "(block,offset)": ordered by block, then offset.
    const at = (r: (typeof rows)[number]) => String(r.pos).slice(1, -1).split(',').map(Number) as [number, number];
    members = rows.map((r) => ({ p: at(r), id: r.id })).sort((a, b) => a.p[0] - b.p[0] || a.p[1] - b.p[1]).map((r) => r.id);
  }
  return { members, cursor, full: rows.length === limit };
}

/**
 * The rows of a batch that are still due, read again (in the batch's transaction when
 * deleting): what changed since the pass, or was deleted meanwhile, drops out.
 */
export async function pick(db: Db, kind: 'sqlite' | 'postgres', parts: QueryParts, members: number[] | string[]): Promise<Candidate[]> {
  if (members.length === 0) return [];
  const alias = aliasOf(parts);
  // A row renumbered meanwhile (VACUUM may renumber rowids) is missed by this run and found
  // by the next; a row that took its number is deleted only if it is due and not held.
  // Rowids are integers read from the database, written into the statement as such: a
  // list of parameters would run into SQLite's limit, and through json_each the planner
  // walks the rule's index instead of looking the rowids up.
  const among =
    kind === 'sqlite'
      ? sql` and ${sql.raw(alias)}.rowid in (${sql.raw((members as number[]).map((m) => (Number.isSafeInteger(m) ? String(m) : 'null')).join(','))})`
      : sql` and ${sql.raw(alias)}.id = any(${members as string[]}::text[])`;
  const { rows } = await sql<Candidate>`select ${sql.raw(parts.select)} ${parts.from}${among}`.execute(db);
  return rows;
}

/** Deletes inquiries and everything of theirs: attachments, messages, threads, outbox mail. */
export async function deleteInquiries(trx: Transaction<Database>, ids: string[]): Promise<Removed> {
  if (ids.length === 0) return { counts: {}, ids: [] };
  if (isPostgres(trx)) return deleteInquiriesPostgres(trx, ids);
  const threads = trx.selectFrom('mail_thread').select('id').where('inquiry_id', 'in', ids);
  const messages = trx.selectFrom('mail_message').select('id').where('thread_id', 'in', threads);
  const mail_attachment = n(await trx.deleteFrom('mail_attachment').where('message_id', 'in', messages).executeTakeFirst());
  const mail_message = n(await trx.deleteFrom('mail_message').where('thread_id', 'in', threads).executeTakeFirst());
  const mail_thread = n(await trx.deleteFrom('mail_thread').where('inquiry_id', 'in', ids).executeTakeFirst());
  const outbox = n(await trx.deleteFrom('outbox').where('inquiry_id', 'in', ids).executeTakeFirst());
  // Consent proof has its own rule; it only loses the pointer to the inquiry it came with.
  await trx.updateTable('consent_record').set({ inquiry_id: null }).where('inquiry_id', 'in', ids).execute();
  await trx.updateTable('consent_confirmation').set({ inquiry_id: null }).where('inquiry_id', 'in', ids).execute();
  const inquiry = n(await trx.deleteFrom('inquiry').where('id', 'in', ids).executeTakeFirst());
  return { counts: { inquiry, mail_thread, mail_message, mail_attachment, outbox }, ids };
}

/**
 * On PostgreSQL, the same as one statement: the batch's ids travel once, as one array,
 * and each table is reached from the rows deleted before it (threads by the inquiry
 * index, messages by the thread index), not by a list of thousands of parameters the
 * planner answers with a scan of the whole table. Every part sees the statement's one
 * snapshot; a thread added meanwhile goes with its inquiry by the foreign key's cascade.
 */
async function deleteInquiriesPostgres(trx: Transaction<Database>, ids: string[]): Promise<Removed> {
  const { rows } = await sql<Record<'inquiry' | 'mail_thread' | 'mail_message' | 'mail_attachment' | 'outbox', string>>`
    with batch as (select ${ids}::text[] as ids),
    t as (delete from mail_thread where inquiry_id = any((select ids from batch)::text[]) returning id),
    m as (delete from mail_message where thread_id in (select id from t) returning id),
    a as (delete from mail_attachment where message_id in (select id from m) returning 1),
    o as (delete from outbox where inquiry_id = any((select ids from batch)::text[]) returning 1),
    cr as (update consent_record set inquiry_id = null where inquiry_id = any((select ids from batch)::text[]) returning 1),
    cc as (update consent_confirmation set inquiry_id = null where inquiry_id = any((select ids from batch)::text[]) returning 1),
    i as (delete from inquiry where id = any((select ids from batch)::text[]) returning 1)
    select (select count(*) from i) as inquiry, (select count(*) from t) as mail_thread, (select count(*) from m) as mail_message,
      (select count(*) from a) as mail_attachment, (select count(*) from o) as outbox`.execute(trx);
  const row = rows[0];
  return { counts: { inquiry: Number(row.inquiry), mail_thread: Number(row.mail_thread), mail_message: Number(row.mail_message), mail_attachment: Number(row.mail_attachment), outbox: Number(row.outbox) }, ids };
}

/** Deletes threads (triage) with their messages and attachments. */
export async function deleteThreads(trx: Transaction<Database>, ids: string[]): Promise<Removed> {
  if (ids.length === 0) return { counts: {}, ids: [] };
  if (isPostgres(trx)) {
    // As deleteInquiriesPostgres: one statement, the ids as one array.
    const { rows } = await sql<Record<'mail_thread' | 'mail_message' | 'mail_attachment', string>>`
      with t as (delete from mail_thread where id = any(${ids}::text[]) returning id),
      m as (delete from mail_message where thread_id in (select id from t) returning id),
      a as (delete from mail_attachment where message_id in (select id from m) returning 1)
      select (select count(*) from t) as mail_thread, (select count(*) from m) as mail_message, (select count(*) from a) as mail_attachment`.execute(trx);
    const row = rows[0];
    return { counts: { mail_thread: Number(row.mail_thread), mail_message: Number(row.mail_message), mail_attachment: Number(row.mail_attachment) }, ids };
  }
  const messages = trx.selectFrom('mail_message').select('id').where('thread_id', 'in', ids);
  const mail_attachment = n(await trx.deleteFrom('mail_attachment').where('message_id', 'in', messages).executeTakeFirst());
  const mail_message = n(await trx.deleteFrom('mail_message').where('thread_id', 'in', ids).executeTakeFirst());
  const mail_thread = n(await trx.deleteFrom('mail_thread').where('id', 'in', ids).executeTakeFirst());
  return { counts: { mail_thread, mail_message, mail_attachment }, ids };
}

async function deleteByIds(trx: Transaction<Database>, table: 'mail_attachment' | 'consent_confirmation' | 'withdrawal_request' | 'outbox', ids: string[]): Promise<Removed> {
  if (ids.length === 0) return { counts: {}, ids: [] };
  const deleted = n(await trx.deleteFrom(table).where('id', 'in', ids).executeTakeFirst());
  return { counts: { [table]: deleted }, ids };
}

/** Deletes people with whatever still refers to them (nothing, when the people rule chose them). */
export async function deletePeople(trx: Transaction<Database>, ids: string[]): Promise<Removed> {
  if (ids.length === 0) return { counts: {}, ids: [] };
  const inquiries = (await trx.selectFrom('inquiry').select('id').where('person_id', 'in', ids).execute()).map((r) => r.id);
  const removed = await deleteInquiries(trx, inquiries);
  const threads = (await trx.selectFrom('mail_thread').select('id').where('person_id', 'in', ids).execute()).map((r) => r.id);
  const triage = await deleteThreads(trx, threads);
  const consent_record = n(await trx.deleteFrom('consent_record').where('person_id', 'in', ids).executeTakeFirst());
  const consent_confirmation = n(await trx.deleteFrom('consent_confirmation').where('person_id', 'in', ids).executeTakeFirst());
  const outbox = n(await trx.deleteFrom('outbox').where('person_id', 'in', ids).executeTakeFirst());
  // What they wrote into others' threads is theirs too (the people rule finds none).
  const authored = trx.selectFrom('mail_message').select('id').where('from_person_id', 'in', ids);
  const authoredAttachments = n(await trx.deleteFrom('mail_attachment').where('message_id', 'in', authored).executeTakeFirst());
  const authoredMessages = n(await trx.deleteFrom('mail_message').where('from_person_id', 'in', ids).executeTakeFirst());
  const person = n(await trx.deleteFrom('person').where('id', 'in', ids).executeTakeFirst());
  const counts: Record<string, number> = { person };
  for (const [t, c] of [...Object.entries(removed.counts), ...Object.entries(triage.counts), ['consent_record', consent_record], ['consent_confirmation', consent_confirmation], ['outbox', outbox], ['mail_message', authoredMessages], ['mail_attachment', authoredAttachments]] as [string, number][]) {
    if (c) counts[t] = (counts[t] ?? 0) + c;
  }
  return { counts, ids };
}

/** Nothing refers to the person `p` any more: the people rule's condition besides its date. */
const unreferencedPerson = sql`not exists (select 1 from inquiry i where i.person_id = p.id)
  and not exists (select 1 from consent_record c where c.person_id = p.id)
  and not exists (select 1 from consent_confirmation cc where cc.person_id = p.id)
  and not exists (select 1 from mail_thread t where t.person_id = p.id)
  and not exists (select 1 from mail_message m where m.from_person_id = p.id)
  and not exists (select 1 from outbox o where o.person_id = p.id)`;

const personParts = (cutoff: string): QueryParts => ({
  select: 'p.id as id, p.email as email, p.id as person_id, null as inquiry_id, p.updated_at as at',
  from: sql`from person p where p.updated_at <= ${cutoff}`,
  keys: ['p.id'],
});

const inquiryFields = 'i.id as id, p.email as email, i.person_id as person_id, i.id as inquiry_id';

/** What the sweep knows how to delete, by category and the event its rule counts from. */
export const SOURCES: Partial<Record<DataCategory, Partial<Record<RetentionEvent, Source>>>> = {
  inquiries: {
    closed: {
      table: 'inquiry',
      parts: (cutoff) => ({ select: `${inquiryFields}, i.closed_at as at`, from: sql`from inquiry i left join person p on p.id = i.person_id where i.status = 'closed' and i.closed_at <= ${cutoff}`, keys: ['i.closed_at', 'i.id'] }),
      remove: (trx, ids) => deleteInquiries(trx, ids),
    },
    last_activity: {
      table: 'inquiry',
      parts: (cutoff) => ({ select: `${inquiryFields}, i.last_activity_at as at`, from: sql`from inquiry i left join person p on p.id = i.person_id where i.status = 'in_conversation' and i.last_activity_at <= ${cutoff}`, keys: ['i.last_activity_at', 'i.id'] }),
      remove: (trx, ids) => deleteInquiries(trx, ids),
    },
    received: {
      table: 'inquiry',
      parts: (cutoff) => ({ select: `${inquiryFields}, i.created_at as at`, from: sql`from inquiry i left join person p on p.id = i.person_id where i.status = 'new' and i.created_at <= ${cutoff}`, keys: ['i.created_at', 'i.id'] }),
      remove: (trx, ids) => deleteInquiries(trx, ids),
    },
  },
  correspondence: {
    last_activity: {
      table: 'mail_thread',
      parts: (cutoff) => ({
            // An unknown sender's address is on their messages; a domain hold covers it too.
            select: 't.id as id, coalesce(p.email, (select min(m.from_address) from mail_message m where m.thread_id = t.id)) as email, t.person_id as person_id, null as inquiry_id, t.last_message_at as at',
            from: sql`from mail_thread t left join person p on p.id = t.person_id where t.inquiry_id is null and t.last_message_at <= ${cutoff}`,
            keys: ['t.last_message_at', 't.id'],
          }),
      remove: (trx, ids) => deleteThreads(trx, ids),
    },
  },
  attachments: {
    received: {
      table: 'mail_attachment',
      parts: (cutoff) => ({
            select: 'a.id as id, coalesce(p.email, m.from_address) as email, t.person_id as person_id, t.inquiry_id as inquiry_id, m.at as at',
            from: sql`from mail_attachment a join mail_message m on m.id = a.message_id join mail_thread t on t.id = m.thread_id left join person p on p.id = t.person_id where m.at <= ${cutoff}`,
            keys: ['a.id'],
          }),
      remove: (trx, ids) => deleteByIds(trx, 'mail_attachment', ids),
    },
  },
  consent_records: {
    withdrawn: {
      table: 'consent_record',
      // The withdrawal that is a purpose's latest record: consent is not current, and its proof has been kept long enough.
      parts: (cutoff) => ({
            select: 'c.id as id, p.email as email, c.person_id as person_id, null as inquiry_id, c.recorded_at as at',
            from: sql`from consent_record c left join person p on p.id = c.person_id where c.action = 'withdrawn' and c.recorded_at <= ${cutoff}
              and not exists (select 1 from consent_record later where later.person_id = c.person_id and later.purpose = c.purpose and later.recorded_at > c.recorded_at)`,
            keys: ['c.id'],
          }),
      remove: async (trx, ids): Promise<Removed> => {
        if (ids.length === 0) return { counts: {}, ids: [] };
        const withdrawals = await trx.selectFrom('consent_record').select(['person_id', 'purpose', 'recorded_at']).where('id', 'in', ids).execute();
        const all: string[] = [];
        for (const w of withdrawals) {
          const rows = await trx.selectFrom('consent_record').select('id').where('person_id', '=', w.person_id).where('purpose', '=', w.purpose).where('recorded_at', '<=', w.recorded_at).execute();
          all.push(...rows.map((r) => r.id));
        }
        const consent_record = all.length ? n(await trx.deleteFrom('consent_record').where('id', 'in', all).executeTakeFirst()) : 0;
        return { counts: { consent_record }, ids: all };
      },
    },
  },
  consent_confirmations: {
    received: {
      table: 'consent_confirmation',
      parts: (cutoff) => ({ select: 'c.id as id, p.email as email, c.person_id as person_id, c.inquiry_id as inquiry_id, c.requested_at as at', from: sql`from consent_confirmation c left join person p on p.id = c.person_id where c.requested_at <= ${cutoff}`, keys: ['c.id'] }),
      remove: (trx, ids) => deleteByIds(trx, 'consent_confirmation', ids),
    },
  },
  withdrawal_requests: {
    received: {
      table: 'withdrawal_request',
      parts: (cutoff) => ({ select: 'w.id as id, null as email, null as person_id, null as inquiry_id, w.requested_at as at', from: sql`from withdrawal_request w where w.requested_at <= ${cutoff}`, keys: ['w.id'] }),
      remove: async (trx, ids, cutoff) => {
        const removed = await deleteByIds(trx, 'withdrawal_request', ids);
        // The daily allowances are keyed hashes per day: past days go with the requests.
        const mail_allowance = n(await trx.deleteFrom('mail_allowance').where('day', '<', cutoff.slice(0, 10)).executeTakeFirst());
        return { counts: { ...removed.counts, ...(mail_allowance ? { mail_allowance } : {}) }, ids: removed.ids };
      },
    },
  },
  privacy_requests: {
    // A request is done when fulfilled, refused or closed; it is kept as proof until then plus the rule's days.
    fulfilled: {
      table: 'privacy_request',
      parts: (cutoff) => ({
        // The person a hold may name: the request's own or, once a deletion was fulfilled
        // (person_id emptied, address redacted to '[erased]'), the one under the requester's
        // keyed hash when a hold kept that person.
        select: `r.id as id, nullif(r.requester_email, '[erased]') as email, coalesce(r.person_id, (select q.id from person q where q.subject_key = r.requester_key)) as person_id, null as inquiry_id, coalesce(r.fulfilled_at, r.refused_at, r.closed_at) as at`,
        from: sql`from privacy_request r where r.status in ('fulfilled', 'refused', 'closed') and coalesce(r.fulfilled_at, r.refused_at, r.closed_at) <= ${cutoff}`,
        keys: ['r.id'],
      }),
      remove: async (trx, ids): Promise<Removed> => {
        if (ids.length === 0) return { counts: {}, ids: [] };
        const privacy_request_event = n(await trx.deleteFrom('privacy_request_event').where('request_id', 'in', ids).executeTakeFirst());
        const privacy_request = n(await trx.deleteFrom('privacy_request').where('id', 'in', ids).executeTakeFirst());
        return { counts: { privacy_request, privacy_request_event }, ids };
      },
    },
  },
  outbox: {
    fulfilled: {
      table: 'outbox',
      parts: (cutoff) => ({ select: 'o.id as id, coalesce(p.email, nullif(o.to_address, \'\')) as email, o.person_id as person_id, o.inquiry_id as inquiry_id, o.sent_at as at', from: sql`from outbox o left join person p on p.id = o.person_id where o.status = 'sent' and o.sent_at <= ${cutoff}`, keys: ['o.id'] }),
      remove: (trx, ids) => deleteByIds(trx, 'outbox', ids),
    },
    received: {
      table: 'outbox',
      parts: (cutoff) => ({ select: 'o.id as id, coalesce(p.email, nullif(o.to_address, \'\')) as email, o.person_id as person_id, o.inquiry_id as inquiry_id, o.created_at as at', from: sql`from outbox o left join person p on p.id = o.person_id where o.created_at <= ${cutoff}`, keys: ['o.id'] }),
      remove: (trx, ids) => deleteByIds(trx, 'outbox', ids),
    },
  },
  people: {
    last_activity: {
      table: 'person',
      parts: (cutoff) => ({ ...personParts(cutoff), from: sql`from person p where p.updated_at <= ${cutoff} and ${unreferencedPerson}` }),
      lockedPickParts: personParts,
      // The batch's rows were read again in its transaction with the rule's conditions, so
      // the person rows alone are deleted, without a statement per table that might refer
      // to them. On SQLite nothing can start to refer to them under the write lock. On
      // PostgreSQL a submission by the same address could, between that read and the
      // delete, and the foreign keys' cascade would then take its new inquiry: so the rows
      // are locked first and checked again by a statement of their own, which (read
      // committed) sees any such submission, committed by then; a later one waits for this
      // COMMIT and creates the person anew.
      remove: async (trx, ids, cutoff): Promise<Removed> => {
        if (ids.length === 0) return { counts: {}, ids: [] };
        let unreferenced = ids;
        if (isPostgres(trx)) {
          await sql`select id from person where id = any(${ids}::text[]) for update`.execute(trx);
          const rows = await sql<{ id: string }>`select p.id from person p where p.id = any(${ids}::text[]) and p.updated_at <= ${cutoff} and ${unreferencedPerson}`.execute(trx);
          unreferenced = rows.rows.map((r) => r.id);
          if (unreferenced.length === 0) return { counts: {}, ids: [] };
        }
        const person = isPostgres(trx)
          ? Number((await sql<{ n: string }>`with d as (delete from person where id = any(${unreferenced}::text[]) returning 1) select count(*) as n from d`.execute(trx)).rows[0].n)
          : n(await trx.deleteFrom('person').where('id', 'in', unreferenced).executeTakeFirst());
        return { counts: { person }, ids: unreferenced };
      },
    },
  },
};

/**
 * On SQLite, for the length of a sweep: a larger page cache (a batch revisits index pages
 * spread over the whole file), and no automatic checkpoint at the commit that crosses the
 * WAL's threshold, since that commit holds the write lock while it copies the WAL back and
 * syncs, and intake waits behind it; the sweep checkpoints between its batches instead
 * (`checkpointBetweenBatches`). Returns what puts the connection's settings back.
 */
export async function sqliteSweepSettings(db: Kysely<Database>): Promise<() => Promise<void>> {
  const read = async (pragma: string) => Number(Object.values((await sql.raw<Record<string, number>>(`PRAGMA ${pragma}`).execute(db)).rows[0] ?? {})[0]);
  const cache = await read('cache_size');
  const autocheckpoint = await read('wal_autocheckpoint');
  await sql.raw(`PRAGMA cache_size = ${SWEEP_CACHE_KIB > Math.abs(cache) ? -SWEEP_CACHE_KIB : cache}`).execute(db);
  await sql.raw('PRAGMA wal_autocheckpoint = 0').execute(db);
  return async () => {
    await sql.raw(`PRAGMA cache_size = ${Number.isFinite(cache) ? cache : -2000}`).execute(db);
    await sql.raw(`PRAGMA wal_autocheckpoint = ${Number.isFinite(autocheckpoint) ? autocheckpoint : 1000}`).execute(db);
  };
}
const SWEEP_CACHE_KIB = 64 * 1024;

/**
 * On SQLite, between two batches: copy the WAL back into the database without waiting
 * for anyone (PASSIVE), so the WAL stays small and the next writer starts it over.
 */
export async function checkpointBetweenBatches(db: Kysely<Database>): Promise<void> {
  await sql`PRAGMA wal_checkpoint(PASSIVE)`.execute(db);
}

/**
 * On SQLite, a number that changes whenever another connection commits: between batches
 * the sweep waits for it to change, so a writer that was waiting (sleeping in its busy
 * handler, which wakes only now and then) gets the database before the next batch.
 */
export async function dataVersion(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ data_version: number }>`PRAGMA data_version`.execute(db);
  return Number(rows[0]?.data_version ?? 0);
}

/** On SQLite: write the WAL back into the database and empty it, so no deleted page image lingers there. */
export async function checkpointSqlite(db: Kysely<Database>): Promise<void> {
  await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db);
}
