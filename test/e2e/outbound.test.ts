// P2: personal data leaves the machine only for the configured mail server. The service
// runs in this process with every outbound path watched from the start: each TCP or TLS
// connection (net.Socket#connect, which pg, nodemailer, undici and ioredis all end in),
// each name looked up (dns.lookup, which net uses for host names) and each UDP socket.
// Then a day's worth of work happens: pages, analytics beacons from public addresses
// (the country lookup is in memory), both forms with marketing opt-in, a privacy
// request by form and one by mail into the inbound listener, a staff sign-in and the
// inbox, mail delivery, and every scheduled job run once. Every connection must go to a
// loopback address at a port the test knows: the service itself (the test's own
// requests), the SMTP sink standing in for SMTP_URL, the inbound listener, and the
// database. Nothing is looked up but loopback names, and no UDP socket is opened.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import nodemailer from 'nodemailer';
import { Clock, makeStaff } from '../auth/helpers.ts';
import { beacon, flush, visit } from '../analytics/helpers.ts';
import { submitRequestForm } from '../rights/support.ts';
import { PG_BASE_URL, suiteDbKind } from '../support/db.ts';
import { startTestServer, submitForm, validFields } from '../support/server.ts';
import { startSmtpSink } from '../support/smtp.ts';

interface Attempt {
  host: string;
  port: number | string;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);

function watchOutbound() {
  const attempts: Attempt[] = [];
  const lookups: string[] = [];
  const udp: string[] = [];
  const connect = net.Socket.prototype.connect;
  const lookup = dns.lookup;
  const createSocket = dgram.createSocket;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const first = args[0] as { host?: string; port?: number; path?: string } | number | string;
    if (typeof first === 'object' && first !== null && !Array.isArray(first)) {
      attempts.push(first.path ? { host: 'unix', port: first.path } : { host: first.host ?? 'localhost', port: first.port ?? 0 });
    } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
      attempts.push({ host: typeof args[1] === 'string' ? args[1] : 'localhost', port: Number(first) });
    } else if (Array.isArray(first)) {
      // The internal form net.connect uses: [options, callback].
      const options = first[0] as { host?: string; port?: number; path?: string };
      attempts.push(options.path ? { host: 'unix', port: options.path } : { host: options.host ?? 'localhost', port: options.port ?? 0 });
    } else attempts.push({ host: 'unix', port: String(first) });
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof connect;
  dns.lookup = function (this: unknown, hostname: string, ...rest: unknown[]) {
    lookups.push(hostname);
    return (lookup as (...a: unknown[]) => unknown).call(this, hostname, ...rest);
  } as typeof dns.lookup;
  dgram.createSocket = function (this: unknown, ...args: unknown[]) {
    udp.push(JSON.stringify(args[0]));
    return (createSocket as (...a: unknown[]) => dgram.Socket).apply(this, args);
  } as typeof dgram.createSocket;
  return {
    attempts,
    lookups,
    udp,
    stop() {
      net.Socket.prototype.connect = connect;
      dns.lookup = lookup;
      dgram.createSocket = createSocket;
    },
  };
}

describe('outbound connections (P2)', () => {
  test('a day of visitors, staff and jobs connects to nothing but loopback: the service, the mail server, the inbound listener, the database', async () => {
    const watch = watchOutbound();
    const sink = await startSmtpSink();
    const clock = new Clock();
    clock.t = Date.now();
    let server: Awaited<ReturnType<typeof startTestServer>> | undefined;
    try {
      server = await startTestServer({
        now: clock.now,
        env: { SMTP_URL: `smtp://127.0.0.1:${sink.port}`, INBOUND_SMTP_PORT: '0', TRUST_PROXY: 'true', ANALYTICS_RATE_LIMIT_MAX: '1000', MAIL_POLL_MS: '3600000' },
      });
      const serverPort = Number(new URL(server.url).port);
      const inboundPort = server.running.inboundSmtp!.port;

      // Visitors from public addresses of both families: pages, then tracker beacons.
      for (const [path, address] of [['/', '8.8.8.8'], ['/demo', '1.1.1.1'], ['/privacy', '2001:4860:4860::8888'], ['/security', '9.9.9.9'], ['/privacy/retention', '2a00:1450:4001::1']] as const) {
        assert.equal((await visit(server, path, { 'x-forwarded-for': address })).status, 200, path);
        assert.equal((await beacon(server, { p: `${path}#section`, r: 'https://www.google.com/search?q=lumetrax', w: 'l' }, { 'x-forwarded-for': address })).status, 202);
      }
      await flush(server);
      const countries = await server.running.deps.storage.db.selectFrom('analytics_event').select('country').where('country', 'is not', null).execute();
      assert.ok(countries.length > 0, 'the country lookups ran (in memory)');

      // Both forms with the marketing box ticked, and a privacy request by form.
      assert.equal((await submitForm(server.url, 'demo', { ...validFields, email: 'ada@engines.example.com', marketing_opt_in: 'yes' })).status, 303);
      assert.equal((await submitForm(server.url, 'contact', { ...validFields, email: 'grace@cobol.example.com', context: 'A question.' })).status, 303);
      assert.equal((await submitRequestForm(server.url, { email: 'alan@bletchley.example.com', type: 'access', jurisdiction: 'GB', message: 'What do you hold?' })).status, 303);

      // A privacy request by mail, through the inbound listener.
      const client = nodemailer.createTransport({ host: '127.0.0.1', port: inboundPort, secure: false, ignoreTLS: true });
      await client.sendMail({ from: 'joan@clarke.example.com', to: server.running.deps.policy.policy.organisation.privacy_address, subject: 'Privacy question', text: 'Please delete my data.' });
      client.close();

      // Staff: set-up, sign-in (argon2id, TOTP) and the inbox.
      const sales = await makeStaff(server, clock, 'sales');
      assert.equal((await fetch(`${server.url}/console/inquiries`, { headers: { cookie: sales.cookie } })).status, 200);

      // Every job once: mail delivery, rollup, sweep, backup, signing, alerts, housekeeping.
      for (const job of server.running.jobs.jobs) {
        const result = await server.running.jobs.runNow(job.name);
        assert.notEqual(result.status, 'failed', `${job.name}: ${JSON.stringify(result)}`);
      }
      await sink.waitFor(4);

      const allowedPorts = new Set<number | string>([serverPort, sink.port, inboundPort]);
      if (suiteDbKind() === 'postgres') allowedPorts.add(Number(new URL(PG_BASE_URL).port || 5432));
      assert.ok(watch.attempts.some((a) => a.port === sink.port), 'the watch sees the mail going to the mail server');
      const elsewhere = watch.attempts.filter((a) => !(a.host === 'unix' || (LOOPBACK.has(a.host) && allowedPorts.has(Number(a.port)))));
      assert.deepEqual(elsewhere, [], 'no connection but to loopback at a known port');
      assert.deepEqual(watch.lookups.filter((h) => !LOOPBACK.has(h)), [], 'no name looked up but loopback');
      assert.deepEqual(watch.udp, [], 'no UDP socket');
    } finally {
      watch.stop();
      await server?.close();
      await sink.close();
    }
  });
});
