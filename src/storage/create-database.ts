// `lumetrax migrate` on a PostgreSQL server where the database does not exist yet:
// create it through the server's maintenance database, as `createdb` would, when the
// role may. Only this command creates databases; `serve` says to run it instead.
import { createRequire } from 'node:module';
import type pgTypes from 'pg';
import { explainStartupError, parsePostgresUrl, postgresTarget, StartupError } from '../startup-error.ts';

const require = createRequire(import.meta.url);

/** The same URL (user, password, TLS settings) pointed at another database. */
function urlFor(url: string, database: string): string {
  const u = parsePostgresUrl(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  // A search_path option names a schema of the target database; it means nothing elsewhere.
  u.searchParams.delete('options');
  return u.toString();
}

async function connect(pg: typeof pgTypes, url: string): Promise<pgTypes.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

/**
 * Returns the name of the database it created, or undefined when it was already there.
 * Connection failures are explained as start-up errors (one line, naming DATABASE_URL).
 */
export async function createDatabaseIfMissing(url: string): Promise<string | undefined> {
  const pg = require('pg') as typeof pgTypes;
  const target = postgresTarget(url);
  const explain = (error: unknown) => explainStartupError(error, { stage: 'database', target: { kind: 'postgres', url } });
  try {
    const client = await connect(pg, url);
    await client.end().catch(() => undefined);
    return undefined;
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') throw explain(error);
  }

  // `postgres` is the usual maintenance database; template1 exists on every server.
  let admin: pgTypes.Client | undefined;
  let lastError: unknown;
  for (const maintenance of ['postgres', 'template1']) {
    try {
      admin = await connect(pg, urlFor(url, maintenance));
      break;
    } catch (error) {
      lastError = error;
      if (!['3D000', '28000'].includes((error as { code?: string }).code ?? '')) break;
    }
  }
  if (!admin) {
    const reason = lastError instanceof Error ? lastError.message : String(lastError);
    throw new StartupError(
      `DATABASE_URL: the database "${target.database}" does not exist on ${target.host}:${target.port}, and the role "${target.user}" cannot connect to the postgres or template1 database to create it (${reason}): create it yourself (createdb -O ${target.user} ${target.database})`,
    );
  }
  try {
    // The name comes from the operator's URL: quoted as an identifier, never spliced raw.
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(target.database)}`);
    return target.database;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === '42P04') return undefined; // created meanwhile by someone else
    if (code === '42501') {
      throw new StartupError(
        `DATABASE_URL: the database "${target.database}" does not exist on ${target.host}:${target.port} and the role "${target.user}" may not create databases (it lacks CREATEDB): create it as a superuser (createdb -O ${target.user} ${target.database}) or grant the role CREATEDB, then run \`lumetrax migrate\` again`,
        { cause: error },
      );
    }
    throw explain(error);
  } finally {
    await admin.end().catch(() => undefined);
  }
}
