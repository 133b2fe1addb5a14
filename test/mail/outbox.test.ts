// The durable outbox against a real SMTP server (smtp-server as the sink): delivery with
// the right headers, retries while the server refuses or is down, no header injection,
// mail that waits when no server is configured, and the one-click unsubscribe it carries.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { projectRoot } from '../../src/config.ts';
import { insertMessages } from '../../src/mail/outbox-store.ts';
import { confirmationMail, staffNotificationMail, type InquiryMailInput } from '../../src/inquiries/mail.ts';
import { inTransaction } from '../../src/unit-of-work.ts';
import { MailWorker } from '../../src/mail/worker.ts';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../support/smtp.ts';
import { startTestServer, submitForm, TEST_SECRET, validFields, type TestServer } from '../support/server.ts';
import { consentRecordsByEmail } from '../support/people.ts';

const node = join(projectRoot, 'node_modules', '.bin', 'node');
const run = promisify(execFile);

interface MailEnv {
  sink: SmtpSink;
  server: TestServer;
  clock: { t: number };
}

/**
 * A sink and a server whose clock the test moves. The worker's own poll is an hour, so
 * after the pass a submission wakes, only the test decides when the next one runs.
 */
async function withMail(fn: (env: MailEnv) => Promise<void>): Promise<void> {
  const clock = { t: Date.parse('2026-11-25T09:00:00Z') };
  const env = { sink: await startSmtpSink(), clock } as MailEnv;
  try {
    env.server = await startTestServer({ mailTransport: env.sink.transport, now: () => new Date(clock.t), env: { MAIL_POLL_MS: '3600000' } });
    try {
      // Let the pass the worker runs at start finish, so every later pass is the test's.
      await new Promise((resolve) => setTimeout(resolve, 10));
      await env.server.running.jobs.idle();
      await fn(env);
    } finally {
      await env.server.close();
    }
  } finally {
    await env.sink.close();
  }
}

/** Submits and waits for the pass the submission wakes, so the test knows where things stand. */
async function submitAndSettle(server: TestServer, form: 'demo' | 'contact', fields: Record<string, string>): Promise<void> {
  const res = await submitForm(server.url, form, fields);
  assert.equal(res.status, 303, 'the submission is accepted');
  await server.running.jobs.idle();
}

/** The header block exactly as sent, with folded lines joined. */
function rawHeaderLines(mail: ReceivedMail): string[] {
  const head = mail.raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
  return head.split(/\r?\n/);
}

function header(mail: ReceivedMail, name: string): string | undefined {
  const line = rawHeaderLines(mail).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

function outboxRows(server: TestServer) {
  return server.running.deps.storage.db.selectFrom('outbox').selectAll().orderBy('kind').execute();
}

function to(address: string) {
  return (m: ReceivedMail) => m.envelopeTo.includes(address);
}

describe('outbox delivery over SMTP', () => {
  test('a demo request sends the confirmation and the staff notification with the right headers, then erases them', async () => {
    await withMail(async ({ sink, server }) => {
      const { organisation } = server.running.deps.policy.policy;
      const visitor = 'optin@mail.example.com';
      const res = await submitForm(server.url, 'demo', { ...validFields, email: visitor, marketing_opt_in: 'yes' });
      assert.equal(res.status, 303);
      const mails = await sink.waitFor(2);
      await server.running.jobs.idle();
      assert.equal(mails.length, 2);
      const { reference } = await server.running.deps.storage.db.selectFrom('inquiry').select('reference').executeTakeFirstOrThrow();

      const confirmation = mails.find(to(visitor))!;
      assert.ok(confirmation, 'the visitor gets a confirmation');
      assert.deepEqual(confirmation.envelopeTo, [visitor]);
      assert.deepEqual(confirmation.parsed.to && !Array.isArray(confirmation.parsed.to) ? confirmation.parsed.to.value.map((a) => a.address) : [], [visitor]);
      assert.equal(header(confirmation, 'from'), organisation.mail_from);
      assert.equal(confirmation.parsed.subject, `We received your demo request (${reference})`);
      assert.ok(confirmation.parsed.text?.includes(reference), 'the body quotes the reference');
      assert.ok(confirmation.parsed.text?.includes(organisation.privacy_address), 'the body names the privacy address');
      const unsubscribe = header(confirmation, 'list-unsubscribe') ?? '';
      assert.match(unsubscribe, new RegExp(`^<${server.url}/privacy/unsubscribe/[A-Za-z0-9._~-]+>$`));
      assert.equal(header(confirmation, 'list-unsubscribe-post'), 'List-Unsubscribe=One-Click');
      assert.ok(confirmation.parsed.text?.includes(unsubscribe.slice(1, -1)), 'the body has the same link');
      // The Message-ID is in the sender's own domain.
      const fromDomain = organisation.mail_from.replace(/^.*@|>$/g, '');
      assert.match(confirmation.parsed.messageId ?? '', new RegExp(`^<[0-9a-f-]{36}@${fromDomain.replace(/\./g, '\\.')}>$`));

      const staff = mails.find(to(organisation.staff_inbox))!;
      assert.ok(staff, 'staff get a notification');
      assert.deepEqual(staff.envelopeTo, [organisation.staff_inbox]);
      assert.equal(header(staff, 'from'), organisation.mail_from);
      assert.equal(header(staff, 'reply-to'), visitor);
      assert.ok(staff.parsed.subject?.includes(reference));
      assert.ok(staff.parsed.text?.includes(validFields.company));
      assert.equal(header(staff, 'list-unsubscribe'), undefined, 'staff mail is not marketing');

      const rows = await outboxRows(server);
      assert.equal(rows.length, 2);
      for (const row of rows) {
        assert.equal(row.status, 'sent');
        assert.equal(row.attempts, 1);
        assert.ok(row.sent_at);
        assert.equal(row.to_address, '');
        assert.equal(row.subject, '');
        assert.equal(row.text_body, '');
        assert.equal(row.headers, '{}');
      }
      // Nothing else is sent on later passes.
      assert.deepEqual(await server.running.mail!.runOnce(), { sent: 0, failed: 0 });
      assert.equal(sink.messages.length, 2);
    });
  });

  test('without the opt-in the confirmation carries no List-Unsubscribe header and no link', async () => {
    await withMail(async ({ sink, server }) => {
      const visitor = 'nooptin@mail.example.com';
      await submitAndSettle(server, 'contact', { ...validFields, email: visitor });
      const mails = await sink.waitFor(2);
      const confirmation = mails.find(to(visitor))!;
      assert.match(confirmation.parsed.subject ?? '', /^We received your message \(LT-/);
      assert.equal(header(confirmation, 'list-unsubscribe'), undefined);
      assert.equal(header(confirmation, 'list-unsubscribe-post'), undefined);
      assert.ok(!confirmation.parsed.text?.includes('/privacy/unsubscribe/'));
    });
  });

  test('the one-click unsubscribe in the delivered email works as a mail provider uses it', async () => {
    await withMail(async ({ sink, server, clock }) => {
      const db = server.running.deps.storage.db;
      const visitor = 'oneclick@mail.example.com';
      await submitAndSettle(server, 'demo', { ...validFields, email: visitor, marketing_opt_in: 'yes' });
      const confirmation = (await sink.waitFor(2)).find(to(visitor))!;
      const url = (header(confirmation, 'list-unsubscribe') ?? '').slice(1, -1);
      assert.ok(url.startsWith(`${server.url}/privacy/unsubscribe/`));

      // As RFC 8058 describes: a POST from the provider, no Origin, no cookies; later than the grant.
      clock.t += 1000;
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
      assert.equal(res.status, 200);
      await res.text();

      const records = await consentRecordsByEmail(db, visitor);
      assert.deepEqual(records.map((r) => r.action), ['granted', 'withdrawn'], 'withdrawal is appended; the grant stays');
      assert.equal(records[1].channel, 'email-one-click');
      assert.equal(records[1].person_id, records[0].person_id);
      const suppressed = await db.selectFrom('suppression').selectAll().execute();
      assert.equal(suppressed.length, 1);
      assert.equal(suppressed[0].subject_key, records[0].subject_key);
      assert.ok(!JSON.stringify(suppressed).includes(visitor), 'only a keyed hash is kept');
    });
  });
});

describe('outbox retries', () => {
  test('a refusing (550) then deferring (451) server: the mail waits with backoff and codes only, then goes exactly once', async () => {
    await withMail(async ({ sink, server, clock }) => {
      const worker = server.running.mail!;
      const visitor = 'retry@mail.example.com';
      sink.mode = 'refuse';
      const t0 = clock.t;
      await submitAndSettle(server, 'contact', { ...validFields, email: visitor });
      let rows = await outboxRows(server);
      assert.equal(rows.length, 2);
      for (const row of rows) {
        assert.equal(row.status, 'pending');
        assert.equal(row.attempts, 1);
        assert.match(row.last_error ?? '', /^[A-Z]+ 550$/, 'only codes are kept');
        assert.doesNotMatch(row.last_error ?? '', /@|mailbox|unavailable/i);
        assert.ok(Date.parse(row.next_attempt_at) > t0, 'the retry is scheduled later');
        assert.equal(row.to_address === visitor || row.kind === 'staff-notification', true, 'the message is kept whole');
      }
      const firstWait = Date.parse(rows[0].next_attempt_at) - t0;

      // Not due yet: nothing is tried.
      clock.t = t0 + firstWait - 1000;
      assert.deepEqual(await worker.runOnce(), { sent: 0, failed: 0 });

      sink.mode = 'defer';
      clock.t = t0 + firstWait;
      assert.deepEqual(await worker.runOnce(), { sent: 0, failed: 2 });
      rows = await outboxRows(server);
      for (const row of rows) {
        assert.equal(row.status, 'pending');
        assert.equal(row.attempts, 2);
        assert.match(row.last_error ?? '', /^[A-Z]+ 451$/);
        assert.ok(Date.parse(row.next_attempt_at) - clock.t > firstWait, 'the backoff grows');
      }
      assert.equal(sink.messages.length, 0);

      sink.mode = 'accept';
      clock.t += 3600_000;
      assert.deepEqual(await worker.runOnce(), { sent: 2, failed: 0 });
      rows = await outboxRows(server);
      assert.ok(rows.every((r) => r.status === 'sent' && r.attempts === 3 && r.last_error === null));
      clock.t += 24 * 3600_000;
      assert.deepEqual(await worker.runOnce(), { sent: 0, failed: 0 });
      assert.equal(sink.messages.filter(to(visitor)).length, 1);
      assert.equal(sink.messages.length, 2);
    });
  });

  test('a server that is down: the mail waits and is delivered once it is back on the same port', async () => {
    await withMail(async (env) => {
      const { server, clock } = env;
      const worker = server.running.mail!;
      const port = env.sink.port;
      await env.sink.close();
      const t0 = clock.t;
      const visitors = ['down1@mail.example.com', 'down2@mail.example.com'];
      for (const email of visitors) await submitAndSettle(server, 'contact', { ...validFields, email });

      let pending = await outboxRows(server);
      assert.equal(pending.length, 4);
      for (const row of pending) {
        assert.equal(row.status, 'pending');
        assert.equal(row.attempts, 1);
        assert.match(row.last_error ?? '', /^E[A-Z]+$/, 'a connection code, nothing else');
        assert.ok(!(row.last_error ?? '').includes(String(port)));
      }
      const firstWait = Date.parse(pending[0].next_attempt_at) - t0;
      assert.ok(firstWait > 0);

      // Still down at the next try: the wait grows.
      clock.t = t0 + firstWait;
      assert.deepEqual(await worker.runOnce(), { sent: 0, failed: 4 });
      pending = await outboxRows(server);
      assert.ok(pending.every((r) => r.attempts === 2 && Date.parse(r.next_attempt_at) - clock.t > firstWait));

      env.sink = await startSmtpSink(port);
      clock.t += 3600_000;
      assert.deepEqual(await worker.runOnce(), { sent: 4, failed: 0 });
      clock.t += 3600_000;
      assert.deepEqual(await worker.runOnce(), { sent: 0, failed: 0 });
      for (const email of visitors) assert.equal(env.sink.messages.filter(to(email)).length, 1);
      assert.equal(env.sink.messages.length, 4);
      assert.ok((await outboxRows(server)).every((r) => r.status === 'sent' && r.attempts === 3));
    });
  });

  test('two app instances working the same outbox never send a message twice', async () => {
    await withMail(async ({ sink, server, clock }) => {
      const { deps } = server.running;
      sink.mode = 'refuse';
      const visitors = Array.from({ length: 6 }, (_, i) => `twice${i}@mail.example.com`);
      for (const email of visitors) await submitAndSettle(server, 'contact', { ...validFields, email });
      sink.mode = 'accept';
      clock.t += 3600_000;
      const other = new MailWorker({
        db: deps.storage.db,
        transport: sink.transport,
        from: deps.policy.policy.organisation.mail_from,
        maxBackoffSeconds: 3600,
        now: () => new Date(clock.t),
        batchSize: 20,
      });
      try {
        const results = await Promise.all([server.running.mail!.runOnce(), other.runOnce(), server.running.mail!.runOnce(), other.runOnce()]);
        assert.equal(results.reduce((n, r) => n + r.sent, 0), 12);
        assert.equal(results.reduce((n, r) => n + r.failed, 0), 0);
      } finally {
        await other.stop();
      }
      assert.equal(sink.messages.length, 12);
      for (const email of visitors) assert.equal(sink.messages.filter(to(email)).length, 1);
      const ids = sink.messages.map((m) => m.parsed.messageId);
      assert.equal(new Set(ids).size, 12);
    });
  });
});

describe('no header injection', () => {
  const evil = 'evil@attacker.example';

  function assertClean(mail: ReceivedMail, intended: string[]): void {
    assert.equal(mail.envelopeTo.length, 1, 'exactly one envelope recipient');
    assert.ok(intended.includes(mail.envelopeTo[0]), `unexpected recipient ${mail.envelopeTo[0]}`);
    assert.equal(mail.parsed.bcc, undefined);
    assert.equal(mail.parsed.cc, undefined);
    assert.equal(mail.parsed.headers.get('x-injected'), undefined);
    for (const line of rawHeaderLines(mail)) {
      assert.doesNotMatch(line, /^(bcc|cc|x-injected)\s*:/i, `injected header line: ${line}`);
    }
    const toAddresses = mail.parsed.to && !Array.isArray(mail.parsed.to) ? mail.parsed.to.value.map((a) => a.address) : [];
    assert.deepEqual(toAddresses, mail.envelopeTo);
    if (mail.parsed.replyTo) assert.ok(!mail.parsed.replyTo.text.includes(evil));
    assert.ok(!mail.raw.split(/\r?\n\r?\n/)[0].toLowerCase().includes(evil), 'the attacker address is nowhere in the headers');
  }

  test('the forms refuse CR/LF in single-line fields and queue nothing; a multi-line message adds no header', async () => {
    await withMail(async ({ sink, server }) => {
      const { organisation } = server.running.deps.policy.policy;
      for (const field of ['name', 'company', 'role', 'email']) {
        for (const payload of [`\r\nBcc: ${evil}`, `\nBcc: ${evil}`, '\rX-Injected: 1']) {
          const value = field === 'email' ? `victim@mail.example.com${payload}` : `X${payload}`;
          const res = await submitForm(server.url, 'demo', { ...validFields, [field]: value });
          assert.equal(res.status, 422, `${field} with ${JSON.stringify(payload)}`);
        }
      }
      assert.equal((await outboxRows(server)).length, 0, 'nothing was queued');
      assert.equal((await server.running.deps.storage.db.selectFrom('inquiry').select('id').execute()).length, 0);

      // The message box is multi-line by design: its line breaks stay in the body.
      const visitor = 'multiline@mail.example.com';
      await submitAndSettle(server, 'demo', { ...validFields, email: visitor, context: `Line one\r\nBcc: ${evil}\r\nX-Injected: 1\r\n\r\nLine two` });
      const mails = await sink.waitFor(2);
      for (const mail of mails) assertClean(mail, [visitor, organisation.staff_inbox]);
      const staff = mails.find(to(organisation.staff_inbox))!;
      assert.ok(staff.parsed.text?.includes(`Bcc: ${evil}`), 'the text is delivered as body text');
    });
  });

  test('below validation, templates and sender still keep CR/LF in any field out of the headers', async () => {
    await withMail(async ({ sink, server, clock }) => {
      const { deps } = server.running;
      const { policy } = deps.policy;
      const victim = 'victim@mail.example.com';
      const payloads = [
        `\r\nBcc: ${evil}\r\nX-Injected: 1`,
        `\nBcc: ${evil}\nX-Injected: 1`,
        `\rBcc: ${evil}\rX-Injected: 1`,
        `\r\n\tBcc: ${evil}`,
        `\r\n\r\nBcc: ${evil}`,
        `\u2028Bcc: ${evil}\u2029X-Injected: 1`,
        `\u0085Bcc: ${evil}`,
        `%0d%0aBcc: ${evil}%0d%0aX-Injected: 1`,
        `=?utf-8?Q?=0D=0ABcc:_${evil}?=`,
        `=?utf-8?B?${Buffer.from(`\r\nBcc: ${evil}`).toString('base64')}?=`,
      ];
      for (const payload of payloads) {
        const input: InquiryMailInput = {
          form: 'demo',
          reference: 'LT-INJECT00',
          name: `Eve${payload}`,
          email: victim,
          company: `Corp${payload}`,
          role: `Role${payload}`,
          country: 'GB',
          context: `Context${payload}`,
          freeMail: false,
          marketingOptIn: true,
        };
        await inTransaction(deps, async (uow) => {
          uow.queueMail('inquiry-confirmation', confirmationMail(policy, server.url, input, `${server.url}/privacy/unsubscribe/x`));
          uow.queueMail('staff-notification', staffNotificationMail(policy, input, 'United Kingdom'));
        });
      }
      // Queueing woke the delivery job after each commit.
      await server.running.jobs.idle();
      const delivered = await outboxRows(server);
      assert.equal(delivered.length, payloads.length * 2);
      assert.ok(delivered.every((r) => r.status === 'sent'), 'every message went out');
      const mails = await sink.waitFor(payloads.length * 2);
      for (const mail of mails) assertClean(mail, [victim, policy.organisation.staff_inbox]);
      for (const mail of mails.filter(to(victim))) assert.equal(header(mail, 'list-unsubscribe'), `<${server.url}/privacy/unsubscribe/x>`);
    });
  });

  test('a recipient or Reply-To that could add recipients is refused when queued, and not sent if stored anyway', async () => {
    await withMail(async ({ sink, server, clock }) => {
      const { deps } = server.running;
      const { policy } = deps.policy;
      const bad = [`victim@mail.example.com\r\nBcc: ${evil}`, `victim@mail.example.com, ${evil}`, `victim@mail.example.com\n${evil}`, `Victim <victim@mail.example.com>; ${evil}`];
      for (const email of bad) {
        const input: InquiryMailInput = { form: 'contact', reference: 'LT-INJECT01', name: 'Eve', email, company: 'Corp', role: 'Role', country: 'GB', context: '', freeMail: false, marketingOptIn: false };
        await assert.rejects(inTransaction(deps, async (uow) => uow.queueMail('inquiry-confirmation', confirmationMail(policy, server.url, input, null))), /refused/);
        await assert.rejects(inTransaction(deps, async (uow) => uow.queueMail('staff-notification', staffNotificationMail(policy, input, 'United Kingdom'))), /refused/);
        await assert.rejects(
          inTransaction(deps, async (uow) => uow.queueMail('x', { to: 'victim@mail.example.com', subject: 's', text: 't', headers: { 'X-Note': `a\r\nBcc: ${evil}` } })),
          /refused/,
        );
      }
      assert.equal((await outboxRows(server)).length, 0, 'the refused drafts left nothing behind');

      // A row written around queueMail is held back by the worker, not sent.
      await insertMessages(deps.storage.db, [{ id: crypto.randomUUID(), kind: 'inquiry-confirmation', inquiryId: null, personId: null, to: bad[0], subject: 's', text: 't', headers: {}, queuedAt: new Date(clock.t).toISOString() }]);
      assert.deepEqual(await server.running.mail!.runOnce(), { sent: 0, failed: 1 });
      const [row] = await outboxRows(server);
      assert.equal(row.status, 'pending');
      assert.equal(row.last_error, 'EUNSAFE');
      assert.equal(sink.messages.length, 0);

      // The guard is no stricter than the form: unusual but valid addresses are queued and sent.
      const unusual = "o'brien+ops/x=y@mail.example.com";
      await submitAndSettle(server, 'contact', { ...validFields, email: unusual });
      const mails = await sink.waitFor(2);
      assert.deepEqual(mails.find(to(unusual))?.envelopeTo, [unusual]);
      assert.equal(mails.find(to(policy.organisation.staff_inbox))?.parsed.replyTo?.value[0].address, unusual);
      // A quoted local part is refused by the form, and by the guard below it: mailers
      // rewrite or split it, so the address mailed would not be the address stored.
      const quoted = '"o\'brien, \\"ops\\""@mail.example.com';
      assert.equal((await submitForm(server.url, 'contact', { ...validFields, email: quoted })).status, 422);
      await assert.rejects(inTransaction(deps, async (uow) => uow.queueMail('x', { to: '"a,b"@mail.example.com', subject: 's', text: 't', headers: {} })), /refused/);
      assert.equal((await deps.storage.db.selectFrom('outbox').selectAll().where('to_address', 'like', '"%').execute()).length, 0);
    });
  });
});

describe('outbox without a mail server', () => {
  test('submissions succeed, mail waits, and the CLI lists it without full addresses', async () => {
    const server = await startTestServer();
    try {
      assert.equal(server.running.mail, undefined);
      assert.ok(server.logs.some((l) => l.includes('No SMTP_URL configured')), 'the service says so at start');
      const visitor = 'waiting@mail.example.com';
      const res = await submitForm(server.url, 'demo', { ...validFields, email: visitor });
      assert.equal(res.status, 303);
      const rows = await outboxRows(server);
      assert.deepEqual(rows.map((r) => [r.kind, r.status, r.attempts]), [['inquiry-confirmation', 'pending', 0], ['staff-notification', 'pending', 0]]);

      const { stdout } = await run(node, ['src/main.ts', 'outbox', 'list'], {
        cwd: projectRoot,
        env: { ...process.env, DATABASE_URL: server.database.url, SECRET_KEY: TEST_SECRET },
        encoding: 'utf8',
      });
      const lines = stdout.trim().split('\n');
      assert.equal(lines.length, 2);
      for (const row of rows) assert.ok(lines.some((l) => l.startsWith(row.id) && l.includes(row.kind) && l.includes('pending')), `row ${row.kind} listed`);
      assert.ok(!stdout.includes(visitor));
      assert.ok(!stdout.includes(server.running.deps.policy.policy.organisation.staff_inbox));
      assert.match(stdout, /w•+@mail\.example\.com/);
    } finally {
      await server.close();
    }
  });
});
