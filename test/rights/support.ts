// Shared by the privacy-desk tests: the real service on a fresh database with the inbound
// SMTP listener on a loopback port, the outbox delivering to an SMTP sink, a clock moved
// by hand, and a real SMTP client (nodemailer) speaking to the listener.
import assert from 'node:assert/strict';
import nodemailer, { type Transporter } from 'nodemailer';
import { Clock } from '../auth/helpers.ts';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../support/smtp.ts';
import { postForm, startTestServer, type TestServer } from '../support/server.ts';

export interface DeskEnv {
  server: TestServer;
  sink: SmtpSink;
  client: Transporter;
  clock: Clock;
}

/** Wednesday 2 December 2026, 10:00 in Dublin (UTC+0 in winter). */
export const RECEIVED = Date.parse('2026-12-02T10:00:00.000Z');

export async function withDesk(fn: (env: DeskEnv) => Promise<void>, options: { at?: number; env?: Record<string, string> } = {}): Promise<void> {
  const clock = new Clock();
  clock.t = options.at ?? RECEIVED;
  const sink = await startSmtpSink();
  let server: TestServer | undefined;
  try {
    server = await startTestServer({ now: clock.now, mailTransport: sink.transport, env: { INBOUND_SMTP_PORT: '0', MAIL_POLL_MS: '3600000', ...options.env } });
    // Every job runs once at start, on a timer: wait until those runs are over, so none of
    // them runs later under a clock the test has moved (the alert test counts its runs).
    const names = server.running.jobs.jobs.filter((j) => !j.cron).map((j) => j.name);
    for (let i = 0; i < 200; i++) {
      await server.running.jobs.idle();
      const done = await server.running.deps.storage.db.selectFrom('job_state').select('name').where('last_finished_at', 'is not', null).execute();
      if (names.every((n) => done.some((d) => d.name === n))) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    await server.running.jobs.idle();
    const port = server.running.inboundSmtp?.port;
    assert.ok(port, 'the listener is started when INBOUND_SMTP_PORT is set');
    const client = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, connectionTimeout: 3000, greetingTimeout: 3000, socketTimeout: 10_000 });
    try {
      await fn({ server, sink, client, clock });
    } finally {
      client.close();
    }
  } finally {
    await server?.close();
    await sink.close();
  }
}

export function requests(server: TestServer) {
  return server.running.deps.storage.db.selectFrom('privacy_request').selectAll().orderBy('received_at').orderBy('id').execute();
}

export function events(server: TestServer, requestId: string) {
  return server.running.deps.storage.db.selectFrom('privacy_request_event').selectAll().where('request_id', '=', requestId).orderBy('at').orderBy('id').execute();
}

export async function audit(server: TestServer) {
  return server.running.deps.storage.db.selectFrom('audit_log').select(['actor', 'action', 'entity_type', 'entity_id', 'details']).orderBy('seq').execute();
}

/** Waits for the outbox to deliver `count` messages in all, running the delivery job. */
export async function delivered(env: DeskEnv, count: number): Promise<ReceivedMail[]> {
  await env.server.running.jobs.runNow('outbox.deliver');
  return env.sink.waitFor(count);
}

/** The verification link in an acknowledgement. */
export function verifyLinkIn(mail: ReceivedMail): string {
  const link = /https?:\/\/\S+\/privacy\/request\/[0-9a-f-]{36}\/verify\/[A-Za-z0-9_-]{43}/.exec(mail.parsed.text ?? '')?.[0];
  assert.ok(link, `a verification link in ${mail.parsed.text}`);
  return link;
}

export async function requestFormToken(url: string): Promise<string> {
  const body = await (await fetch(`${url}/privacy/request`)).text();
  const m = /name="form_token" value="([^"]+)"/.exec(body);
  assert.ok(m, 'the form carries a token');
  return m[1];
}

export async function submitRequestForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return postForm(url, '/privacy/request', { form_token: await requestFormToken(url), ...fields }, headers);
}

/** The assertion every test ends with: logs never name the requester. */
export function assertLogsClean(server: TestServer, values: string[]): void {
  const text = server.logs.join('\n').toLowerCase();
  for (const v of values) assert.ok(!text.includes(v.toLowerCase()), `the logs contain ${JSON.stringify(v)}`);
}
