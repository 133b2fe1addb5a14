// Environment -> typed config, validated once at start. Every tunable limit lives here
// (and in the README's settings table) so operators and benchmarks can change it.
import { randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Policy } from './policy/schema.ts';
import { loadAuditSigningKey } from './audit/signing-key.ts';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const intFrom = (min: number, max: number) =>
  z.coerce.number().int().min(min).max(max);

// One format for the secret wherever it is written (setting or data/secret.key): hex,
// so copying the file into the setting gives the same key.
const HEX_SECRET = /^(?:[0-9a-fA-F]{2}){32,}$/;
const HEX_SECRET_RULE = 'must be at least 64 hexadecimal characters (32 random bytes), e.g. the output of `openssl rand -hex 32`';

const envSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: intFrom(0, 65535).default(3000),
  DATABASE_URL: z.string().optional(),
  POLICY_FILE: z.string().default('policy/lumetrax.yaml'),
  PUBLIC_URL: z.url().optional(),
  SECRET_KEY: z.string().regex(HEX_SECRET, HEX_SECRET_RULE).optional(),
  SECRET_KEY_PREVIOUS: z.string().regex(HEX_SECRET, HEX_SECRET_RULE).optional(),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://').optional(),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
  MAIL_POLL_MS: intFrom(50, 3_600_000).default(2000),
  MAIL_MAX_BACKOFF_SECONDS: intFrom(1, 86_400).default(3600),
  RATE_LIMIT_MAX: intFrom(1, 10_000_000).default(10),
  RATE_LIMIT_WINDOW_SECONDS: intFrom(1, 86_400).default(60),
  // Unset: derived from the policy's field lengths (see formBodyLimitBytes).
  BODY_LIMIT_BYTES: intFrom(1024, 10 * 1024 * 1024).optional(),
  REQUEST_TIMEOUT_SECONDS: intFrom(1, 3600).default(30),
  HEADERS_TIMEOUT_SECONDS: intFrom(1, 3600).default(10),
  FORM_MIN_FILL_SECONDS: intFrom(0, 3600).default(3),
  FORM_MAX_AGE_HOURS: intFrom(1, 24 * 30).default(24),
  TRUST_PROXY: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  AUTO_MIGRATE: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  SQLITE_SYNCHRONOUS: z.enum(['FULL', 'NORMAL']).default('FULL'),
  // Checked when the key is read (loadAuditSigningKey), for a message that says what to do.
  AUDIT_SIGNING_KEY: z.string().optional(),
  AUDIT_SIGN_EVERY_SECONDS: intFrom(1, 86_400).default(300),
  // Inbound mail (correspondence): a built-in SMTP listener, off unless a port is set.
  INBOUND_SMTP_PORT: intFrom(0, 65535).optional(),
  INBOUND_SMTP_HOST: z.string().min(1).default('127.0.0.1'),
  // PEM files; both set turns on STARTTLS.
  INBOUND_SMTP_TLS_CERT: z.string().min(1).optional(),
  INBOUND_SMTP_TLS_KEY: z.string().min(1).optional(),
  // imap://user:pass@host:port/MAILBOX or imaps://...; unset means no polling.
  IMAP_URL: z.string().regex(/^imaps?:\/\/[^/]+/, 'must start with imap:// or imaps:// and name a host, e.g. imaps://user:pass@mail.example.com/INBOX').optional(),
  IMAP_POLL_MS: intFrom(1000, 86_400_000).default(60_000),
  // Staff console. argon2id costs follow OWASP's second option (19 MiB, t=2, p=1), which
  // takes roughly 30-60 ms on one core of a small 2-core server.
  ARGON2_MEMORY_KIB: intFrom(1024, 4 * 1024 * 1024).default(19_456),
  ARGON2_PASSES: intFrom(1, 100).default(2),
  ARGON2_PARALLELISM: intFrom(1, 16).default(1),
  STAFF_SETUP_LINK_HOURS: intFrom(1, 24 * 30).default(72),
  STAFF_SESSION_IDLE_MINUTES: intFrom(1, 24 * 60).default(30),
  STAFF_SESSION_MAX_HOURS: intFrom(1, 24 * 30).default(12),
  SIGN_IN_MAX_FAILURES: intFrom(1, 1000).default(5),
  SIGN_IN_MAX_PER_ADDRESS: intFrom(1, 100_000).default(30),
  SIGN_IN_WINDOW_SECONDS: intFrom(1, 86_400).default(900),
  // Analytics ingest (src/analytics): events per client address per minute at POST
  // /api/event, page views per visitor key per minute before the rate layer drops them as
  // a bot, and how often the in-memory event buffer is written (what a crash may lose).
  ANALYTICS_RATE_LIMIT_MAX: intFrom(1, 10_000_000).default(120),
  ANALYTICS_MAX_VIEWS_PER_MINUTE: intFrom(1, 10_000_000).default(30),
  ANALYTICS_FLUSH_MS: intFrom(50, 10_000).default(1000),
  // Where scheduled backups of the SQLite database go (and `lumetrax backup` without
  // --out); the backup job destroys those older than the policy's backup_retention_days.
  // Unset: a folder `backups` beside the database file.
  BACKUP_DIR: z.string().min(1).optional(),
}).refine((e) => e.HEADERS_TIMEOUT_SECONDS <= e.REQUEST_TIMEOUT_SECONDS, {
  // Node refuses a headers timeout longer than the request timeout.
  path: ['HEADERS_TIMEOUT_SECONDS'],
  message: 'must not be longer than REQUEST_TIMEOUT_SECONDS',
});

export type DatabaseTarget =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string };

// Each setting is stated once, in envSchema; the config carries it under its camelCase
// name (MAIL_POLL_MS -> mailPollMs) with the schema's type.
type Env = z.output<typeof envSchema>;
type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Lowercase<Head>}${Capitalize<CamelCase<Tail>>}` : Lowercase<S>;
type Settings = { [K in keyof Env as CamelCase<K & string>]: Env[K] };

const camelCase = (name: string) => name.toLowerCase().replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

/** Settings the app holds in another form than they are written, and what follows from them. */
interface Derived {
  database: DatabaseTarget;
  /** Resolved against the project root. */
  policyFile: string;
  publicUrl: string;
  https: boolean;
  secretKey: Buffer;
  /** The key before the last rotation: links it signed keep working while it is set. */
  previousSecretKey: Buffer | undefined;
  /** The largest body: BODY_LIMIT_BYTES, or 0 until buildApp derives it from the policy. */
  bodyLimitBytes: number;
  /** Ed25519 private key that signs the audit chain head (AUDIT_SIGNING_KEY or data/audit-signing.key). */
  auditSigningKey: KeyObject;
  /** BACKUP_DIR resolved, or `backups` beside the SQLite file; undefined for PostgreSQL and :memory:. */
  backupDir: string | undefined;
}

// Secrets are only ever held as the keys derived below, never copied as text.
export type Config = Omit<Settings, 'databaseUrl' | `secretKey${string}` | keyof Derived> & Derived;

export class ConfigError extends Error {}

/**
 * The default body limit: the largest valid form never gets a 413. Worst case per
 * field: 4 UTF-8 bytes per character, each percent-encoded (x3), plus the names, the
 * signed token, the opt-in, the honeypot and room for a browser's extra fields.
 */
export function formBodyLimitBytes(policy: Pick<Policy, 'fields'>): number {
  let bytes = 0;
  for (const [name, field] of Object.entries(policy.fields)) bytes += name.length + 2 + (field.max_length ?? 200) * 4 * 3;
  return bytes + 4096;
}

export function parseDatabaseUrl(url: string | undefined, root = projectRoot): DatabaseTarget {
  if (!url) return { kind: 'sqlite', path: resolve(root, 'data/lumetrax.db') };
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (!path) throw new ConfigError('DATABASE_URL: sqlite: needs a file path, e.g. sqlite:./data/other.db');
    return { kind: 'sqlite', path: path === ':memory:' ? path : resolve(root, path) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url };
  throw new ConfigError(
    'DATABASE_URL: expected unset (SQLite under ./data), sqlite:PATH or postgres://user@host:port/db',
  );
}

// Without SECRET_KEY, a random key is kept beside the default database so form tokens
// and unsubscribe links survive restarts on a single machine.
function loadOrCreateSecret(explicit: string | undefined, root: string): Buffer {
  if (explicit) return Buffer.from(explicit, 'hex');
  const file = resolve(root, 'data/secret.key');
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8').trim();
    if (!HEX_SECRET.test(text)) throw new ConfigError(`${file}: ${HEX_SECRET_RULE}; fix or delete the file (a new key invalidates links already sent)`);
    return Buffer.from(text, 'hex');
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(32).toString('hex');
  writeFileSync(file, key + '\n', { mode: 0o600 });
  return Buffer.from(key, 'hex');
}

function backupDirFor(database: DatabaseTarget, setting: string | undefined, root: string): string | undefined {
  if (database.kind !== 'sqlite' || database.path === ':memory:') return undefined;
  return setting ? resolve(root, setting) : resolve(dirname(database.path), 'backups');
}

/** The policy file alone, for commands that need nothing else (no database, no keys). */
export function policyFileFrom(env: NodeJS.ProcessEnv = process.env, root = projectRoot): string {
  return resolve(root, envSchema.shape.POLICY_FILE.parse(env.POLICY_FILE));
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, root = projectRoot): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid environment settings:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const publicUrl = (e.PUBLIC_URL ?? `http://${e.HOST}:${e.PORT}`).replace(/\/$/, '');
  const database = parseDatabaseUrl(e.DATABASE_URL, root);
  const plain = Object.fromEntries(
    Object.entries(e)
      .filter(([name]) => name !== 'DATABASE_URL' && !name.startsWith('SECRET_KEY'))
      .map(([name, value]) => [camelCase(name), value]),
  ) as Omit<Config, keyof Derived>;
  return {
    ...plain,
    database,
    policyFile: resolve(root, e.POLICY_FILE),
    publicUrl,
    https: publicUrl.startsWith('https://'),
    secretKey: loadOrCreateSecret(e.SECRET_KEY, root),
    previousSecretKey: e.SECRET_KEY_PREVIOUS ? Buffer.from(e.SECRET_KEY_PREVIOUS, 'hex') : undefined,
    bodyLimitBytes: e.BODY_LIMIT_BYTES ?? 0,
    auditSigningKey: loadAuditSigningKey(e.AUDIT_SIGNING_KEY, root),
    backupDir: backupDirFor(database, e.BACKUP_DIR, root),
  };
}
