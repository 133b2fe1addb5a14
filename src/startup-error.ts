// Failures an operator causes and can fix (a port in use, a database that is away) are
// turned into one line naming the setting and the fix. Anything not recognised here is
// left as it is, so the CLI still prints its stack: that is a bug to report, not a setting.
import type { DatabaseTarget } from './config.ts';

/** The CLI prints only the message of these: no stack, exit code 1. */
export class StartupError extends Error {}

/** Where a PostgreSQL URL points, without its password (a URL may carry one). */
export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  database: string;
}

/**
 * WHATWG URL refuses a user with an empty host (postgres://me@/db?host=/socket/dir),
 * which pg accepts (the host then comes from ?host=, else localhost): parse it as pg does.
 */
export function parsePostgresUrl(url: string): URL {
  return new URL(url.replace(/^(postgres(?:ql)?:\/\/[^/?#]*@)(?=[/?#]|$)/, '$1localhost'));
}

export function postgresTarget(url: string): PostgresTarget {
  let parsed: URL;
  try {
    parsed = parsePostgresUrl(url);
  } catch {
    return { host: 'localhost', port: 5432, user: process.env.PGUSER ?? 'postgres', database: '' };
  }
  const user = decodeURIComponent(parsed.username) || process.env.PGUSER || process.env.USER || 'postgres';
  const host = parsed.searchParams.get('host') ?? (decodeURIComponent(parsed.hostname) || 'localhost');
  const port = Number(parsed.port || parsed.searchParams.get('port') || 5432);
  // Decoded as pg decodes it (decodeURI), so the name is the one pg connects to. libpq
  // and pg fall back to the user name when the URL names no database.
  const database = decodeURI(parsed.pathname.replace(/^\//, '')) || user;
  return { host, port, user, database };
}

export type StartupStage =
  | { stage: 'listen'; host: string; port: number }
  | { stage: 'database'; target: DatabaseTarget };

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function listenProblem(error: unknown, host: string, port: number): string | undefined {
  switch (codeOf(error)) {
    case 'EADDRINUSE':
      return `PORT ${port} is already in use by another process on ${host}: stop it or set PORT to a free port`;
    case 'EACCES':
      return `PORT ${port} needs administrator rights to listen on (ports below 1024 do): set PORT to 1024 or above, or put a reverse proxy in front`;
    case 'EADDRNOTAVAIL':
      return `HOST ${host} is not an address of this machine: set HOST to one of its addresses (127.0.0.1 for this machine only, 0.0.0.0 for every interface)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return `HOST ${host} does not resolve to an address: set HOST to an IP address of this machine (e.g. 127.0.0.1 or 0.0.0.0) or a name it can resolve`;
  }
  return undefined;
}

function postgresProblem(error: unknown, url: string): string | undefined {
  const t = postgresTarget(url);
  const where = `${t.host}:${t.port}`;
  const code = codeOf(error);
  const message = messageOf(error);
  switch (code) {
    case 'ECONNREFUSED':
      return `DATABASE_URL: no PostgreSQL server accepts connections at ${where}: start PostgreSQL, or fix the host and port in DATABASE_URL`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return `DATABASE_URL: the host ${t.host} does not resolve to an address: fix the host in DATABASE_URL`;
    case 'ENOENT':
      // A socket folder given as host (?host=/var/run/postgresql) with no server in it.
      if ((error as { syscall?: string }).syscall !== 'connect') return undefined;
      return `DATABASE_URL: no PostgreSQL server listens on the socket in ${t.host} (port ${t.port}): start PostgreSQL, or fix the host in DATABASE_URL`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
      return `DATABASE_URL: ${where} cannot be reached from this machine (${code}): fix the host in DATABASE_URL, or the network between them`;
    case '3D000':
      return `DATABASE_URL: the database "${t.database}" does not exist on ${where}: run \`lumetrax migrate\` to create it, or create it yourself (createdb ${t.database})`;
    case '28P01':
    case '28000':
      // The server's own reason (unknown role, no pg_hba.conf entry) names no secret.
      return `DATABASE_URL: PostgreSQL at ${where} refused the login as "${t.user}" (${message}): fix the user or password in DATABASE_URL, or the server's pg_hba.conf`;
    case '42501':
      return `DATABASE_URL: the role "${t.user}" lacks a privilege the migrations need in "${t.database}" (${message}): grant it (e.g. GRANT CREATE ON SCHEMA public TO "${t.user}") or use the database's owner`;
    case '57P03':
      return `DATABASE_URL: PostgreSQL at ${where} is starting up or shutting down: try again in a moment`;
    case '53300':
      return `DATABASE_URL: PostgreSQL at ${where} has no free connection slots: close other clients or raise max_connections`;
  }
  if (/timeout exceeded when trying to connect|connection timeout/i.test(message)) {
    return `DATABASE_URL: PostgreSQL at ${where} did not answer within 3 seconds: check that it is running and that the host and port in DATABASE_URL are right`;
  }
  if (/Connection terminated unexpectedly/i.test(message)) {
    return `DATABASE_URL: the server at ${where} closed the connection before PostgreSQL answered: check the host and port in DATABASE_URL (and sslmode if the server requires TLS)`;
  }
  if (/server does not support SSL/i.test(message)) {
    return `DATABASE_URL: PostgreSQL at ${where} does not offer TLS: remove sslmode from DATABASE_URL or enable ssl on the server`;
  }
  return undefined;
}

function sqliteProblem(error: unknown, path: string): string | undefined {
  const code = codeOf(error);
  // A file-system error counts only when it is about the database's own folder or file.
  const errorPath = (error as { path?: unknown } | null)?.path;
  const aboutDatabase = typeof errorPath === 'string' && path.startsWith(errorPath);
  if ((aboutDatabase && ['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST'].includes(code)) || /unable to open database file|readonly database/i.test(messageOf(error))) {
    return `DATABASE_URL: cannot open or create the SQLite file ${path} (${code || messageOf(error)}): set DATABASE_URL to sqlite:PATH in a folder this user may write to`;
  }
  if (/database is locked/i.test(messageOf(error))) {
    return `DATABASE_URL: the SQLite file ${path} is locked by another process: stop it, or give this process a file of its own`;
  }
  if (/file is not a database|malformed/i.test(messageOf(error))) {
    return `DATABASE_URL: ${path} is not a SQLite database (or is damaged): point DATABASE_URL at the right file`;
  }
  return undefined;
}

/**
 * The one mapping from a start-up failure to what the operator should change. Returns a
 * StartupError for failures caused by settings or the environment, else the error itself.
 */
export function explainStartupError(error: unknown, where: StartupStage): unknown {
  if (error instanceof StartupError) return error;
  let line: string | undefined;
  if (where.stage === 'listen') line = listenProblem(error, where.host, where.port);
  else if (where.target.kind === 'postgres') line = postgresProblem(error, where.target.url);
  else line = sqliteProblem(error, where.target.path);
  return line ? new StartupError(line, { cause: error }) : error;
}
