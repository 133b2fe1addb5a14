// Analytics SQL: raw events in, rollups, and the dashboard's reads of the aggregates.
import { PostgresAdapter, sql, type ExpressionBuilder, type Kysely, type Transaction } from 'kysely';
import type { AnalyticsEventTable, Database } from '../storage/types.ts';

type Db = Kysely<Database> | Transaction<Database>;

// Rows go in as one JSON text per statement, unpacked by the database itself (SQLite's
// json_each, PostgreSQL's jsonb_array_elements, parsed once): one statement shape for any
// batch, one parameter to bind instead of eight per row, and no query built row by row in
// JS (Kysely's multi-row insert cost more CPU than the database's work). A statement takes
// at most INSERT_CHUNK rows (about 130 bytes each as JSON).
const INSERT_CHUNK = 5000;

/** A raw event as the JSON array the insert unpacks: what the ingest buffer holds, one string a view. */
export function eventTuple(r: AnalyticsEventTable): string {
  return JSON.stringify([r.hour, r.path, r.source, r.referrer_host, r.campaign, r.device, r.country, r.visitor]);
}

export async function insertEvents(db: Db, rows: AnalyticsEventTable[]): Promise<void> {
  await insertEventTuples(db, rows.map(eventTuple));
}

/** Inserts raw events given as eventTuple texts. */
export async function insertEventTuples(db: Db, tuples: string[]): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  for (let i = 0; i < tuples.length; i += INSERT_CHUNK) {
    const json = `[${tuples.slice(i, i + INSERT_CHUNK).join(',')}]`;
    const elements = postgres ? sql`jsonb_array_elements(${json}::jsonb) as e(value)` : sql`json_each(${json})`;
    await sql`insert into analytics_event (hour, path, source, referrer_host, campaign, device, country, visitor)
      select value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7 from ${elements}`.execute(db);
  }
}

export async function addBotCounts(db: Db, rows: Array<{ hour: string; layer: string; dropped: number }>): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('analytics_bots')
    .values(rows)
    .onConflict((oc) => oc.columns(['hour', 'layer']).doUpdateSet({ dropped: sql`analytics_bots.dropped + excluded.dropped` }))
    .execute();
}

const DIMENSIONS = ['hour', 'path', 'source', 'referrer_host', 'campaign', 'device', 'country'] as const;
const BREAKDOWNS = ['path', 'source', 'referrer_host', 'campaign', 'device', 'country'] as const;
type Dimension = (typeof DIMENSIONS)[number];

// The first two characters of a visitor key: the unit rollup slices are made of (keys are
// a keyed hash in base64url, so 4,096 about equal shares). Written out in the SQL, with no bound
// parameter, so that both databases match it to the index on it.
const SHARE = sql<string>`substr(visitor, 1, 2)`;

/** The raw rows a rollup (slice) takes: before `beforeHour`, and with `shares`, only theirs. */
type RowFilter = ReturnType<typeof rowFilter>;
function rowFilter(beforeHour: string, shares?: readonly string[]) {
  if (shares?.length === 0) throw new Error('a rollup slice needs at least one share of the visitor keys');
  return (eb: ExpressionBuilder<Database, 'analytics_event'>) =>
    shares === undefined ? eb('hour', '<', beforeHour) : eb.and([eb('hour', '<', beforeHour), eb(SHARE, 'in', [...shares])]);
}

/** How many raw events before `beforeHour` each share of the visitor keys holds, in key order. */
export async function eventsPerShare(db: Db, beforeHour: string): Promise<Array<{ share: string; events: number }>> {
  const rows = await db.selectFrom('analytics_event').select([SHARE.as('share'), sql<number>`count(*)`.as('events')]).where('hour', '<', beforeHour).groupBy(SHARE).execute();
  return rows.map((r) => ({ share: r.share, events: Number(r.events) })).sort((a, b) => (a.share < b.share ? -1 : a.share > b.share ? 1 : 0));
}

/**
 * PostgreSQL: fresh planner statistics for the raw table, which has just filled up from
 * empty. Without them a slice's grouping is planned for a few hundred rows, as sorts under
 * the database's collation, several times slower than the hash aggregation it gets with
 * them. ANALYZE samples the table and blocks no inserts.
 */
export async function analyzeEvents(db: Db): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) await sql`analyze analytics_event`.execute(db);
}

/** SQLite: the rowids of the raw table's first row and last row (0, 0 when empty). */
export async function eventRowids(db: Db): Promise<{ first: number; last: number }> {
  const { rows } = await sql<{ first: number | null; last: number | null }>`select min(rowid) as first, max(rowid) as last from analytics_event`.execute(db);
  return { first: Number(rows[0]?.first ?? 0), last: Number(rows[0]?.last ?? 0) };
}

/** SQLite: the rowid `count` rows after `from` (the end of a run of rows), or undefined past the last. */
export async function rowidAfter(db: Db, from: number, count: number): Promise<number | undefined> {
  const { rows } = await sql<{ id: number }>`select rowid as id from analytics_event where rowid >= ${from} order by rowid limit 1 offset ${count}`.execute(db);
  return rows[0] === undefined ? undefined : Number(rows[0].id);
}

/**
 * SQLite: writes the raw events before `beforeHour` with a rowid in [from, to) again at the
 * table's end, ordered by visitor key, and deletes the originals. Views arrive in time
 * order, so one share's rows lie on nearly every page of the table, and every rollup slice
 * would read and rewrite all of them; after this, a share's rows of each run sit together.
 * Nothing is counted or lost: the rows stay raw, and the caller runs it in one transaction.
 */
export async function regroupEvents(trx: Transaction<Database>, beforeHour: string, from: number, to: number): Promise<number> {
  await sql`insert into analytics_event (hour, path, source, referrer_host, campaign, device, country, visitor)
    select hour, path, source, referrer_host, campaign, device, country, visitor from analytics_event
    where rowid >= ${from} and rowid < ${to} and hour < ${beforeHour} order by visitor`.execute(trx);
  const deleted = await sql`delete from analytics_event where rowid >= ${from} and rowid < ${to} and hour < ${beforeHour}`.execute(trx);
  return Number(deleted.numAffectedRows ?? 0);
}

/**
 * Distinct visitors and page views of the raw events `rows` selects, grouped by
 * `columns`. PostgreSQL sorts each group's visitors for count(distinct) under the
 * database's collation (most of a 100,000-event rollup's time), so there the events are
 * grouped by the columns and visitor first and those groups counted: two hash
 * aggregations and no sort. SQLite has no hash aggregation, and its count(distinct) is
 * the faster of the two there.
 */
function countVisitors<C extends Dimension>(trx: Transaction<Database>, postgres: boolean, rows: RowFilter, columns: readonly C[]) {
  if (!postgres) {
    return trx
      .selectFrom('analytics_event')
      .select([...columns, sql<number>`count(distinct visitor)`.as('visitors'), sql<number>`count(*)`.as('pageviews')])
      .where(rows)
      .groupBy([...columns]);
  }
  const perVisitor = trx
    .selectFrom('analytics_event')
    .select([...columns, 'visitor', sql<number>`count(*)`.as('n')])
    .where(rows)
    .groupBy([...columns, 'visitor'])
    .as('per_visitor');
  return trx
    .selectFrom(perVisitor)
    .select([...columns.map((c) => sql.ref<string>(`per_visitor.${c}`).as(c)), sql<number>`count(*)`.as('visitors'), sql<number>`sum(n)`.as('pageviews')])
    .groupBy(columns.map((c) => sql.ref(`per_visitor.${c}`)));
}

/**
 * Rolls every raw event before `beforeHour` into the aggregates (added to what an earlier
 * run stored for the same hour, e.g. a late-flushed event) and deletes those events; with
 * `shares`, only the events whose visitor key starts with one of those prefixes (a
 * slice). All of a visitor's events fall in one slice, so distinct visitors, visits and
 * bounces add up across slices exactly. The caller runs it in one transaction, so a crash
 * leaves either all of it or none.
 */
export async function rollUpEvents(trx: Transaction<Database>, beforeHour: string, shares?: readonly string[]): Promise<{ events: number; aggregates: number; breakdowns: number; hours: number }> {
  const postgres = trx.getExecutor().adapter instanceof PostgresAdapter;
  const rows = rowFilter(beforeHour, shares);
  const hourly = await trx
    .insertInto('analytics_hourly')
    .columns([...DIMENSIONS, 'visitors', 'pageviews'])
    .expression(countVisitors(trx, postgres, rows, DIMENSIONS) as never)
    .onConflict((oc) =>
      oc.columns([...DIMENSIONS]).doUpdateSet({
        visitors: sql`analytics_hourly.visitors + excluded.visitors`,
        pageviews: sql`analytics_hourly.pageviews + excluded.pageviews`,
      }),
    )
    .executeTakeFirst();
  // Each dimension on its own, so a table's visitors are distinct within the hour.
  let breakdowns = 0;
  for (const dimension of BREAKDOWNS) {
    const counted = countVisitors(trx, postgres, rows, ['hour', dimension]).as('c');
    const r = await trx
      .insertInto('analytics_breakdown')
      .columns(['hour', 'dimension', 'value', 'visitors', 'pageviews'])
      .expression(
        trx
          .selectFrom(counted)
          .select(['c.hour', sql.lit(dimension).as('dimension'), sql.ref<string>(`c.${dimension}`).as('value'), 'c.visitors', 'c.pageviews'])
          // "where true": SQLite would read the ON CONFLICT below as a join's ON otherwise.
          .where(sql<boolean>`true`) as never,
      )
      .onConflict((oc) =>
        oc.columns(['dimension', 'hour', 'value']).doUpdateSet({
          visitors: sql`analytics_breakdown.visitors + excluded.visitors`,
          pageviews: sql`analytics_breakdown.pageviews + excluded.pageviews`,
        }),
      )
      .executeTakeFirst();
    breakdowns += Number(r.numInsertedOrUpdatedRows ?? 0);
  }
  // The days touched get their daily breakdown summed again from the per-hour rows, which
  // now hold this run's counts and any earlier run's for the same hours.
  const days = await trx.selectFrom('analytics_event').select(sql<string>`substr(hour, 1, 10)`.as('day')).where(rows).distinct().execute();
  for (const { day } of days) {
    await trx.deleteFrom('analytics_breakdown_daily').where('day', '=', day).execute();
    await trx
      .insertInto('analytics_breakdown_daily')
      .columns(['day', 'dimension', 'value', 'visitors', 'pageviews'])
      .expression(
        trx
          .selectFrom('analytics_breakdown')
          .select([sql.lit(day).as('day'), 'dimension', 'value', sql<number>`sum(visitors)`.as('visitors'), sql<number>`sum(pageviews)`.as('pageviews')])
          .where('dimension', 'in', BREAKDOWNS)
          .where('hour', '>=', `${day}T00`)
          .where('hour', '<=', `${day}T23`)
          .groupBy(['dimension', 'value']),
      )
      .execute();
  }
  // A visit is one visitor key's page views within one hour; a bounce, a visit of one view.
  const visits = await trx
    .insertInto('analytics_visits')
    .columns(['hour', 'visits', 'pageviews', 'bounces'])
    .expression((eb) =>
      eb
        .selectFrom(
          eb
            .selectFrom('analytics_event')
            .select(['hour', 'visitor', sql<number>`count(*)`.as('n')])
            .where(rows)
            .groupBy(['hour', 'visitor'])
            .as('v'),
        )
        .select(['v.hour', sql<number>`count(*)`.as('visits'), sql<number>`sum(v.n)`.as('pageviews'), sql<number>`sum(case when v.n = 1 then 1 else 0 end)`.as('bounces')])
        .where(sql<boolean>`true`)
        .groupBy('v.hour'),
    )
    .onConflict((oc) =>
      oc.column('hour').doUpdateSet({
        visits: sql`analytics_visits.visits + excluded.visits`,
        pageviews: sql`analytics_visits.pageviews + excluded.pageviews`,
        bounces: sql`analytics_visits.bounces + excluded.bounces`,
      }),
    )
    .executeTakeFirst();
  const deleted = await trx.deleteFrom('analytics_event').where(rows).executeTakeFirst();
  return { events: Number(deleted.numDeletedRows), aggregates: Number(hourly.numInsertedOrUpdatedRows ?? 0), breakdowns, hours: Number(visits.numInsertedOrUpdatedRows ?? 0) };
}

export async function countRawEvents(db: Db): Promise<number> {
  const row = await db.selectFrom('analytics_event').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface Totals {
  visits: number;
  pageviews: number;
  bounces: number;
}

/** Hours are half-open: from <= hour < to. */
export async function totals(db: Db, from: string, to: string): Promise<Totals> {
  const row = await db
    .selectFrom('analytics_visits')
    .select([sql<number>`coalesce(sum(visits), 0)`.as('visits'), sql<number>`coalesce(sum(pageviews), 0)`.as('pageviews'), sql<number>`coalesce(sum(bounces), 0)`.as('bounces')])
    .where('hour', '>=', from)
    .where('hour', '<', to)
    .executeTakeFirstOrThrow();
  return { visits: Number(row.visits), pageviews: Number(row.pageviews), bounces: Number(row.bounces) };
}

/** Visits and page views per bucket: the first `prefixLength` characters of the hour (10 = day, 13 = hour). */
export async function series(db: Db, from: string, to: string, prefixLength: 10 | 13): Promise<Array<{ bucket: string; visits: number; pageviews: number }>> {
  const bucket = sql<string>`substr(hour, 1, ${sql.lit(prefixLength)})`;
  const rows = await db
    .selectFrom('analytics_visits')
    .select([bucket.as('bucket'), sql<number>`sum(visits)`.as('visits'), sql<number>`sum(pageviews)`.as('pageviews')])
    .where('hour', '>=', from)
    .where('hour', '<', to)
    .groupBy(bucket)
    .orderBy(bucket)
    .execute();
  return rows.map((r) => ({ bucket: r.bucket, visits: Number(r.visits), pageviews: Number(r.pageviews) }));
}

export type Breakdown = 'path' | 'source' | 'referrer_host' | 'campaign' | 'device' | 'country';

// Dimensions whose '' (none) is a value of its own rather than "not known".
const EMPTY_IS_VALUE: readonly Breakdown[] = ['source', 'device', 'country'];

/**
 * The top values of each dimension by page views over whole UTC days, from <= day <= to
 * (visitors distinct per hour, summed), at most `limits[dimension]` each, in one query:
 * one read of the daily breakdown instead of one per table. '' (none) is left out except
 * for source, device and country.
 */
export async function breakdowns(db: Db, fromDay: string, toDay: string, limits: Record<Breakdown, number>): Promise<Record<Breakdown, Array<{ key: string; visitors: number; pageviews: number }>>> {
  const dimensions = Object.keys(limits) as Breakdown[];
  const ranked = db
    .selectFrom('analytics_breakdown_daily')
    .select([
      'dimension',
      'value',
      sql<number>`sum(visitors)`.as('visitors'),
      sql<number>`sum(pageviews)`.as('pageviews'),
      sql<number>`row_number() over (partition by dimension order by sum(pageviews) desc, value)`.as('rank'),
    ])
    .where('dimension', 'in', dimensions)
    .where('day', '>=', fromDay)
    .where('day', '<=', toDay)
    .where((eb) => eb.or([eb('value', '<>', ''), eb('dimension', 'in', EMPTY_IS_VALUE)]))
    .groupBy(['dimension', 'value'])
    .as('ranked');
  const limit = sql<number>`case ranked.dimension ${sql.join(
    dimensions.map((d) => sql`when ${d} then ${sql.lit(limits[d])}`),
    sql` `,
  )} end`;
  const rows = await db
    .selectFrom(ranked)
    .select(['ranked.dimension', 'ranked.value', 'ranked.visitors', 'ranked.pageviews'])
    .where('ranked.rank', '<=', limit)
    .orderBy('ranked.dimension')
    .orderBy('ranked.rank')
    .execute();
  const out = Object.fromEntries(dimensions.map((d) => [d, [] as Array<{ key: string; visitors: number; pageviews: number }>])) as Record<Breakdown, Array<{ key: string; visitors: number; pageviews: number }>>;
  for (const r of rows) out[r.dimension as Breakdown].push({ key: r.value, visitors: Number(r.visitors), pageviews: Number(r.pageviews) });
  return out;
}

export async function botCounts(db: Db, from: string, to: string): Promise<Array<{ layer: string; dropped: number }>> {
  const rows = await db
    .selectFrom('analytics_bots')
    .select(['layer', sql<number>`sum(dropped)`.as('dropped')])
    .where('hour', '>=', from)
    .where('hour', '<', to)
    .groupBy('layer')
    .execute();
  return rows.map((r) => ({ layer: r.layer, dropped: Number(r.dropped) }));
}
