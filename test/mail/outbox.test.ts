// The durable outbox against a real SMTP server (smtp-server as the sink): delivery with
// the right headers, retries while the server refuses or is down, no header injection,
// and mail that waits when no server is configured.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../src/config.ts';
import { queueMail } from '../../src/mail/queue-mail.ts';
import { confirmationMail, staffNotificationMail } from '../../src/mail/templates.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp.ts';
import { startTestServer, submitForm, TEST_SECRET, validFields, type TestServer } from '../support/server.ts';

const node = join(projectRoot, 'node_modules', '.bin', 'node');

/** A header as it stands in the raw message (unfolded), so we check what was really sent. */
function header(mail: { raw: string }, name: string): string | undefined {
  const head = mail.raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

describe('outbox delivery over SMTP', () => {
  let sink: SmtpSink;
  let server: TestServer;
  let now = Date.parse('2026-11-25T09:00:00Z');
  before(async () => {
    sink = await startSmtpSink();
    server = await startTestServer({ mailTransport: sink.transport, now: () => new Date(now), env: { MAIL_POLL_MS: '3600000' } });
  });
  after(async () => {
    await server.close();
    await sink.close();
  });

  test('a submission sends a confirmation and a staff notification with the right headers, then erases them', async () => {
    const { policy } = server.running.deps.policy;
    const res = await submitForm(server.url, 'demo', { ...validFields, email: 'optin@mail.example.com', marketing_opt_in: 'yes' });
    assert.equal(res.status, 303);
    const mails = await sink.waitFor(2);
    const confirmation = mails.find((m) => m.envelopeTo.includes('optin@mail.example.com'))!;
    const staff = mails.find((m) => m.envelopeTo.includes(policy.organisation.staff_inbox))!;
    assert.ok(confirmation && staff);
    assert.deepEqual(confirmation.envelopeTo, ['optin@mail.example.com']);
    assert.equal(confirmation.parsed.from?.value[0].address, 'no-reply@lumetrax.com');
    assert.equal(confirmation.parsed.from?.value[0].name, 'LumeTrax');
    assert.match(confirmation.parsed.subject ?? '', /We received your demo request \(LT-[A-Z2-9]{8}\)/);
    assert.ok(confirmation.parsed.text?.includes(policy.organisation.privacy_address));
    const unsubscribe = header(confirmation, 'list-unsubscribe') ?? '';
    assert.match(unsubscribe, new RegExp(`^<${server.url}/privacy/unsubscribe/[^>]+>$`));
    assert.equal(header(confirmation, 'list-unsubscribe-post'), 'List-Unsubscribe=One-Click');
    assert.match(confirmation.parsed.messageId ?? '', /@lumetrax\.com>?$/);

    assert.deepEqual(staff.envelopeTo, [policy.organisation.staff_inbox]);
    assert.equal(staff.parsed.replyTo?.text, 'optin@mail.example.com');
    assert.equal(header(staff, 'list-unsubscribe'), undefined);
    assert.ok(staff.parsed.text?.includes(validFields.company));

    const rows = await server.running.deps.storage.db.selectFrom('outbox').selectAll().execute();
    assert.equal(rows.length, 2);
    for (const row of rows) {
      assert.equal(row.status, 'sent');
      assert.equal(row.to_address, '');
      assert.equal(row.text_body, '');
      assert.equal(row.subject, '');
    }

    // The one-click unsubscribe in the delivered mail works as a mail provider uses it.
    const url = unsubscribe.slice(1, -1);
    const oneClick = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    assert.equal(oneClick.status, 200);
    const records = await server.running.deps.storage.db.selectFrom('consent_record').select(['action', 'channel']).orderBy('recorded_at').execute();
    assert.deepEqual(records.map((r) => r.action), ['granted', 'withdrawn']);
    assert.equal(records[1].channel, 'email-one-click');
    assert.equal((await server.running.deps.storage.db.selectFrom('suppression').selectAll().execute()).length, 1);
  });

  test('without opt-in the confirmation carries no List-Unsubscribe header', async () => {
    sink.messages.length = 0;
    await submitForm(server.url, 'contact', { ...validFields, email: 'nooptin@mail.example.com' });
    const mails = await sink.waitFor(2);
    const confirmation = mails.find((m) => m.envelopeTo.includes('nooptin@mail.example.com'))!;
    assert.equal(header(confirmation, 'list-unsubscribe'), undefined);
    assert.match(confirmation.parsed.subject ?? '', /We received your message/);
  });

  test('a refusing server: the message waits with backoff and codes only, then goes exactly once', async () => {
    // From here on the test drives the worker itself, pass by pass.
    await server.running.mail!.idle();
    server.running.deps.mailQueued = () => undefined;
    sink.messages.length = 0;
    sink.mode = 'refuse';
    await submitForm(server.url, 'contact', { ...validFields, email: 'retry@mail.example.com' });
    await server.running.mail!.runOnce();
    let rows = await server.running.deps.storage.db.selectFrom('outbox').selectAll().where('status', '=', 'pending').execute();
    assert.equal(rows.length, 2);
    for (const row of rows) {
      assert.equal(row.attempts, 1);
      assert.match(row.last_error ?? '', /^E[A-Z]+ 550$/);
      assert.doesNotMatch(row.last_error ?? '', /@|Mailbox/);
      assert.ok(Date.parse(row.next_attempt_at) > now, 'retry is scheduled later');
    }
    // Not due yet: nothing is tried.
    assert.deepEqual(await server.running.mail!.runOnce(), { sent: 0, failed: 0 });
    sink.mode = 'accept';
    now += 60_000;
    assert.deepEqual(await server.running.mail!.runOnce(), { sent: 2, failed: 0 });
    rows = await server.running.deps.storage.db.selectFrom('outbox').selectAll().where('status', '=', 'pending').execute();
    assert.equal(rows.length, 0);
    assert.equal(sink.messages.filter((m) => m.envelopeTo.includes('retry@mail.example.com')).length, 1);
  });

  test('a server that is down: the message waits and is delivered once it is back', async () => {
    sink.messages.length = 0;
    const port = sink.port;
    await sink.close();
    await submitForm(server.url, 'contact', { ...validFields, email: 'down@mail.example.com' });
    await server.running.mail!.runOnce();
    const pending = await server.running.deps.storage.db.selectFrom('outbox').selectAll().where('status', '=', 'pending').execute();
    assert.equal(pending.length, 2);
    assert.ok(pending.every((r) => /^(ECONNECTION|ESOCKET|ECONNREFUSED)$/.test(r.last_error ?? '')), pending.map((r) => r.last_error).join());
    const first = Date.parse(pending[0].next_attempt_at);
    // A second failure backs off further.
    now = first + 1;
    await server.running.mail!.runOnce();
    const again = await server.running.deps.storage.db.selectFrom('outbox').selectAll().where('status', '=', 'pending').execute();
    assert.ok(again.every((r) => r.attempts === 2));
    const firstWait = first - Date.parse(pending[0].created_at);
    assert.ok(Date.parse(again[0].next_attempt_at) - now > firstWait, 'backoff grows');

    sink = await startSmtpSink(port);
    now += 3600_000;
    assert.deepEqual(await server.running.mail!.runOnce(), { sent: 2, failed: 0 });
    assert.equal(sink.messages.length, 2);
  });

  test('nothing typed into a form can add a header or a recipient', async () => {
    // Through the form: CR/LF in single-line fields is refused and nothing is queued.
    const before = await server.running.deps.storage.db.selectFrom('outbox').select('id').execute();
    for (const field of ['name', 'company', 'role']) {
      const res = await submitForm(server.url, 'demo', { ...validFields, [field]: 'X\r\nBcc: evil@attacker.example' });
      assert.equal(res.status, 422);
    }
    assert.equal((await server.running.deps.storage.db.selectFrom('outbox').select('id').execute()).length, before.length);

    // Below validation: the templates and the sender must still not let it through.
    sink.messages.length = 0;
    const { policy } = server.running.deps.policy;
    const payloads = ['\r\nBcc: evil@attacker.example\r\nX-Injected: 1', '\nBcc: evil@attacker.example', '\rX-Injected: 1', '%0d%0aBcc: evil@attacker.example', '=?utf-8?Q?=0D=0ABcc:_evil@attacker.example?='];
    for (const payload of payloads) {
      const input = {
        form: 'demo' as const,
        reference: 'LT-INJECT00',
        name: `Eve${payload}`,
        email: 'victim@mail.example.com',
        company: `Corp${payload}`,
        role: `Role${payload}`,
        country: 'GB',
        context: `Context${payload}`,
        freeMail: false,
        marketingOptIn: false,
      };
      await server.running.deps.storage.batcher.run(async (trx) => {
        await queueMail(trx, new Date(now), 'inquiry-confirmation', null, confirmationMail(policy, server.url, input, null));
        await queueMail(trx, new Date(now), 'staff-notification', null, staffNotificationMail(policy, input, 'United Kingdom'));
      });
    }
    await server.running.mail!.runOnce();
    const mails = await sink.waitFor(payloads.length * 2);
    for (const mail of mails) {
      assert.equal(mail.envelopeTo.length, 1);
      assert.ok(['victim@mail.example.com', policy.organisation.staff_inbox].includes(mail.envelopeTo[0]));
      assert.equal(mail.parsed.bcc, undefined);
      assert.equal(mail.parsed.headers.get('x-injected'), undefined);
      const rawHeaders = mail.raw.split(/\r?\n\r?\n/)[0];
      assert.doesNotMatch(rawHeaders, /^(bcc|x-injected):/im);
    }
  });
});

describe('outbox without a mail server', () => {
  test('submissions succeed, mail waits, and the CLI lists it without full addresses', async () => {
    const server = await startTestServer();
    try {
      assert.equal(server.running.mail, undefined);
      assert.ok(server.logs.some((l) => l.includes('No SMTP_URL configured')));
      const res = await submitForm(server.url, 'demo', { ...validFields, email: 'waiting@mail.example.com' });
      assert.equal(res.status, 303);
      const out = execFileSync(node, ['src/main.ts', 'outbox', 'list'], {
        cwd: projectRoot,
        env: { ...process.env, DATABASE_URL: server.database.url, SECRET_KEY: TEST_SECRET },
        encoding: 'utf8',
      });
      const lines = out.trim().split('\n');
      assert.equal(lines.length, 2);
      assert.match(out, /inquiry-confirmation\s+pending/);
      assert.match(out, /staff-notification\s+pending/);
      assert.ok(!out.includes('waiting@mail.example.com'));
      assert.match(out, /w•+@mail\.example\.com/);
    } finally {
      await server.close();
    }
  });
});
