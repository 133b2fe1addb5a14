// Answers the framework and the HTTP parser give before any route runs: a bad escape in
// the URL, an over-long path segment, a malformed request line, headers too large, a
// request that trickles in. Each one gets the site's error page with the security
// headers and never echoes what was sent; slow requests are cut off by the settings.
// Raw sockets, because fetch refuses to send most of these.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestServer, type TestServer } from '../support/server.ts';

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Milliseconds from connecting until the server closed the connection. */
  closedAfter: number;
}

/** Sends `parts` on one connection (pausing `gapMs` between them) and reads until the server closes. */
function rawExchange(port: number, parts: Array<string | Buffer>, gapMs = 0, giveUpMs = 15_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let closed = false;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${giveUpMs} ms`));
    }, giveUpMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => undefined); // a reset after the answer is fine
    socket.on('close', () => {
      closed = true;
      clearTimeout(giveUp);
      const text = Buffer.concat(chunks).toString('utf8');
      const [head, ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...headerLines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: rest.join('\r\n\r\n'), closedAfter: Date.now() - started });
    });
    socket.on('connect', async () => {
      for (const part of parts) {
        if (closed) return;
        socket.write(part);
        if (gapMs) await sleep(gapMs);
      }
    });
  });
}

function assertErrorPage(answer: RawAnswer, status: number, label: string, mustNotEcho: string[] = []): void {
  assert.equal(answer.status, status, `${label}: status`);
  assert.match(answer.headers['content-type'] ?? '', /^text\/html/, `${label}: an HTML page, not JSON`);
  const csp = answer.headers['content-security-policy'] ?? '';
  assert.match(csp, /default-src 'self'/, `${label}: CSP`);
  assert.match(csp, /frame-ancestors 'none'/, `${label}: CSP frame-ancestors`);
  assert.equal(answer.headers['x-content-type-options'], 'nosniff', `${label}: nosniff`);
  assert.equal(answer.headers['referrer-policy'], 'same-origin', `${label}: referrer policy`);
  assert.equal(answer.headers['x-frame-options'], 'DENY', `${label}: frame options`);
  assert.ok(answer.headers['permissions-policy'], `${label}: permissions policy`);
  assert.match(answer.body, /<html lang="en">[\s\S]*<h1>/, `${label}: the site's page`);
  assert.doesNotMatch(answer.body, /"statusCode"|FST_|HPE_|\bat [\w.]+ \(/, `${label}: no framework JSON or stack`);
  for (const echoed of mustNotEcho) assert.ok(!answer.body.includes(echoed), `${label}: echoes ${echoed}`);
}

describe('framework and connection errors', () => {
  let server: TestServer;
  let port: number;
  before(async () => {
    server = await startTestServer();
    port = Number(new URL(server.url).port);
  });
  after(() => server.close());

  const get = (path: string, extra = '') => rawExchange(port, [`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}Connection: close\r\n\r\n`]);

  test('a bad escape in the URL: 400 page with the security headers, the URL not echoed', async () => {
    for (const path of ['/%E0%A4%A', '/privacy/versions/%E0%A4%A', '/demo%ZZ<script>']) {
      assertErrorPage(await get(path), 400, path, ['%E0', 'E0%A4', '%ZZ', '<script>']);
    }
  });

  test('an over-long path segment: 414 page with the security headers, the segment not echoed', async () => {
    const long = `longsegment${'x'.repeat(300)}`;
    for (const path of [`/privacy/versions/${long}`, `/privacy/unsubscribe/${long}`]) {
      assertErrorPage(await get(path), 414, path.slice(0, 40), [long, 'xxxxxxxxxxxxxxxxxxxx']);
    }
  });

  test('headers over the limit: 431 page with the security headers', async () => {
    const answer = await get('/', `X-Filler: ${'h'.repeat(20_000)}\r\n`);
    assertErrorPage(answer, 431, 'big headers', ['hhhhhhhhhh']);
  });

  test('a malformed request line: 400 page with the security headers', async () => {
    const answer = await rawExchange(port, ['GET /<svg> HTTP/9.9 nonsense\r\n\r\n']);
    assertErrorPage(answer, 400, 'request line', ['<svg>']);
  });

  test('routed refusals use the same page: 404, 405, 413, 415, each with the headers and no echo', async () => {
    assertErrorPage(await get('/no-such-<page>'), 404, '404', ['<page>', 'no-such']);
    const wrongMethod = await rawExchange(port, ['DELETE /demo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    assertErrorPage(wrongMethod, 405, 'a known page with another method');
    assert.equal(wrongMethod.headers.allow, 'GET, HEAD, POST');
    assertErrorPage(await rawExchange(port, ['PUT /privacy HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n']), 405, 'PUT on a page');
    assertErrorPage(await rawExchange(port, ['DELETE /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']), 404, 'another method on no page');
    const limit = server.running.deps.config.bodyLimitBytes;
    const big = `name=${'q'.repeat(limit)}`;
    assertErrorPage(
      await rawExchange(port, [`POST /contact HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${big.length}\r\nConnection: close\r\n\r\n${big}`]),
      413,
      '413',
      ['qqqqqqqqqq'],
    );
    const json = '{"name":"<b>echo-me</b>"}';
    assertErrorPage(
      await rawExchange(port, [`POST /demo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\nConnection: close\r\n\r\n${json}`]),
      415,
      '415',
      ['echo-me'],
    );
  });
});

describe('request timeouts', () => {
  test('a body trickled in a byte at a time is cut off (408) within REQUEST_TIMEOUT_SECONDS', async () => {
    const server = await startTestServer({ env: { REQUEST_TIMEOUT_SECONDS: '2', HEADERS_TIMEOUT_SECONDS: '1' } });
    try {
      const port = Number(new URL(server.url).port);
      const body = 'name=' + 'a'.repeat(200);
      const head = `POST /demo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`;
      // One byte every 300 ms would take a minute; the server must not wait for it.
      const answer = await rawExchange(port, [head, ...body.split('')], 300);
      assert.ok(answer.closedAfter < 4_500, `closed after ${answer.closedAfter} ms`);
      assertErrorPage(answer, 408, 'slow body', ['aaaaaaaaaa']);
    } finally {
      await server.close();
    }
  });

  test('headers trickled in are cut off within HEADERS_TIMEOUT_SECONDS', async () => {
    const server = await startTestServer({ env: { REQUEST_TIMEOUT_SECONDS: '10', HEADERS_TIMEOUT_SECONDS: '1' } });
    try {
      const port = Number(new URL(server.url).port);
      const head = `GET / HTTP/1.1\r\nHost: x\r\n${'X-Slow: y\r\n'.repeat(40)}\r\n`;
      const answer = await rawExchange(port, head.split(''), 100);
      assert.ok(answer.closedAfter < 3_500, `closed after ${answer.closedAfter} ms`);
      assert.ok(answer.status === 408 || answer.status === 0, `answered ${answer.status}`);
      if (answer.status === 408) assertErrorPage(answer, 408, 'slow headers');
    } finally {
      await server.close();
    }
  });

  test('the timeouts are settings: a headers timeout longer than the request timeout is refused at start', async () => {
    const { loadConfig, ConfigError } = await import('../../src/config.ts');
    assert.throws(() => loadConfig({ REQUEST_TIMEOUT_SECONDS: '5', HEADERS_TIMEOUT_SECONDS: '10', SECRET_KEY: 'a'.repeat(64) }), (e: unknown) => e instanceof ConfigError && /HEADERS_TIMEOUT_SECONDS/.test(e.message));
    const defaults = loadConfig({ SECRET_KEY: 'a'.repeat(64) });
    assert.ok(defaults.requestTimeoutSeconds > 0 && defaults.headersTimeoutSeconds > 0 && defaults.headersTimeoutSeconds <= defaults.requestTimeoutSeconds);
  });
});
