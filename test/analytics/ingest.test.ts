// Collection against the real server: the HTML request of a page is counted, the tracker's
// navigations through POST /api/event, both under the same steps; bad input is refused
// with a clear status and never a 500.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startTestServer, type TestServer } from '../support/server.ts';
import { beacon, bots, browserHeaders, CHROME_UA, flush, IPHONE_UA, rawEvents, visit } from './helpers.ts';

describe('analytics ingest', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { TRUST_PROXY: 'true', ANALYTICS_RATE_LIMIT_MAX: '1000' } });
  });
  after(async () => {
    await server?.close();
  });

  test('a page load is counted once by the server, with path, source, device and country; nothing else is kept', async () => {
    await server.running.deps.storage.db.deleteFrom('analytics_event').execute();
    const res = await visit(server, '/demo?utm_source=news&utm_campaign=autumn&email=ada%40example.com&gclid=abc#top', {
      referer: 'https://www.google.com/search?q=lumetrax',
      'x-forwarded-for': '81.2.69.160',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('set-cookie'), null);
    await flush(server);
    const rows = await rawEvents(server);
    assert.equal(rows.length, 1);
    const { visitor, ...dims } = rows[0];
    assert.match(visitor, /^[A-Za-z0-9_-]{22}$/);
    assert.deepEqual(dims, {
      hour: new Date().toISOString().slice(0, 13),
      path: '/demo?utm_source=news&utm_campaign=autumn',
      source: 'search',
      referrer_host: 'google.com',
      campaign: 'autumn',
      device: 'desktop',
      country: 'GB',
    });
  });

  test('not counted: staff console, static files, the ingest itself, errors, another host, GPC, DNT, prefetch', async () => {
    await server.running.deps.storage.db.deleteFrom('analytics_event').execute();
    await visit(server, '/console/sign-in');
    await visit(server, '/static/site.css');
    await visit(server, '/no-such-page');
    await new Promise<void>((resolve, reject) => {
      // fetch() may not set Host; a plain request can.
      const req = request(`${server.url}/`, { headers: { ...browserHeaders(), host: 'evil.example' } }, (res) => res.resume().on('end', resolve));
      req.on('error', reject).end();
    });
    await visit(server, '/', { 'sec-gpc': '1' });
    await visit(server, '/', { dnt: '1' });
    await visit(server, '/', { 'sec-purpose': 'prefetch' });
    await flush(server);
    assert.deepEqual(await rawEvents(server), []);
  });

  test('the tracker reports a navigation: 202, counted with its width class and referrer source', async () => {
    await server.running.deps.storage.db.deleteFrom('analytics_event').execute();
    const res = await beacon(server, { p: '/contact?x=1', r: 'https://t.co/abc', w: 's' }, { 'x-forwarded-for': '2a00:1450:4001::1', 'user-agent': IPHONE_UA });
    assert.equal(res.status, 202);
    await flush(server);
    const rows = await rawEvents(server);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].path, '/contact');
    assert.equal(rows[0].source, 'social');
    assert.equal(rows[0].referrer_host, 't.co');
    assert.equal(rows[0].device, 'mobile');
    assert.equal(rows[0].country, 'IE');
    // A referrer from our own site is not a source.
    await beacon(server, { p: '/demo', r: `${server.url}/contact`, w: 'l' });
    await flush(server);
    const own = (await rawEvents(server)).find((r) => r.path === '/demo');
    assert.equal(own?.source, 'direct');
    assert.equal(own?.referrer_host, '');
  });

  test('the ingest refuses other origins, bad bodies, other types and big bodies with a clear status, never a 500', async () => {
    const cases: Array<[string, Promise<Response>, number]> = [
      ['another origin', beacon(server, { p: '/' }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }), 403],
      ['no origin', fetch(`${server.url}/api/event`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"p":"/"}' }), 403],
      ['cross-site fetch', beacon(server, { p: '/' }, { 'sec-fetch-site': 'cross-site' }), 403],
      ['not JSON', beacon(server, 'p=/'), 400],
      ['no path', beacon(server, { r: 'x' }), 400],
      ['a path that is no path', beacon(server, { p: 'https://evil.example/' }), 400],
      ['bad width', beacon(server, { p: '/', w: 'xl' }), 400],
      ['JSON null', beacon(server, 'null'), 400],
      ['too big', beacon(server, { p: '/', r: 'x'.repeat(5000) }), 413],
      ['form type', fetch(`${server.url}/api/event`, { method: 'POST', headers: browserHeaders({ 'content-type': 'application/x-www-form-urlencoded', origin: server.url }), body: 'p=/' }), 400],
      ['xml type', fetch(`${server.url}/api/event`, { method: 'POST', headers: browserHeaders({ 'content-type': 'application/xml', origin: server.url }), body: '<p/>' }), 415],
    ];
    for (const [name, pending, status] of cases) {
      const res = await pending;
      await res.arrayBuffer();
      assert.equal(res.status, status, name);
    }
    assert.ok(!server.logs.join('').includes('"level":50'), 'no error logged');
  });

  test('bots are dropped in layers and counted by layer', async () => {
    const db = server.running.deps.storage.db;
    await db.deleteFrom('analytics_event').execute();
    await db.deleteFrom('analytics_bots').execute();
    await visit(server, '/', { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' });
    await visit(server, '/', { 'user-agent': 'curl/8.5.0' });
    await visit(server, '/', { 'user-agent': CHROME_UA.replace('Chrome/', 'HeadlessChrome/') });
    await visit(server, '/', { 'user-agent': `${CHROME_UA} puppeteer` });
    await visit(server, '/', { 'sec-ch-ua': '"HeadlessChrome";v="131"' });
    await visit(server, '/', { 'accept-language': '' });
    // One key, 35 views in a minute: the budget is 30.
    for (let i = 0; i < 35; i++) await beacon(server, { p: `/p${i}` }, { 'x-forwarded-for': '203.0.113.9' });
    await flush(server);
    const dropped = await bots(server);
    assert.equal(dropped.user_agent_list, 3, 'Googlebot, curl and HeadlessChrome are on the isbot list');
    assert.equal(dropped.headless, 3, 'a scripted browser named in its UA or client hints, and one without Accept-Language');
    assert.equal(dropped.rate, 5);
    assert.equal((await rawEvents(server)).length, 30);
  });
});

describe('analytics ingest rate limit', () => {
  test('over ANALYTICS_RATE_LIMIT_MAX per minute a client gets 429', async () => {
    const server = await startTestServer({ env: { ANALYTICS_RATE_LIMIT_MAX: '3' } });
    try {
      const statuses = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 5; i++) {
        const res = await beacon(server, { p: '/' });
        await res.arrayBuffer();
        statuses.push(res.status);
        if (res.status === 429) retryAfter = res.headers.get('retry-after');
      }
      assert.deepEqual(statuses, [202, 202, 202, 429, 429]);
      assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 60, `retry-after ${retryAfter}`);
      await flush(server);
      assert.equal((await rawEvents(server)).length, 3, 'refused reports are not counted');
    } finally {
      await server.close();
    }
  });
});
