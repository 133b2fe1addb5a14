// The `lumetrax` command line: serve | migrate | policy check FILE | outbox list |
// marketing export [--out FILE] | audit verify
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, loadConfig } from './config.ts';
import { verifyAuditChain } from './audit/append-audit.ts';
import { exportMarketingList } from './consent/export-marketing.ts';
import { maskEmail } from './consent/withdraw-consent.ts';
import { listMessages } from './mail/outbox-store.ts';
import { loadPolicy, PolicyError } from './policy/load.ts';
import { startService } from './runtime.ts';
import { openStorage } from './storage/db.ts';
import { migrateToLatest } from './storage/migrate.ts';

const usage = `Usage: lumetrax <command>

  serve                      start the web service (HOST, PORT, DATABASE_URL, ...)
  migrate                    apply database migrations
  policy check FILE          validate a policy file and everything it points to
  outbox list [--all]        list outgoing mail waiting to be sent (or all)
  marketing export [--out F] write the CSV of people whose marketing consent is current
  audit verify               check the audit trail's hash chain
`;

async function withStorage<T>(fn: (storage: ReturnType<typeof openStorage>, config: ReturnType<typeof loadConfig>) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const storage = openStorage(config.database, { sqliteSynchronous: config.sqliteSynchronous });
  try {
    await migrateToLatest(storage.db);
    return await fn(storage, config);
  } finally {
    await storage.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const running = await startService(loadConfig());
      const shutdown = async () => {
        await running.close();
        process.exit(0);
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
      return -1;
    }
    case 'migrate': {
      const applied = await withStorage((s) => migrateToLatest(s.db));
      console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date.');
      return 0;
    }
    case 'policy': {
      if (sub !== 'check' || !rest[0]) break;
      const loaded = loadPolicy(resolve(rest[0]));
      console.log(`${rest[0]}: OK (notice ${loaded.current.version}, ${loaded.policy.purposes.length} purposes, ${loaded.policy.cookies.length} cookies, ${loaded.regionalRules.length} regional deadline rules)`);
      return 0;
    }
    case 'outbox': {
      if (sub !== 'list') break;
      const rows = await withStorage((s) => listMessages(s.db, rest.includes('--all') ? 'all' : 'pending'));
      if (rows.length === 0) console.log('The outbox is empty.');
      for (const r of rows) {
        console.log([r.id, r.kind, r.status, r.status === 'pending' ? maskEmail(r.to_address) : '-', `attempts=${r.attempts}`, r.status === 'pending' ? `next=${r.next_attempt_at}` : `sent=${r.sent_at}`, r.last_error ? `last_error=${r.last_error}` : ''].join('  ').trim());
      }
      return 0;
    }
    case 'marketing': {
      if (sub !== 'export') break;
      const outIndex = rest.indexOf('--out');
      const out = outIndex >= 0 ? rest[outIndex + 1] : undefined;
      if (outIndex >= 0 && !out) break;
      const { csv, rows } = await withStorage((storage, config) =>
        exportMarketingList({ storage, policy: loadPolicy(config.policyFile), now: () => new Date() }, 'cli'),
      );
      if (out) {
        writeFileSync(out, csv, { mode: 0o600 });
        console.error(`Wrote ${rows} people to ${out}`);
      } else process.stdout.write(csv);
      return 0;
    }
    case 'audit': {
      if (sub !== 'verify') break;
      const check = await withStorage((s) => verifyAuditChain(s.db));
      console.log(check.ok ? `Audit chain intact: ${check.entries} entries.` : `Audit chain BROKEN at entry ${check.brokenAt} (after ${check.entries} good entries).`);
      return check.ok ? 0 : 1;
    }
    case undefined:
    case 'help':
    case '--help':
      console.log(usage);
      return 0;
  }
  console.error(usage);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof PolicyError) console.error(error.message);
    else console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  },
);
