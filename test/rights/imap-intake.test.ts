// Requests by mail through the IMAP poller (Debian's dovecot, started by the test): the
// privacy subject opens a request as it does over SMTP, the same Message-ID twice opens
// one, other mail waits in triage. Skipped, saying why, when dovecot cannot run.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { IMAP_POLL_JOB } from '../../src/correspondence/imap-poller.ts';
import { startSmtpSink } from '../support/smtp.ts';
import { startTestServer } from '../support/server.ts';
import { startDovecot } from '../correspondence/dovecot.ts';
import { Clock } from '../auth/helpers.ts';
import { RECEIVED, requests } from './support.ts';

function mail(headers: Record<string, string>, body: string): string {
  return `${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\nDate: Wed, 2 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`;
}

describe('requests by mail over IMAP', () => {
  test('the poller opens a request for the privacy subject, once per Message-ID', async (t) => {
    const dovecot = await startDovecot();
    if (typeof dovecot === 'string') {
      t.skip(`IMAP test skipped: ${dovecot}`);
      return;
    }
    const clock = new Clock();
    clock.t = RECEIVED;
    const sink = await startSmtpSink();
    const server = await startTestServer({ now: clock.now, mailTransport: sink.transport, env: { IMAP_URL: dovecot.url, IMAP_POLL_MS: '3600000', MAIL_POLL_MS: '3600000' } });
    const imap = new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, auth: { user: dovecot.user, pass: dovecot.pass }, logger: false });
    imap.on('error', () => undefined);
    try {
      await server.running.jobs.idle(); // the poll that runs at start is over
      await imap.connect();
      const privacy = server.running.deps.policy.policy.organisation.privacy_address;
      const subject = `=?UTF-8?Q?Fwd=3A_PRIVACY_question=21?=`;
      await imap.append('INBOX', mail({ From: 'Mae Jemison <mae@endeavour.example.org>', To: privacy, Subject: subject, 'Message-ID': '<imap-pq-1@endeavour.example.org>' }, 'Please send me a copy.'));
      await imap.append('INBOX', mail({ From: 'Mae Jemison <mae@endeavour.example.org>', To: privacy, Subject: subject, 'Message-ID': '<imap-pq-1@endeavour.example.org>' }, 'Please send me a copy.'));
      await imap.append('INBOX', mail({ From: 'someone@example.org', To: privacy, Subject: 'Newsletter', 'Message-ID': '<imap-other@example.org>' }, 'x'));
      // The poll that runs at start may still be under way and take some of them itself.
      const db = server.running.deps.storage.db;
      for (let i = 0; i < 20; i++) {
        const run = await server.running.jobs.runNow(IMAP_POLL_JOB);
        assert.notEqual(run.status, 'failed', JSON.stringify(run));
        if ((await db.selectFrom('mail_message').select('id').execute()).length >= 2) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await server.running.jobs.idle();
      const stored = await db.selectFrom('mail_message').select(['message_id', 'thread_id']).execute();
      assert.deepEqual(stored.map((m) => m.message_id).sort(), ['<imap-other@example.org>', '<imap-pq-1@endeavour.example.org>'], 'the same Message-ID is stored once');
      const rows = await requests(server);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].requester_email, 'mae@endeavour.example.org');
      assert.equal(rows[0].channel, 'mail');
      assert.equal(rows[0].respond_by, '2026-12-16T23:59:59.999Z');
      await server.running.jobs.runNow('outbox.deliver');
      const [ack] = await sink.waitFor(1);
      assert.deepEqual(ack.envelopeTo, ['mae@endeavour.example.org']);
      assert.match(ack.parsed.text ?? '', /Wednesday 16 December 2026/);
    } finally {
      await imap.logout().catch(() => undefined);
      await server.close();
      await sink.close();
      await dovecot.stop();
    }
  });
});
