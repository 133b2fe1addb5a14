// `lumetrax migrate` against the real PostgreSQL server: a missing database is created
// (its name quoted as an identifier, never spliced raw), and a role without CREATEDB is
// told so in one line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PG_BASE_URL, postgresReachable } from '../support/db.ts';
import { assertOneLineFailure, runCli } from './run-cli.ts';

function urlWith(database: string, user?: string): string {
  const url = new URL(PG_BASE_URL);
  url.pathname = `/${encodeURIComponent(database)}`;
  if (user) url.username = user;
  return url.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_BASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const databaseExists = (name: string) => admin(async (c) => (await c.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1);

describe('`lumetrax migrate` on PostgreSQL', async () => {
  const reachable = await postgresReachable();
  const skip = reachable ? false : `PostgreSQL not reachable at ${PG_BASE_URL}: migrate tests skipped`;
  const suffix = randomBytes(4).toString('hex');
  // Spaces, quotes and capitals: only a properly quoted identifier creates exactly this name.
  const odd = `lumetrax_t_${suffix} "Odd" Name`;
  const role = `lumetrax_nocreate_${suffix}`;

  before(async () => {
    if (reachable) await admin((c) => c.query(`create role ${pg.escapeIdentifier(role)} login nocreatedb`));
  });
  after(async () => {
    if (!reachable) return;
    await admin(async (c) => {
      await c.query(`drop database if exists ${pg.escapeIdentifier(odd)} with (force)`);
      await c.query(`drop role if exists ${pg.escapeIdentifier(role)}`);
    });
  });

  test('creates a missing database, then migrates it; a second run has nothing to do', { skip }, async () => {
    assert.equal(await databaseExists(odd), false);
    const first = await runCli(['migrate'], { DATABASE_URL: urlWith(odd) });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(await databaseExists(odd), true, 'the database exists under exactly that name');
    assert.match(first.stdout, /^Created database "lumetrax_t_[0-9a-f]+ "Odd" Name"\.$/m);
    assert.match(first.stdout, /^Applied: 2026-11-25-initial/m);
    const tables = new pg.Client({ connectionString: urlWith(odd) });
    await tables.connect();
    try {
      const { rows } = await tables.query(`select count(*)::int as n from information_schema.tables where table_name = 'outbox'`);
      assert.equal(rows[0].n, 1, 'the migrations ran in the new database');
    } finally {
      await tables.end();
    }

    const second = await runCli(['migrate'], { DATABASE_URL: urlWith(odd) });
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stdout, /Created database/);
    assert.match(second.stdout, /^Database is up to date\.$/m);
  });

  test('a role without CREATEDB is told so in one line', { skip }, async () => {
    const missing = `lumetrax_t_${suffix}_never`;
    const res = await runCli(['migrate'], { DATABASE_URL: urlWith(missing, role) });
    assertOneLineFailure(res, new RegExp(`^DATABASE_URL: the database "${missing}" does not exist on [^ ]+ and the role "${role}" may not create databases \\(it lacks CREATEDB\\): `));
    assert.equal(await databaseExists(missing), false);
  });
});
