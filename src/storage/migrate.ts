import { Migrator, PostgresAdapter, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as initial from './migrations/2026-11-25-initial.ts';
import * as person from './migrations/2026-11-29-person.ts';
import * as accounts from './migrations/2026-11-30-accounts.ts';
import * as auditSignatures from './migrations/2026-11-30-audit-signatures.ts';
import * as correspondence from './migrations/2026-11-30-correspondence.ts';
import * as inboxIndexes from './migrations/2026-11-30-inbox-indexes.ts';
import * as erasure from './migrations/2026-12-01-erasure.ts';
import * as inboxSearch from './migrations/2026-12-01-inbox-search.ts';
import * as privacyRequests from './migrations/2026-12-01-privacy-requests.ts';
import * as retention from './migrations/2026-12-01-retention.ts';
import * as analytics from './migrations/2026-12-01-analytics.ts';
import * as analyticsSpeed from './migrations/2026-12-06-analytics-speed.ts';
import * as retentionSpeed from './migrations/2026-12-06-retention-speed.ts';
import * as analyticsRollupSlices from './migrations/2026-12-07-analytics-rollup-slices.ts';
import * as searchUnchanged from './migrations/2026-12-08-search-unchanged.ts';

// A static list rather than a folder scan: the set of migrations is part of the code.
const migrations: Record<string, Migration> = {
  '2026-11-25-initial': initial,
  '2026-11-29-person': person,
  '2026-11-30-accounts': accounts,
  '2026-11-30-audit-signatures': auditSignatures,
  '2026-11-30-correspondence': correspondence,
  '2026-11-30-inbox-indexes': inboxIndexes,
  '2026-12-01-erasure': erasure,
  '2026-12-01-inbox-search': inboxSearch,
  '2026-12-01-privacy-requests': privacyRequests,
  '2026-12-01-retention': retention,
  '2026-12-01-analytics': analytics,
  '2026-12-06-analytics-speed': analyticsSpeed,
  '2026-12-06-retention-speed': retentionSpeed,
  '2026-12-07-analytics-rollup-slices': analyticsRollupSlices,
  '2026-12-08-search-unchanged': searchUnchanged,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** On PostgreSQL the bookkeeping tables live in the schema the connection works in. */
async function currentSchema(db: Kysely<any>): Promise<string | undefined> {
  try {
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
    return rows[0]?.schema ?? undefined;
  } catch {
    return undefined; // SQLite has no schemas
  }
}

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  return migrateTo(db);
}

/** Up to and including `name` (tests of a data migration start from the state before it). */
const CATALOG_RACE = new Set(['3F000', '42P01', '42703']);

export async function migrateTo(db: Kysely<any>, name?: string): Promise<string[]> {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const migrationTableSchema = isPostgres ? await currentSchema(db) : undefined;
  const migrator = new Migrator({ db, provider, migrationTableSchema });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = name ? await migrator.migrateTo(name) : await migrator.migrateToLatest();
    // Kysely looks for its bookkeeping tables by listing the tables and columns of every
    // schema; a schema or table dropped meanwhile by someone else (another tenant, a
    // parallel test) fails that look-up (3F000, 42P01, 42703) although nothing of ours is
    // wrong, so it is tried again. A migration of ours failing that way fails five times.
    if (error && CATALOG_RACE.has(String((error as { code?: unknown }).code)) && attempt < 5) continue;
    if (error) throw error instanceof Error ? error : new Error(String(error));
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }
}
