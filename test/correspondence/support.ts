// Shared by the correspondence tests: the real service with the inbound SMTP listener on
// a loopback port, the outbox delivering to an SMTP sink, a policy copy with small
// limits, and a real SMTP client (nodemailer) speaking to the listener.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import nodemailer, { type Transporter } from 'nodemailer';
import { projectRoot } from '../../src/config.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp.ts';
import { startTestServer, submitForm, validFields, type TestServer } from '../support/server.ts';

export const LIMITS = { message_max_bytes: 200_000, attachment_max_bytes: 20_000 };

/** A copy of the shipped policy folder with the correspondence limits changed. */
export function policyCopy(settings: Partial<{ message_max_bytes: number; attachment_max_bytes: number; oversize_attachment: 'drop' | 'refuse' }>): { file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'lumetrax-corr-policy-'));
  cpSync(join(projectRoot, 'policy'), dir, { recursive: true });
  const file = join(dir, 'lumetrax.yaml');
  let yaml = readFileSync(file, 'utf8');
  for (const [key, value] of Object.entries({ ...LIMITS, ...settings })) {
    const re = new RegExp(`^(  ${key}: )\\S+`, 'm');
    assert.match(yaml, re, `the policy has correspondence.${key}`);
    yaml = yaml.replace(re, `$1${value}`);
  }
  writeFileSync(file, yaml);
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CorrEnv {
  server: TestServer;
  sink: SmtpSink;
  client: Transporter;
  port: number;
}

export async function withCorrespondence(fn: (env: CorrEnv) => Promise<void>, options: { policy?: Parameters<typeof policyCopy>[0]; env?: Record<string, string> } = {}): Promise<void> {
  const policy = policyCopy(options.policy ?? {});
  const sink = await startSmtpSink();
  let server: TestServer | undefined;
  try {
    server = await startTestServer({ mailTransport: sink.transport, env: { INBOUND_SMTP_PORT: '0', MAIL_POLL_MS: '3600000', POLICY_FILE: policy.file, ...options.env } });
    await new Promise((r) => setTimeout(r, 10));
    await server.running.jobs.idle();
    const port = server.running.inboundSmtp?.port;
    assert.ok(port, 'the listener is started when INBOUND_SMTP_PORT is set');
    const client = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, connectionTimeout: 3000, greetingTimeout: 3000, socketTimeout: 10_000 });
    try {
      await fn({ server, sink, client, port });
    } finally {
      client.close();
    }
  } finally {
    await server?.close();
    await sink.close();
    policy.remove();
  }
}

/** Submits a demo request and returns the inquiry and the confirmation mail's Message-ID. */
export async function inquiryWithConfirmation(env: CorrEnv, fields: Record<string, string> = validFields): Promise<{ inquiryId: string; personId: string; confirmationId: string }> {
  const before = env.sink.messages.length;
  const res = await submitForm(env.server.url, 'demo', fields);
  assert.equal(res.status, 303);
  const mails = await env.sink.waitFor(before + 2);
  await env.server.running.jobs.idle();
  const confirmation = mails.slice(before).find((m) => m.envelopeTo.includes(fields.email));
  assert.ok(confirmation?.parsed.messageId, 'the confirmation has a Message-ID');
  const inquiry = await env.server.running.deps.storage.db
    .selectFrom('inquiry')
    .select(['id', 'person_id'])
    .orderBy('created_at', 'desc')
    .executeTakeFirstOrThrow();
  return { inquiryId: inquiry.id, personId: inquiry.person_id, confirmationId: confirmation.parsed.messageId };
}

export function messages(server: TestServer) {
  return server.running.deps.storage.db.selectFrom('mail_message').selectAll().orderBy('at').orderBy('id').execute();
}

export function threads(server: TestServer) {
  return server.running.deps.storage.db.selectFrom('mail_thread').selectAll().orderBy('created_at').execute();
}

export async function auditActions(server: TestServer): Promise<Array<{ actor: string; action: string; entity_id: string; details: string }>> {
  return server.running.deps.storage.db.selectFrom('audit_log').select(['actor', 'action', 'entity_id', 'details']).orderBy('seq').execute();
}

/** The service's log lines name no one: none of these values appear. */
export function assertLogsClean(server: TestServer, values: string[]): void {
  const text = server.logs.join('\n').toLowerCase();
  for (const v of values) assert.ok(!text.includes(v.toLowerCase()), `the logs contain ${JSON.stringify(v)}`);
}

/** Sends SMTP commands one at a time and returns each reply (the greeting first). */
export function smtpDialogue(port: number, commands: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const replies: string[] = [];
    let buffer = '';
    let next = 0;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      // A reply is complete at a line "NNN text" (no dash after the code).
      while (/^\d{3} .*\r\n/m.test(buffer)) {
        const end = buffer.search(/^\d{3} .*\r\n/m);
        const lineEnd = buffer.indexOf('\r\n', end) + 2;
        replies.push(buffer.slice(0, lineEnd));
        buffer = buffer.slice(lineEnd);
        if (next < commands.length) socket.write(`${commands[next++]}\r\n`);
        else socket.end();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(replies));
  });
}
