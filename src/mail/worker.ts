// Sends the outbox through the configured SMTP server and retries with capped
// exponential backoff until the server takes each message. It runs as the job
// `outbox.deliver` (jobs/registry.ts), woken after every commit that queues mail. Error notes keep only SMTP
// codes, never the server's text (which may echo an address).
import { createRequire } from 'node:module';
import type { Transporter } from 'nodemailer';
import type { Kysely } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { Database, OutboxRow } from '../storage/types.ts';
import { claimDue, markFailed, markSent } from './outbox-store.ts';
import { assertSafeDraft } from './queue-mail.ts';

export interface MailWorkerOptions {
  db: Kysely<Database>;
  transport: Transporter | object | string;
  from: string;
  maxBackoffSeconds: number;
  now?: () => Date;
  log?: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;
  batchSize?: number;
  /**
   * Kinds of mail whose sending ends an erasure (the answer to a deletion request): once
   * such a message is sent and its contents erased, `scrub` clears what the database
   * files still hold of it (on SQLite, the WAL's earlier page images with the address).
   */
  scrubAfterSending?: { kinds: ReadonlySet<string>; scrub: () => Promise<unknown> };
}

const LEASE_MS = 120_000;
// nodemailer is loaded only when a mail server is configured.
const require = createRequire(import.meta.url);

export function backoffSeconds(attempts: number, maxSeconds: number): number {
  return Math.min(maxSeconds, 5 * 2 ** Math.max(0, attempts - 1));
}

export class MailWorker {
  private readonly transporter: Transporter;
  private readonly options: MailWorkerOptions;
  private readonly messageIdDomain: string;

  constructor(options: MailWorkerOptions) {
    this.options = options;
    this.messageIdDomain = /@([^>\s]+)>?\s*$/.exec(options.from)?.[1] ?? 'localhost';
    this.transporter =
      typeof options.transport === 'string' || !('sendMail' in (options.transport as object))
        ? (require('nodemailer') as typeof import('nodemailer')).createTransport(options.transport as string)
        : (options.transport as Transporter);
  }

  async runOnce(): Promise<{ sent: number; failed: number }> {
    const now = this.now();
    const rows = await claimDue(this.options.db, now.toISOString(), new Date(now.getTime() + LEASE_MS).toISOString(), this.options.batchSize ?? 20);
    let sent = 0;
    let failed = 0;
    let scrub = false;
    for (const row of rows) {
      if (await this.deliver(row)) {
        sent++;
        scrub ||= this.options.scrubAfterSending?.kinds.has(row.kind) === true;
      } else failed++;
    }
    if (scrub) await this.options.scrubAfterSending!.scrub();
    return { sent, failed };
  }

  /**
   * Passes until nothing due is left (or `maxPasses`), so a backlog drains in one run of
   * the job instead of one batch per poll interval.
   */
  async drain(maxPasses = 50): Promise<{ sent: number; failed: number; passes: number }> {
    const total = { sent: 0, failed: 0, passes: 0 };
    const batch = this.options.batchSize ?? 20;
    for (let pass = 0; pass < maxPasses; pass++) {
      const { sent, failed } = await this.runOnce();
      total.sent += sent;
      total.failed += failed;
      total.passes++;
      if (sent + failed < batch) break;
    }
    return total;
  }

  private async deliver(row: OutboxRow): Promise<boolean> {
    const headers = JSON.parse(row.headers) as Record<string, string>;
    const { 'Reply-To': replyTo, ...rest } = headers;
    try {
      // Rows are checked when queued; checking again here covers rows written any other way.
      assertSafeDraft({ to: row.to_address, headers });
    } catch {
      await markFailed(this.options.db, row.id, new Date(this.now().getTime() + this.options.maxBackoffSeconds * 1000).toISOString(), 'EUNSAFE');
      this.options.log?.error({ outbox: row.id, kind: row.kind }, 'mail not sent: recipient or header is unsafe');
      return false;
    }
    try {
      await this.transporter.sendMail({
        from: this.options.from,
        to: row.to_address,
        replyTo,
        subject: row.subject,
        text: row.text_body,
        headers: rest,
        messageId: `<${row.id}@${this.messageIdDomain}>`,
      });
    } catch (error) {
      const e = error as { code?: unknown; responseCode?: unknown };
      // Only a code shape is kept: anything longer could carry the server's text.
      const code = typeof e.code === 'string' && /^[A-Z][A-Z0-9_]{0,31}$/.test(e.code) ? e.code : undefined;
      const reply = typeof e.responseCode === 'number' && Number.isInteger(e.responseCode) ? String(e.responseCode) : undefined;
      const note = [code, reply].filter(Boolean).join(' ') || 'send failed';
      const wait = backoffSeconds(row.attempts + 1, this.options.maxBackoffSeconds);
      const next = new Date(this.now().getTime() + wait * 1000).toISOString();
      await markFailed(this.options.db, row.id, next, note);
      this.options.log?.warn({ outbox: row.id, kind: row.kind, error: note, retryInSeconds: wait }, 'mail not accepted; will retry');
      return false;
    }
    // Outside the try: once the server has the message, a failure to record that must not
    // be booked as a refused attempt (the lease expiring is the only path to a resend).
    await markSent(this.options.db, row.id, this.now().toISOString());
    this.options.log?.info({ outbox: row.id, kind: row.kind }, 'mail sent');
    return true;
  }

  private now(): Date {
    return (this.options.now ?? (() => new Date()))();
  }

  /** Call once the job scheduler has stopped, so no pass is running. */
  async stop(): Promise<void> {
    this.transporter.close();
  }
}
