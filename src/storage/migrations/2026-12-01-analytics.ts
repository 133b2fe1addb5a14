// Frozen: never edit a migration that has shipped; add a new one.
//
// Cookieless analytics (src/analytics). Raw events live only until the next rollup and
// hold no address, no user agent and nothing stable across days: the visitor column is
// an HMAC under a daily secret that is never written anywhere. The rollup turns them into
// the aggregate tables and deletes them in the same transaction. Dimension columns are
// NOT NULL ('' for "none") so they can form the aggregates' primary keys on both databases.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('analytics_event')
    .addColumn('hour', 'text', (c) => c.notNull()) // UTC, YYYY-MM-DDTHH
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('referrer_host', 'text', (c) => c.notNull())
    .addColumn('campaign', 'text', (c) => c.notNull())
    .addColumn('device', 'text', (c) => c.notNull())
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('visitor', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('analytics_event_hour').on('analytics_event').column('hour').execute();

  await db.schema
    .createTable('analytics_hourly')
    .addColumn('hour', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('referrer_host', 'text', (c) => c.notNull())
    .addColumn('campaign', 'text', (c) => c.notNull())
    .addColumn('device', 'text', (c) => c.notNull())
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('visitors', 'integer', (c) => c.notNull())
    .addColumn('pageviews', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('analytics_hourly_pk', ['hour', 'path', 'source', 'referrer_host', 'campaign', 'device', 'country'])
    .execute();

  // Per hour and dimension value: distinct visitors counted on that one dimension (a
  // visitor who saw two pages counts once for their country), for the dashboard's tables.
  await db.schema
    .createTable('analytics_breakdown')
    .addColumn('hour', 'text', (c) => c.notNull())
    .addColumn('dimension', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('visitors', 'integer', (c) => c.notNull())
    .addColumn('pageviews', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('analytics_breakdown_pk', ['dimension', 'hour', 'value'])
    .execute();
  // Covering: a dashboard table (one dimension over a range of hours) is read from the
  // index alone (bench/analytics.ts: 30 days over 1,000,000 views).
  await db.schema.createIndex('analytics_breakdown_cover').on('analytics_breakdown').columns(['dimension', 'hour', 'value', 'visitors', 'pageviews']).execute();

  // Per hour: visits (a visitor's page views within one UTC hour), their page views and
  // the visits of a single page view (bounces), for the headline figures.
  await db.schema
    .createTable('analytics_visits')
    .addColumn('hour', 'text', (c) => c.primaryKey())
    .addColumn('visits', 'integer', (c) => c.notNull())
    .addColumn('pageviews', 'integer', (c) => c.notNull())
    .addColumn('bounces', 'integer', (c) => c.notNull())
    .execute();

  // Dropped bot traffic, counted by layer; never an event row.
  await db.schema
    .createTable('analytics_bots')
    .addColumn('hour', 'text', (c) => c.notNull())
    .addColumn('layer', 'text', (c) => c.notNull())
    .addColumn('dropped', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('analytics_bots_pk', ['hour', 'layer'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['analytics_bots', 'analytics_visits', 'analytics_breakdown', 'analytics_hourly', 'analytics_event']) await db.schema.dropTable(t).execute();
}
