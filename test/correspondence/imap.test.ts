// IMAP polling against a real IMAP server: Debian's dovecot, started by the test in a
// temp folder. Mail is put in the mailbox over IMAP (APPEND); the job takes each message
// once (by UID, marked \Seen), threads it like the listener does, stores a Message-ID
// seen before only once, and fetches only the headers of a message over the size limit.
// When dovecot cannot be installed or started, the test is skipped and says why.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { IMAP_POLL_JOB } from '../../src/correspondence/imap-poller.ts';
import { startSmtpSink } from '../support/smtp.ts';
import { startTestServer, submitForm, validFields } from '../support/server.ts';
import { startDovecot, type Dovecot } from './dovecot.ts';
import { assertLogsClean, LIMITS, messages, policyCopy, threads } from './support.ts';

const visitor = { ...validFields, email: 'ada@analytical-engines.example.com', name: 'Ada Lovelace' };
const stranger = 'charles.babbage@difference.example.org';

function mail(headers: Record<string, string>, body: string): string {
  return `${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\nDate: Sun, 29 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`;
}

async function mailbox(d: Dovecot): Promise<ImapFlow> {
  const c = new ImapFlow({ host: '127.0.0.1', port: d.port, secure: false, auth: { user: d.user, pass: d.pass }, logger: false });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

describe('IMAP polling', () => {
  test('the job takes new mail from a real IMAP mailbox once, threaded, marked \\Seen', async (t) => {
    const dovecot = await startDovecot();
    if (typeof dovecot === 'string') {
      t.skip(`IMAP test skipped: ${dovecot}`);
      return;
    }
    const policy = policyCopy({});
    const sink = await startSmtpSink();
    const server = await startTestServer({ mailTransport: sink.transport, env: { IMAP_URL: dovecot.url, IMAP_POLL_MS: '3600000', MAIL_POLL_MS: '3600000', POLICY_FILE: policy.file } });
    const imap = await mailbox(dovecot);
    try {
      const { jobs, deps } = server.running;
      assert.ok(jobs.jobs.some((j) => j.name === IMAP_POLL_JOB), 'the job is declared when IMAP_URL is set');
      const staffInbox = deps.policy.policy.organisation.staff_inbox;
      assert.equal((await submitForm(server.url, 'demo', visitor)).status, 303);
      const confirmation = (await sink.waitFor(2)).find((m) => m.envelopeTo.includes(visitor.email))!;
      const confirmationId = confirmation.parsed.messageId!;
      const inquiry = await deps.storage.db.selectFrom('inquiry').select(['id', 'person_id']).executeTakeFirstOrThrow();

      await imap.append('INBOX', mail({ From: `Ada Lovelace <${visitor.email}>`, To: staffInbox, Subject: 'Re: your confirmation', 'Message-ID': '<imap-1@analytical-engines.example.com>', 'In-Reply-To': confirmationId, References: confirmationId }, 'Tuesday works.'));
      await imap.append('INBOX', mail({ From: stranger, To: staffInbox, Subject: 'Hello', 'Message-ID': '<imap-2@difference.example.org>' }, 'Who are you?'));

      let run = await jobs.runNow(IMAP_POLL_JOB);
      assert.equal(run.status, 'done', JSON.stringify(run));
      assert.deepEqual(run.status === 'done' && run.counts, { fetched: 2, stored: 2, duplicates: 0, triage: 1, too_large: 0 });
      const stored = await messages(server);
      assert.equal(stored.length, 2);
      const ada = stored.find((m) => m.message_id === '<imap-1@analytical-engines.example.com>')!;
      assert.equal(ada.source, 'imap');
      assert.equal(ada.from_person_id, inquiry.person_id);
      const adaThread = (await threads(server)).find((th) => th.id === ada.thread_id)!;
      assert.equal(adaThread.inquiry_id, inquiry.id, 'threaded by In-Reply-To to the confirmation');
      const other = stored.find((m) => m.message_id === '<imap-2@difference.example.org>')!;
      assert.equal((await threads(server)).find((th) => th.id === other.thread_id)!.inquiry_id, null, 'unknown sender: triage');

      // Marked \Seen on the server, and not taken again.
      const lock = await imap.getMailboxLock('INBOX');
      try {
        for await (const msg of imap.fetch('1:*', { uid: true, flags: true })) assert.ok(msg.flags?.has('\\Seen'), `UID ${msg.uid} is marked seen`);
      } finally {
        lock.release();
      }
      run = await jobs.runNow(IMAP_POLL_JOB);
      assert.deepEqual(run.status === 'done' && run.counts, { fetched: 0, stored: 0, duplicates: 0, triage: 0, too_large: 0 });

      // The same Message-ID again (a copy filed twice): a new UID, stored once.
      await imap.append('INBOX', mail({ From: stranger, To: staffInbox, Subject: 'Hello', 'Message-ID': '<imap-2@difference.example.org>' }, 'Who are you?'));
      // A message over the size limit: only its headers are fetched, kept with a note.
      await imap.append('INBOX', mail({ From: stranger, To: staffInbox, Subject: 'Huge', 'Message-ID': '<imap-3@difference.example.org>' }, 'y'.repeat(LIMITS.message_max_bytes + 5000)));
      run = await jobs.runNow(IMAP_POLL_JOB);
      assert.deepEqual(run.status === 'done' && run.counts, { fetched: 2, stored: 1, duplicates: 1, triage: 1, too_large: 1 });
      const huge = (await messages(server)).find((m) => m.message_id === '<imap-3@difference.example.org>')!;
      assert.match(huge.note ?? '', /over the limit of 200000: only its headers were fetched/);
      assert.equal(huge.text_body, '');
      assert.equal((await messages(server)).length, 3);
      assertLogsClean(server, [visitor.email, visitor.name, stranger, dovecot.pass]);
    } finally {
      await imap.logout().catch(() => undefined);
      await server.close();
      await sink.close();
      await dovecot.stop();
      policy.remove();
    }
  });

  test('a mailbox that cannot be reached fails the run with a code, and nothing else', async () => {
    const sink = await startSmtpSink();
    const server = await startTestServer({ mailTransport: sink.transport, env: { IMAP_URL: 'imap://desk:secret-pw@127.0.0.1:1/INBOX', IMAP_POLL_MS: '3600000', MAIL_POLL_MS: '3600000' } });
    try {
      const run = await server.running.jobs.runNow(IMAP_POLL_JOB);
      assert.equal(run.status, 'failed');
      assert.ok(!server.logs.join('\n').includes('secret-pw'), 'the password is never logged');
      assert.equal((await messages(server)).length, 0);
    } finally {
      await server.close();
      await sink.close();
    }
  });
});
