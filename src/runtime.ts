// Wires config, policy, storage and the mail worker into running services. Shared by
// the CLI and the test support so tests exercise the same start-up path.
import type { FastifyInstance } from 'fastify';
import { ERASURE_ANSWER_MAIL } from './rights/fulfil-request.ts';
import { scrubAfterDeletion } from './storage/scrub.ts';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import type { Deps } from './deps.ts';
import { Signer } from './http/signing.ts';
import { MailWorker, type MailWorkerOptions } from './mail/worker.ts';
import type { InboundSmtp } from './correspondence/smtp-listener.ts';
import { MAIL_DELIVERY_JOB, serviceJobs } from './jobs/registry.ts';
import { signAuditHead } from './audit/sign-head.ts';
import { JobScheduler } from './jobs/scheduler.ts';
import { rekeySubjects } from './people/rekey-subjects.ts';
import { loadPolicy } from './policy/load.ts';
import { reportTextSearch } from './inquiries/text-search.ts';
import { explainStartupError } from './startup-error.ts';
import { openStorage, type Storage } from './storage/db.ts';
import { migrateToLatest } from './storage/migrate.ts';

export interface Running {
  app: FastifyInstance;
  deps: Deps;
  mail: MailWorker | undefined;
  jobs: JobScheduler;
  /** The inbound SMTP listener, when INBOUND_SMTP_PORT is set. */
  inboundSmtp: InboundSmtp | undefined;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: boolean | object;
  now?: () => Date;
  /** A nodemailer transport or options, overriding SMTP_URL (tests). */
  mailTransport?: object | string;
  listen?: boolean;
}

/**
 * Opens the database and proves it usable before anything listens: migrating, or at
 * least one query, so a wrong DATABASE_URL stops the start with one line, not later as 503s.
 */
export async function openCheckedStorage(config: Config, migrate: boolean): Promise<Storage> {
  let storage: Storage | undefined;
  try {
    storage = openStorage(config.database, { sqliteSynchronous: config.sqliteSynchronous });
    if (migrate) await migrateToLatest(storage.db);
    else await storage.ping();
    return storage;
  } catch (error) {
    await storage?.close().catch(() => undefined);
    throw explainStartupError(error, { stage: 'database', target: config.database });
  }
}

export interface Services {
  deps: Deps;
  jobs: JobScheduler;
  mail: MailWorker | undefined;
  close(): Promise<void>;
}

type JobLog = ConstructorParameters<typeof JobScheduler>[2] extends infer O ? (O extends { log?: infer L } ? L : never) : never;

/**
 * Everything but HTTP: policy, checked storage, keys (with stored subject keys brought
 * under the current one), the mail worker and the scheduled jobs (not yet started).
 * `lumetrax serve` adds the app on top; CLI commands such as `jobs run` use it alone.
 */
export async function openServices(config: Config, options: { now?: () => Date; mailTransport?: object | string; log?: JobLog; migrate?: boolean } = {}): Promise<Services> {
  // Start-up does not look for the test files security commitments name: a deployment
  // may ship without test/, and `lumetrax policy check` is where that is verified.
  const policy = loadPolicy(config.policyFile, { checkProofs: false });
  const storage = await openCheckedStorage(config, options.migrate ?? config.autoMigrate);
  let jobs: JobScheduler | undefined;
  const deps: Deps = {
    config,
    policy,
    storage,
    signer: new Signer(config.secretKey, config.previousSecretKey),
    now: options.now ?? (() => new Date()),
    mailQueued: () => jobs?.wake(MAIL_DELIVERY_JOB),
  };
  let mail: MailWorker | undefined;
  try {
    await rekeySubjects(deps);
    const transport = options.mailTransport ?? config.smtpUrl;
    if (transport) {
      mail = new MailWorker({
        db: storage.db,
        transport,
        from: policy.policy.organisation.mail_from,
        maxBackoffSeconds: config.mailMaxBackoffSeconds,
        now: deps.now,
        log: options.log as MailWorkerOptions['log'],
        // Sending the answer to a deletion request ends the erasure: nothing may stay on disk.
        scrubAfterSending: { kinds: new Set([ERASURE_ANSWER_MAIL]), scrub: () => scrubAfterDeletion(storage) },
      });
    }
    jobs = new JobScheduler(storage.db, serviceJobs(deps, mail), { now: deps.now, log: options.log });
  } catch (error) {
    await storage.close().catch(() => undefined);
    throw error;
  }
  const scheduler = jobs;
  return {
    deps,
    jobs: scheduler,
    mail,
    close: async () => {
      await scheduler.stop();
      await mail?.stop();
      await storage.close();
    },
  };
}

export async function startService(config: Config, options: StartOptions = {}): Promise<Running> {
  // The app's logger is made with the app; jobs log through it once it exists.
  const logRef: { log?: FastifyInstance['log'] } = {};
  const log = {
    info: (...args: unknown[]) => (logRef.log?.info as (...a: unknown[]) => void)?.(...args),
    debug: (...args: unknown[]) => (logRef.log?.debug as (...a: unknown[]) => void)?.(...args),
    warn: (...args: unknown[]) => (logRef.log?.warn as (...a: unknown[]) => void)?.(...args),
    error: (...args: unknown[]) => (logRef.log?.error as (...a: unknown[]) => void)?.(...args),
  } as unknown as FastifyInstance['log'];
  const services = await openServices(config, { now: options.now, mailTransport: options.mailTransport, log });
  const { deps, jobs, mail } = services;
  let app: FastifyInstance;
  try {
    app = await buildApp(deps, { logger: options.logger });
  } catch (error) {
    await services.close().catch(() => undefined);
    throw error;
  }
  logRef.log = app.log;
  deps.log = app.log;
  if (options.listen !== false) {
    try {
      await app.listen({ host: config.host, port: config.port });
    } catch (error) {
      // Release the database and the app so the process can exit with the one-line reason.
      await app.close().catch(() => undefined);
      await services.close().catch(() => undefined);
      throw explainStartupError(error, { stage: 'listen', host: config.host, port: config.port });
    }
  }
  // Said only once the service is up, so a failed start prints nothing but its reason.
  let inboundSmtp: InboundSmtp | undefined;
  if (config.inboundSmtpPort !== undefined) {
    try {
      // The SMTP server and mail parser load only when the listener is on.
      const { startInboundSmtp } = await import('./correspondence/smtp-listener.ts');
      inboundSmtp = await startInboundSmtp(deps, app.log);
    } catch (error) {
      await app.close().catch(() => undefined);
      await services.close().catch(() => undefined);
      throw error;
    }
  }
  await reportTextSearch(deps.storage, app.log).catch(() => undefined);
  if (!mail) app.log.warn('No SMTP_URL configured: outgoing mail waits in the outbox. List it with `npx lumetrax outbox list`, read one with `npx lumetrax outbox show ID`.');
  jobs.start();
  return {
    app,
    deps,
    mail,
    jobs,
    inboundSmtp,
    close: async () => {
      // Inbound mail stops first, then jobs (a run may still be writing), then HTTP, then the database.
      await inboundSmtp?.close();
      await jobs.stop();
      await app.close();
      // The last entries written get a signature too, so a tail cut off after shutdown shows.
      await signAuditHead(deps.storage.db, config.auditSigningKey, deps.now()).catch((error: unknown) => app.log.error({ err: { code: (error as { code?: unknown }).code } }, 'the audit chain head could not be signed at shutdown'));
      await services.close();
    },
  };
}
