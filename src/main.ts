// The `lumetrax` command line. Every command is one entry in `commands`: its words,
// arguments and options there are what the parser checks and what the usage shows.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, loadConfig, parseDatabaseUrl, policyFileFrom, type Config } from './config.ts';
import { exportTrail, verifyDatabase, verifyExport } from './audit/commands.ts';
import { publicKeyPem } from './audit/signing-key.ts';
import { exportMarketingList } from './consent/export-marketing.ts';
import { maskEmail } from './consent/withdraw-consent.ts';
import { findMessage, listMessages } from './mail/outbox-store.ts';
import { loadPolicy, PolicyError } from './policy/load.ts';
import { isPublished } from './policy/schema.ts';
import { listJobStates } from './jobs/store.ts';
import { openCheckedStorage, openServices, startService } from './runtime.ts';
import { explainStartupError, StartupError } from './startup-error.ts';
import { createDatabaseIfMissing } from './storage/create-database.ts';
import type { Storage } from './storage/db.ts';
import { migrateToLatest } from './storage/migrate.ts';
import { userAdd, userDisable, userList, userReset } from './auth/cli.ts';
import type { OutboxRow } from './storage/types.ts';
import { inTransaction } from './unit-of-work.ts';

/** A mistake in how the command was typed: said in one line, then the usage, exit 2. */
class UsageError extends Error {}

/** A command that cannot do what was asked (e.g. no such message): one line, exit 1. */
class CommandError extends Error {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Stored text came from visitors: control characters (terminal escapes, carriage
// returns) and bidi overrides are shown as \u escapes so they cannot rewrite the screen.
const UNSAFE = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu;
function printable(text: string, keepLineBreaks = false): string {
  const source = keepLineBreaks ? text.replace(/\r\n/g, '\n') : text;
  return source.replace(UNSAFE, (c) => (keepLineBreaks && (c === '\n' || c === '\t') ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

function formatMessage(m: OutboxRow): string {
  const erased = m.status === 'sent' ? '(erased once the mail server took it)' : '';
  let headers: Record<string, string> = {};
  try {
    headers = JSON.parse(m.headers) as Record<string, string>;
  } catch {
    headers = { '(unreadable)': m.headers };
  }
  const field = (label: string, value: string | number | null) => `  ${`${label}:`.padEnd(14)}${value === null || value === '' ? '-' : printable(String(value))}`;
  const lines = [
    `Outbox message ${m.id}`,
    field('kind', m.kind),
    field('status', m.status),
    field('to', m.to_address || erased),
    field('subject', m.subject || erased),
    field('attempts', m.attempts),
    field('queued', m.created_at),
    field('next attempt', m.status === 'pending' ? m.next_attempt_at : null),
    field('leased until', m.locked_until),
    field('sent', m.sent_at),
    field('last error', m.last_error),
    field('inquiry', m.inquiry_id),
    field('person', m.person_id),
    'Headers:',
    ...(Object.keys(headers).length ? Object.entries(headers).map(([k, v]) => `  ${printable(k)}: ${printable(String(v))}`) : [`  ${erased || '-'}`]),
    'Body:',
    m.text_body ? printable(m.text_body, true) : erased || '-',
  ];
  return lines.join('\n');
}

interface OptionSpec {
  /** Placeholder shown in the usage when the option takes a value, e.g. FILE. */
  value?: string;
  /** What is missing when the value is left out, e.g. "a file name". */
  needs?: string;
}

interface Input {
  args: Record<string, string>;
  options: Record<string, string | true | undefined>;
  /** Everything after the command's words, for a command that parses its own (raw). */
  rest: string[];
}

interface Command {
  /** The words that select it, e.g. "outbox list". */
  name: string;
  /** Required positional arguments, in order, e.g. ["FILE"]. */
  args?: string[];
  options?: Record<string, OptionSpec>;
  /** The command parses what follows its words itself (a family with its own dispatcher, e.g. rights). */
  raw?: boolean;
  summary: string;
  /** Exit code, or 'running' for a command that keeps the process alive (serve). */
  run(input: Input): Promise<number | 'running'>;
}

/** Opens the configured database, migrated unless told otherwise, for one command. */
async function withStorage<T>(fn: (storage: Storage, config: Config) => Promise<T>, options: { migrate?: boolean } = {}): Promise<T> {
  const config = loadConfig();
  const storage = await openCheckedStorage(config, options.migrate ?? true);
  try {
    return await fn(storage, config);
  } catch (error) {
    // The database going away mid-command reads the same as at start; anything else is a bug.
    throw explainStartupError(error, { stage: 'database', target: config.database });
  } finally {
    await storage.close();
  }
}

// `serve` starts from this file too: commands that need a heavy library (the holiday
// calendars of the request clock, the progress bar) load it when they run.
const rightsCli = () => import('./rights/cli.ts');
const retentionCli = () => import('./retention/cli.ts');

const commands: Command[] = [
  {
    name: 'serve',
    summary: 'start the web service (HOST, PORT, DATABASE_URL, ...)',
    run: async () => {
      const running = await startService(loadConfig());
      const shutdown = async () => {
        await running.close();
        process.exit(0);
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
      return 'running';
    },
  },
  {
    name: 'migrate',
    summary: 'apply database migrations (creates a missing PostgreSQL database)',
    run: async () => {
      const config = loadConfig();
      if (config.database.kind === 'postgres') {
        const created = await createDatabaseIfMissing(config.database.url);
        if (created) console.log(`Created database "${created}".`);
      }
      const applied = await withStorage((s) => migrateToLatest(s.db), { migrate: false });
      console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date.');
      return 0;
    },
  },
  {
    name: 'policy check',
    args: ['FILE'],
    summary: 'validate a policy file and everything it points to',
    run: async ({ args }) => {
      const loaded = loadPolicy(resolve(args.FILE));
      console.log(`${args.FILE}: OK (notice ${loaded.current.version}, ${loaded.policy.purposes.length} purposes, ${loaded.policy.cookies.length} cookies, ${loaded.regionalRules.length} regional deadline rules)`);
      const drafts = loaded.policy.notice.versions.filter((v) => !isPublished(loaded.policy, v));
      for (const d of drafts) console.log(`notice ${d.version} (${d.file}) is a draft: it is published once its ${loaded.policy.notice.required_review} review is recorded, and becomes the notice when notice.current names it`);
      return 0;
    },
  },
  {
    name: 'outbox list',
    options: { '--all': {} },
    summary: 'list outgoing mail waiting to be sent (or all); addresses masked',
    run: async ({ options }) => {
      const rows = await withStorage((s) => listMessages(s.db, options['--all'] ? 'all' : 'pending'));
      if (rows.length === 0) console.log('The outbox is empty.');
      for (const r of rows) {
        console.log([r.id, r.kind, r.status, r.status === 'pending' ? maskEmail(r.to_address) : '-', `attempts=${r.attempts}`, r.status === 'pending' ? `next=${r.next_attempt_at}` : `sent=${r.sent_at}`, r.last_error ? `last_error=${r.last_error}` : ''].join('  ').trim());
      }
      return 0;
    },
  },
  {
    name: 'outbox show',
    args: ['ID'],
    summary: 'print one message in full (recipient, headers, body): for reading mail with no SMTP_URL; audited',
    run: async ({ args }) => {
      const id = args.ID.toLowerCase();
      // Not echoed: whatever was typed in its place may be an address or a name.
      if (!UUID.test(id)) throw new CommandError('outbox show: ID must be a message id such as 0b6f4c2e-5d1a-4e8b-9f3c-2a7d6e1b4c90, as `lumetrax outbox list --all` shows them');
      const message = await withStorage((storage) =>
        // The read and its audit entry commit together: nobody sees a message unrecorded.
        inTransaction({ storage, now: () => new Date(), mailQueued: () => undefined }, async (uow) => {
          const row = await findMessage(uow.trx, id);
          if (row) uow.audit({ actor: 'cli', action: 'outbox.message_shown', entityType: 'outbox', entityId: row.id, details: { status: row.status } });
          return row;
        }),
      );
      if (!message) throw new CommandError(`outbox show: no message ${id} in the outbox: \`lumetrax outbox list --all\` lists the ids there`);
      console.log(formatMessage(message));
      return 0;
    },
  },
  {
    name: 'marketing export',
    options: { '--out': { value: 'FILE', needs: 'a file name' } },
    summary: 'write the CSV of people whose marketing consent is current',
    run: async ({ options }) => {
      const out = options['--out'] as string | undefined;
      const { csv, rows } = await withStorage((storage, config) =>
        exportMarketingList({ storage, policy: loadPolicy(config.policyFile, { checkProofs: false }), now: () => new Date(), mailQueued: () => undefined }, 'cli'),
      );
      if (out) {
        writeFileSync(out, csv, { mode: 0o600 });
        console.error(`Wrote ${rows} people to ${out}`);
      } else process.stdout.write(csv);
      return 0;
    },
  },
  {
    name: 'jobs list',
    summary: 'list the scheduled jobs: cadence, what each does, its last run',
    run: async () => {
      const services = await openServices(loadConfig(), { migrate: true });
      try {
        const states = new Map((await listJobStates(services.deps.storage.db)).map((s) => [s.name, s]));
        for (const job of services.jobs.jobs) {
          const state = states.get(job.name);
          const last = state?.last_finished_at
            ? `last run ${state.last_finished_at} (${state.last_outcome}, ${state.last_duration_ms} ms, ${state.last_counts})`
            : 'not run yet';
          const running = state?.locked_until && state.locked_until > new Date().toISOString() ? `  RUNNING on ${state.locked_by}` : '';
          const cadence = job.cron ? `cron "${job.cron.pattern}" (${job.cron.timeZone})` : `every ${formatEvery(job.everyMs)}`;
          console.log(`${job.name}  ${cadence}  ${last}${running}\n    ${job.description}`);
        }
      } finally {
        await services.close();
      }
      return 0;
    },
  },
  {
    name: 'jobs run',
    args: ['NAME'],
    summary: 'run one scheduled job now, under its lock, and print its counts',
    run: async ({ args }) => {
      const services = await openServices(loadConfig(), { migrate: true });
      try {
        const names = services.jobs.jobs.map((j) => j.name);
        if (!names.includes(args.NAME)) throw new UsageError(`unknown job ${quoted(args.NAME)} (jobs: ${names.join(', ')})`);
        const result = await services.jobs.runNow(args.NAME);
        if (result.status === 'busy') {
          console.error(`${args.NAME} is running on another instance right now; nothing was done. Try again when it has finished.`);
          return 1;
        }
        if (result.status === 'failed') {
          console.error(`${args.NAME} failed (${result.error}) after ${result.durationMs} ms; see the service log for details.`);
          return 1;
        }
        console.log(JSON.stringify({ job: args.NAME, durationMs: result.durationMs, counts: result.counts }));
        return 0;
      } finally {
        await services.close();
      }
    },
  },
  {
    name: 'user add',
    options: { '--email': { value: 'EMAIL', needs: 'an email address' }, '--role': { value: 'ROLE', needs: 'a role: admin, privacy or sales' } },
    summary: 'add a console account (admin | privacy | sales) and print its one-time set-up link',
    run: async ({ options }) => {
      if (!options['--email'] || !options['--role']) throw new UsageError('user add needs --email EMAIL and --role admin|privacy|sales');
      return userAdd(withStorage, options['--email'] as string, options['--role'] as string);
    },
  },
  { name: 'user list', summary: 'list console accounts with role and status', run: () => userList(withStorage) },
  { name: 'user disable', args: ['EMAIL'], summary: 'disable a console account and end all its sessions at once', run: ({ args }) => userDisable(withStorage, args.EMAIL) },
  { name: 'user reset', args: ['EMAIL'], summary: 'print a new set-up link (the old one, the password and the authenticator stop working)', run: ({ args }) => userReset(withStorage, args.EMAIL) },
  {
    name: 'audit verify',
    options: { '--file': { value: 'FILE', needs: 'an export file' }, '--public-key': { value: 'PEMFILE', needs: 'a public key file' } },
    summary: "check the audit trail's hashes and head signatures, naming the first bad entry (an export offline with --file and --public-key)",
    run: async ({ options }) => {
      const file = options['--file'] as string | undefined;
      const publicKey = options['--public-key'] as string | undefined;
      if (file && !publicKey) throw new UsageError('audit verify --file needs --public-key PEMFILE (from `lumetrax audit export-key`)');
      if (file) return verifyExport(file, publicKey as string);
      return withStorage((s, config) => verifyDatabase(s.db, config.auditSigningKey, publicKey));
    },
  },
  {
    name: 'audit export-key',
    summary: "print the public key (PEM) that checks the audit trail's signatures",
    run: async () => {
      process.stdout.write(publicKeyPem(loadConfig().auditSigningKey));
      return 0;
    },
  },
  {
    name: 'audit export',
    options: { '--out': { value: 'FILE', needs: 'a file name' } },
    summary: 'write the audit trail with its head signatures and public keys as JSON lines (owner-only file)',
    run: async ({ options }) => withStorage((s) => exportTrail(s.db, options['--out'] as string | undefined, new Date())),
  },
  {
    name: 'rights',
    args: ['due|list ...'],
    raw: true,
    summary: 'privacy requests: `rights due --received ISO_INSTANT --jurisdiction CC[-SUB] --type access|correction|deletion [--calendar CC[-SUB]] [--tz IANA_ZONE]` prints the due dates as JSON (policy only, no database); `rights list [--json]` lists open requests with status and due dates',
    run: async ({ rest }) => (await rightsCli()).rightsCommand(rest, { policy: () => loadPolicy(policyFileFrom(), { checkProofs: false }), withStorage: (fn) => withStorage((s) => fn(s)) }),
  },
  {
    name: 'backup',
    options: { '--out': { value: 'FILE', needs: 'a file name for the snapshot' } },
    summary: 'write a consistent snapshot of the SQLite database to a new owner-only file while the service runs: into BACKUP_DIR (pruned to the policy\'s backup_retention_days, as the backup job does), or to --out FILE (PostgreSQL: pg_dump)',
    run: async ({ options }) => {
      const out = options['--out'] as string | undefined;
      try {
        if (out) {
          const { backupSqlite } = await import('./retention/backup.ts');
          const { bytes } = await withStorage((storage) => backupSqlite(storage, resolve(out)));
          console.log(`Wrote a snapshot of ${bytes} bytes to ${out} (owner-only). It is outside the backup folder, so nothing destroys it: keep it no longer than the policy's retention.backup_retention_days.`);
          return 0;
        }
        const config = loadConfig();
        const dir = config.backupDir;
        if (!dir) throw new CommandError('lumetrax: backup: the database is PostgreSQL; take backups with pg_dump (see README, "Backups")');
        const { policy } = loadPolicy(config.policyFile, { checkProofs: false });
        const { backupToFolder } = await import('./retention/backup-folder.ts');
        const days = policy.retention.backup_retention_days;
        const done = await withStorage((storage) => backupToFolder(storage, dir, new Date(), days));
        console.log(`Wrote a snapshot of ${done.bytes} bytes to ${done.file} (owner-only). Destroyed ${done.pruned} snapshot(s) there older than ${days} days; ${done.kept} kept.`);
        return 0;
      } catch (error) {
        throw error instanceof (await import('./retention/backup.ts')).BackupError ? new CommandError(`lumetrax: ${(error as Error).message}`) : error;
      }
    },
  },
  {
    name: 'restore',
    args: ['FILE'],
    summary: 'replace the (stopped) SQLite database with a snapshot, deleting again everything deleted since (sweeps, erasures) before it is served',
    run: async ({ args }) => {
      const config = loadConfig();
      try {
        const { restoreSqlite } = await import('./retention/backup.ts');
        const { Signer } = await import('./http/signing.ts');
        const result = await restoreSqlite(config.database, resolve(args.FILE), new Signer(config.secretKey, config.previousSecretKey));
        console.log(`Restored ${args.FILE}. Deleted again since the snapshot: ${JSON.stringify(result.deleted)}; carried over: ${JSON.stringify(result.carried)}.`);
        return 0;
      } catch (error) {
        throw error instanceof (await import('./retention/backup.ts')).BackupError ? new CommandError(`lumetrax: ${(error as Error).message}`) : error;
      }
    },
  },
  {
    name: 'hold add',
    options: {
      '--kind': { value: 'KIND', needs: 'a kind: legal_hold or contract' },
      '--person': { value: 'ID', needs: 'a person id' },
      '--inquiry': { value: 'ID', needs: 'an inquiry id or reference' },
      '--domain': { value: 'DOMAIN', needs: 'an email domain such as example.com' },
      '--reason': { value: 'TEXT', needs: 'a reason' },
      '--until': { value: 'DATE', needs: 'an end date YYYY-MM-DD' },
    },
    summary: 'place a legal hold (or a contract, with --until) on a person, an inquiry or a domain: nothing it covers is deleted; audited',
    run: async ({ options }) => {
      const scopes = (['--person', '--inquiry', '--domain'] as const).filter((o) => options[o]);
      if (scopes.length !== 1) throw new UsageError('hold add needs exactly one of --person ID, --inquiry ID or --domain DOMAIN');
      if (!options['--kind'] || !options['--reason']) throw new UsageError('hold add needs --kind legal_hold|contract and --reason TEXT');
      return (await retentionCli()).holdAdd(withStorage, {
        kind: options['--kind'] as string,
        scope: scopes[0].slice(2),
        target: options[scopes[0]] as string,
        reason: options['--reason'] as string,
        until: options['--until'] as string | undefined,
      });
    },
  },
  { name: 'hold list', options: { '--all': {} }, summary: 'list the holds in place (--all: lifted ones too); audited', run: async ({ options }) => (await retentionCli()).holdList(withStorage, options['--all'] === true) },
  { name: 'hold lift', args: ['ID'], summary: 'lift a hold: what it covered follows the retention rules again; audited', run: async ({ args }) => (await retentionCli()).holdLift(withStorage, args.ID) },
  {
    name: 'retention run',
    options: { '--dry-run': {}, '--as-of': { value: 'DATE', needs: 'a date YYYY-MM-DD or an ISO instant' } },
    summary: 'run the retention sweep now (as the scheduled job does); --dry-run lists what is due by rule, --as-of evaluates the rules as if on that date',
    run: async ({ options }) => {
      const asOfText = options['--as-of'] as string | undefined;
      let asOf: Date | undefined;
      if (asOfText !== undefined) {
        const text = /^\d{4}-\d{2}-\d{2}$/.test(asOfText) ? `${asOfText}T00:00:00.000Z` : asOfText;
        asOf = /^\d{4}-\d{2}-\d{2}T/.test(text) ? new Date(text) : undefined;
        if (!asOf || Number.isNaN(asOf.getTime())) throw new UsageError(`retention run --as-of needs a date YYYY-MM-DD or an ISO instant, not ${quoted(asOfText)}`);
        // Deleting as of a later date would delete data before its time: previews only.
        if (asOf.getTime() > Date.now() && !options['--dry-run']) throw new UsageError('retention run --as-of a future date needs --dry-run (nothing may be deleted before it is due)');
      }
      const services = await openServices(loadConfig(), { migrate: true });
      try {
        return await (await retentionCli()).retentionRun(services.deps, { dryRun: options['--dry-run'] === true, asOf });
      } finally {
        await services.close();
      }
    },
  },
  {
    name: 'retention reapply',
    options: { '--from': { value: 'URL', needs: 'the DATABASE_URL of the database being replaced' } },
    summary: 'after restoring a backup into DATABASE_URL (pg_restore): delete again everything the old database logged as deleted, and carry over its log, suppression list and holds',
    run: async ({ options }) => {
      if (!options['--from']) throw new UsageError('retention reapply needs --from URL (the database the backup replaces, which holds the deletion log)');
      const config = loadConfig();
      const { openStorage } = await import('./storage/db.ts');
      const { reapplyDeletions } = await import('./retention/reapply.ts');
      const { Signer } = await import('./http/signing.ts');
      const live = openStorage(parseDatabaseUrl(options['--from'] as string));
      try {
        await migrateToLatest(live.db);
        return await withStorage(async (storage) => {
          const result = await reapplyDeletions(live.db, storage.db, new Signer(config.secretKey, config.previousSecretKey));
          console.log(`Deleted again: ${JSON.stringify(result.deleted)}; carried over: ${JSON.stringify(result.carried)}`);
          return 0;
        });
      } finally {
        await live.close();
      }
    },
  },
];

function formatEvery(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

function synopsis(c: Command): string {
  const options = Object.entries(c.options ?? {}).map(([name, spec]) => `[${name}${spec.value ? ` ${spec.value}` : ''}]`);
  return [c.name, ...(c.args ?? []), ...options].join(' ');
}

// A synopsis longer than this gets its summary on the next line, so one long command
// does not push every summary off the edge of the terminal.
const SYNOPSIS_COLUMN = 34;

function usage(): string {
  const lines = commands.map((c) => {
    const words = synopsis(c);
    return words.length <= SYNOPSIS_COLUMN ? `  ${words.padEnd(SYNOPSIS_COLUMN)} ${c.summary}` : `  ${words}\n  ${' '.repeat(SYNOPSIS_COLUMN)} ${c.summary}`;
  });
  return `Usage: lumetrax <command>\n\n${lines.join('\n')}\n`;
}

const article = (word: string) => (/^[AEIOUaeiou]/.test(word) ? `an ${word}` : `a ${word}`);
// What the operator typed is echoed quoted, so a stray control character cannot reach the terminal.
const quoted = (text: string) => JSON.stringify(text);
const optionName = (text: string) => (/^--?[A-Za-z0-9][A-Za-z0-9-]*$/.test(text) ? text : quoted(text));

/** Finds the command the words name and checks its arguments and options against its entry. */
function parse(argv: string[]): { command: Command; input: Input } {
  const [first, second] = argv;
  const family = commands.filter((c) => c.name.split(' ')[0] === first);
  if (family.length === 0) throw new UsageError(`unknown command ${quoted(first)}`);
  const command = family.find((c) => c.name.split(' ').every((word, i) => argv[i] === word));
  if (!command) {
    const subcommands = family.map((c) => c.name.split(' ')[1]).filter(Boolean);
    if (second === undefined || second.startsWith('-')) throw new UsageError(`${first} needs a subcommand: ${subcommands.join(' or ')}`);
    throw new UsageError(`unknown command ${quoted(`${first} ${second}`)} (${first} has: ${subcommands.join(', ')})`);
  }

  const rest = argv.slice(command.name.split(' ').length);
  if (command.raw) return { command, input: { args: {}, options: {}, rest } };
  const specs = command.options ?? {};
  const positional: string[] = [];
  const options: Input['options'] = {};
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i];
    if (token === '--') {
      positional.push(...rest.slice(i + 1));
      break;
    }
    if (!token.startsWith('-') || token === '-') {
      positional.push(token);
      continue;
    }
    const eq = token.indexOf('=');
    const name = eq > 0 ? token.slice(0, eq) : token;
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (!spec) throw new UsageError(`unknown option ${optionName(name)} for ${command.name}`);
    if (!spec.value) {
      if (eq > 0) throw new UsageError(`${command.name} ${name} takes no value`);
      options[name] = true;
      continue;
    }
    const value = eq > 0 ? token.slice(eq + 1) : rest[i + 1] !== undefined && !rest[i + 1].startsWith('-') ? rest[++i] : '';
    if (!value) throw new UsageError(`${command.name} ${name} needs ${spec.needs ?? article(spec.value)}`);
    options[name] = value;
  }

  const expected = command.args ?? [];
  if (positional.length < expected.length) throw new UsageError(`${command.name} needs ${article(expected[positional.length])}`);
  if (positional.length > expected.length) throw new UsageError(`unexpected argument ${quoted(positional[expected.length])} for ${command.name}`);
  const args = Object.fromEntries(expected.map((name, i) => [name, positional[i]]));
  return { command, input: { args, options, rest } };
}

async function main(argv: string[]): Promise<number | 'running'> {
  if (argv.length === 0 || ['help', '--help', '-h'].includes(argv[0])) {
    console.log(usage());
    return 0;
  }
  const { command, input } = parse(argv);
  return command.run(input);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 'running') process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`lumetrax: ${error.message}\n\n${usage()}`);
      process.exitCode = 2;
      return;
    }
    // Settings and environment problems are one line the operator can act on; the rest are bugs.
    if (error instanceof ConfigError || error instanceof PolicyError || error instanceof StartupError || error instanceof CommandError) console.error(error.message);
    else console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  },
);
