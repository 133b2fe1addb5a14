// Wires config, policy, storage and the mail worker into running services. Shared by
// the CLI and the test support so tests exercise the same start-up path.
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import type { Deps } from './deps.ts';
import { Signer } from './http/signing.ts';
import { MailWorker } from './mail/worker.ts';
import { loadPolicy } from './policy/load.ts';
import { openStorage } from './storage/db.ts';
import { migrateToLatest } from './storage/migrate.ts';

export interface Running {
  app: FastifyInstance;
  deps: Deps;
  mail: MailWorker | undefined;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: boolean | object;
  now?: () => Date;
  /** A nodemailer transport or options, overriding SMTP_URL (tests). */
  mailTransport?: object | string;
  listen?: boolean;
}

export async function startService(config: Config, options: StartOptions = {}): Promise<Running> {
  const policy = loadPolicy(config.policyFile);
  const storage = openStorage(config.database, { sqliteSynchronous: config.sqliteSynchronous });
  try {
    if (config.autoMigrate) await migrateToLatest(storage.db);
  } catch (error) {
    await storage.close();
    throw error;
  }
  let mail: MailWorker | undefined;
  const deps: Deps = {
    config,
    policy,
    storage,
    signer: new Signer(config.secretKey),
    now: options.now ?? (() => new Date()),
    mailQueued: () => mail?.wake(),
  };
  const app = await buildApp(deps, { logger: options.logger });
  deps.log = app.log;
  const transport = options.mailTransport ?? config.smtpUrl;
  if (transport) {
    mail = new MailWorker({
      db: storage.db,
      transport,
      from: policy.policy.organisation.mail_from,
      pollMs: config.mailPollMs,
      maxBackoffSeconds: config.mailMaxBackoffSeconds,
      now: deps.now,
      log: app.log,
    });
  } else {
    app.log.warn('No SMTP_URL configured: outgoing mail waits in the outbox. List it with `npx lumetrax outbox list`.');
  }
  if (options.listen !== false) await app.listen({ host: config.host, port: config.port });
  mail?.start();
  return {
    app,
    deps,
    mail,
    close: async () => {
      await mail?.stop();
      await app.close();
      await storage.close();
    },
  };
}
