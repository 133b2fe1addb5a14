// Shared by the erasure, access-package and correction tests: the real service with its
// SMTP listener and an SMTP sink, and two people whose data is built the way users build
// it (forms over HTTP, mail over SMTP, a staff reply through the outbox). Every value is
// a distinctive random string, so a scan of the stored bytes can look for each one.
//
// Person A ("ada"): mails the privacy address before she is known (triage), submits a demo
// request with the marketing box ticked and a second contact request, replies to the
// confirmation with an attachment, gets a staff reply (left pending in the outbox), and
// answers into B's triage conversation. Person B ("bea", an address that contains A's):
// mails in once (triage) and replies into A's inquiry thread.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { sql } from 'kysely';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { replyToThread } from '../../src/correspondence/reply-to-thread.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp.ts';
import { startTestServer, submitForm, type TestServer } from '../support/server.ts';
import type { TestDatabase } from '../support/db.ts';

export function rand(prefix: string): string {
  return `${prefix}${randomBytes(6).toString('hex')}`;
}

export interface Someone {
  email: string;
  name: string;
  company: string;
  role: string;
  context: string;
  /** Text of mail they sent, subjects, attachment name and bytes: all distinctive. */
  mailText: string[];
  /** Every value that must be gone after their erasure (or stay, for the other person). */
  secrets: string[];
}

function someone(tag: string, email: string): Someone {
  const p = {
    email,
    name: `${rand(`${tag}Name`)} ${rand('Surname')}`,
    company: rand(`${tag}Company`),
    role: rand(`${tag}Role`),
    // Markup in a value must come out escaped wherever it is shown.
    context: `Portfolio ${rand(`${tag}Context`)} <img src="/x" onerror="alert(1)"> with <b>many</b> sites`,
    mailText: [rand(`${tag}Triage`), rand(`${tag}Reply`), rand(`${tag}Attach`), rand(`${tag}Subject`), rand(`${tag}FileName`), rand(`${tag}Elsewhere`)],
  };
  return { ...p, secrets: [p.email, p.name, p.company, p.role, p.context, ...p.mailText] };
}

export interface World {
  server: TestServer;
  sink: SmtpSink;
  a: Someone;
  b: Someone;
  aPersonId: string;
  bPersonId: string;
  /** A's inquiries, demo first. */
  aInquiries: string[];
  /** The thread of A's demo inquiry (holds B's reply too). */
  aThreadId: string;
  staffReplyOutboxId: string;
}

const staff = { staffAccountId: 'acct-privacy-1', sessionId: 'sess-1' };

async function send(server: TestServer, mail: SendMailOptions): Promise<void> {
  const port = server.running.inboundSmtp?.port;
  assert.ok(port, 'the SMTP listener runs');
  const client = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, connectionTimeout: 3000 });
  try {
    const info = await client.sendMail(mail);
    assert.match(String(info.response), /^250 /);
  } finally {
    client.close();
  }
}

export async function startWorld(database?: TestDatabase): Promise<{ server: TestServer; sink: SmtpSink }> {
  const sink = await startSmtpSink();
  const server = await startTestServer({ mailTransport: sink.transport, database, env: { INBOUND_SMTP_PORT: '0', MAIL_POLL_MS: '3600000' } });
  await server.running.jobs.idle();
  return { server, sink };
}

/** `database`: one the caller made and drops (to restart the service on it). */
export async function buildWorld(database?: TestDatabase): Promise<World> {
  const { server, sink } = await startWorld(database);
  const domain = `${rand('eng')}.example.com`;
  const aLocal = rand('ada');
  const a = someone('A', `${aLocal}@${domain}`);
  // Similar on purpose: B's address starts with A's local part (a prefix match would take both).
  const b = someone('B', `${aLocal}x@${domain}`);
  const privacy = server.running.deps.policy.policy.organisation.privacy_address;
  const deps = server.running.deps;

  // A writes before she is known: triage, with the address as she typed it (mixed case).
  await send(server, { from: a.email.toUpperCase(), to: privacy, subject: `Hello ${a.mailText[3]}`, text: `First ${a.mailText[0]}`, messageId: `<${rand('a1')}@${domain}>` });
  // B too; A later answers into B's conversation.
  const bTriageId = `<${rand('b1')}@${domain}>`;
  await send(server, { from: b.email, to: privacy, subject: `Question ${b.mailText[3]}`, text: `From B ${b.mailText[0]}`, messageId: bTriageId });

  const post = async (p: Someone, form: 'demo' | 'contact', optIn: boolean) => {
    const res = await submitForm(server.url, form, { name: p.name, email: p.email, company: p.company, role: p.role, country: 'GB', context: p.context, ...(optIn ? { marketing_opt_in: 'yes' } : {}) });
    assert.equal(res.status, 303);
  };
  await post(a, 'demo', true);
  await post(b, 'demo', false);
  await sink.waitFor(4);
  await server.running.jobs.idle();
  const db = deps.storage.db;
  const personOf = async (email: string) => (await db.selectFrom('person').select('id').where('email', '=', email).executeTakeFirstOrThrow()).id;
  const aPersonId = await personOf(a.email);
  const bPersonId = await personOf(b.email);
  const demo = await db.selectFrom('inquiry').select('id').where('person_id', '=', aPersonId).executeTakeFirstOrThrow();
  const confirmation = sink.messages.find((m) => m.envelopeTo.includes(a.email));
  assert.ok(confirmation?.parsed.messageId);

  // A replies to her confirmation with an attachment: it threads into her inquiry.
  await send(server, {
    from: a.email,
    to: privacy,
    subject: `Re: ${a.mailText[3]}`,
    text: `Reply ${a.mailText[1]}`,
    inReplyTo: confirmation.parsed.messageId,
    references: confirmation.parsed.messageId,
    messageId: `<${rand('a2')}@${domain}>`,
    attachments: [{ filename: `${a.mailText[4]}.txt`, content: `bytes ${a.mailText[2]}`, contentType: 'text/plain' }],
  });
  const thread = await db.selectFrom('mail_thread').select('id').where('inquiry_id', '=', demo.id).executeTakeFirstOrThrow();
  // B replies into A's thread (a colleague in copy, say).
  const aThreadMessage = await db.selectFrom('mail_message').select('message_id').where('thread_id', '=', thread.id).executeTakeFirstOrThrow();
  await send(server, { from: b.email, to: privacy, subject: 'Re: joining', text: `B in A thread ${b.mailText[1]}`, inReplyTo: aThreadMessage.message_id, references: aThreadMessage.message_id, messageId: `<${rand('b2')}@${domain}>` });
  // A answers into B's triage conversation.
  await send(server, { from: a.email, to: privacy, subject: 'Re: your question', text: `A elsewhere ${a.mailText[5]}`, inReplyTo: bTriageId, references: bTriageId, messageId: `<${rand('a3')}@${domain}>` });

  // From here mail waits in the outbox: a pending staff reply and a second inquiry's mail.
  sink.mode = 'defer';
  const reply = await replyToThread(deps, { threadId: thread.id, ...staff, text: `Dear ${a.name}, about ${a.company}` });
  await post(a, 'contact', false);
  await server.running.jobs.idle();
  const aInquiries = (await db.selectFrom('inquiry').select('id').where('person_id', '=', aPersonId).orderBy('created_at').execute()).map((r) => r.id);
  assert.equal(aInquiries.length, 2);
  return { server, sink, a, b, aPersonId, bPersonId, aInquiries, aThreadId: thread.id, staffReplyOutboxId: reply.outboxId };
}

export async function closeWorld(world: { server: TestServer; sink: SmtpSink }): Promise<void> {
  await world.server.close();
  await world.sink.close();
}

/**
 * Every value of every column of every table (introspected, so new tables are covered),
 * plus, on SQLite, the raw bytes of the database file, its -wal and its -shm. Read with
 * both the UTF-8 and the Latin-1 decodings, lower-cased, so no encoding hides a value.
 * `files: false`: the tables' values only.
 */
export async function storedBytes(server: TestServer, options: { files?: boolean } = {}): Promise<string> {
  const db = server.running.deps.storage.db;
  const tables =
    server.database.kind === 'postgres'
      ? (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(db)).rows
      : await db.introspection.getTables({ withInternalKyselyTables: true });
  assert.ok(tables.length >= 20, `introspection found ${tables.length} tables`);
  const parts: string[] = [];
  for (const t of tables) {
    const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(t.name)}`.execute(db);
    for (const row of rows) {
      for (const value of Object.values(row)) {
        if (value instanceof Uint8Array) parts.push(Buffer.from(value).toString('latin1'));
        else parts.push(typeof value === 'string' ? value : JSON.stringify(value));
      }
    }
  }
  const target = server.database.target;
  if (target.kind === 'sqlite' && options.files !== false) {
    for (const file of [target.path, `${target.path}-wal`, `${target.path}-shm`]) {
      if (existsSync(file)) {
        const bytes = readFileSync(file);
        parts.push(bytes.toString('latin1'), bytes.toString('utf8'));
      }
    }
  }
  return parts.join('\n').toLowerCase();
}

/** Case-insensitive: none of `values` is in `stored`. */
export function assertNoneOf(stored: string, values: string[], what: string): void {
  const text = stored.toLowerCase();
  for (const v of values) assert.ok(!text.includes(v.toLowerCase()), `${what}: ${JSON.stringify(v)} is still stored`);
}

/** Case-insensitive: every one of `values` is in `stored`. */
export function assertAllOf(stored: string, values: string[], what: string): void {
  const text = stored.toLowerCase();
  for (const v of values) assert.ok(text.includes(v.toLowerCase()), `${what}: ${JSON.stringify(v)} is missing`);
}
