// The dashboard, its exports and the public summary over real HTTP: the numbers after a
// rollup, the comparison period, the small-count rule in every view, access for every
// staff role and no one else, and clear errors for a bad range.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { ANALYTICS_ROLLUP_JOB } from '../../src/analytics/roll-up.ts';
import { Clock, get, makeStaff, type Staff } from '../auth/helpers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { beacon, flush, visit } from './helpers.ts';

describe('analytics dashboard', () => {
  let server: TestServer;
  let staff: Staff;
  const clock = new Clock();
  const range = 'from=2031-05-01&to=2031-05-07&compare=previous';

  before(async () => {
    clock.t = Date.parse('2031-05-06T10:00:00Z');
    server = await startTestServer({ now: clock.now, env: { TRUST_PROXY: 'true' } });
    // The previous period: 6 visitors on one page.
    clock.t = Date.parse('2031-04-28T09:00:00Z');
    for (let i = 0; i < 6; i++) await visit(server, '/', { 'x-forwarded-for': `81.2.69.${i + 1}` });
    // This period: 8 visitors from Britain on the home page, two of them also on /contact
    // (a rare page), one arriving from a campaign and a search engine.
    clock.t = Date.parse('2031-05-06T10:00:00Z');
    for (let i = 0; i < 8; i++) await visit(server, '/', { 'x-forwarded-for': `81.2.69.${10 + i}` });
    await beacon(server, { p: '/contact', w: 's' }, { 'x-forwarded-for': '81.2.69.10' });
    await beacon(server, { p: '/contact', w: 's' }, { 'x-forwarded-for': '81.2.69.11' });
    await visit(server, '/demo?utm_campaign=spring', { 'x-forwarded-for': '81.2.69.12', referer: 'https://duckduckgo.com/' });
    await visit(server, '/', { 'user-agent': 'Googlebot/2.1 (+http://www.google.com/bot.html)' });
    await flush(server);
    clock.t = Date.parse('2031-05-06T11:05:00Z');
    assert.equal((await server.running.jobs.runNow(ANALYTICS_ROLLUP_JOB)).status, 'done');
    staff = await makeStaff(server, clock, 'sales');
  });
  after(async () => {
    await server?.close();
  });

  test('the console page shows the period, the comparison and every section, with small counts as "fewer than 5"', async () => {
    const res = await get(server.url, `/console/analytics?${range}`, staff.cookie);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = await res.text();
    assert.match(body, /<dt>Visitors<\/dt><dd><span class="stat-value">8<\/span> <span class="muted">\+33% on the previous period<\/span>/);
    assert.match(body, /<dt>Page views<\/dt><dd><span class="stat-value">11<\/span>/);
    // 8 visits, 11 views; the visitors with a second view are the only non-bounces.
    assert.match(body, /<dt>Views per visit<\/dt><dd><span class="stat-value">1.38<\/span>/);
    assert.match(body, /<dt>Bounce rate<\/dt><dd><span class="stat-value">62.5%<\/span>/);
    assert.match(body, /<svg [^>]*role="img"/);
    assert.match(body, /<th scope="row"><code>\/contact<\/code><\/th><td>fewer than 5<\/td><td>fewer than 5<\/td>/);
    assert.match(body, /<th scope="row"><code>\/demo\?utm_campaign=spring<\/code><\/th><td>fewer than 5<\/td>/);
    assert.match(body, /<th scope="row">spring<\/th><td>fewer than 5<\/td>/);
    assert.match(body, /<th scope="row">duckduckgo.com<\/th><td>fewer than 5<\/td>/);
    assert.match(body, /<th scope="row">United Kingdom[^<]*<\/th><td>8<\/td><td>11<\/td>/);
    assert.match(body, /<th scope="row">Known bot user agent \(isbot list\)<\/th><td>fewer than 5<\/td>/);
    // A small count is never printed as itself anywhere in a row.
    assert.doesNotMatch(body, /<\/th><td>[1-4]<\/td>/);
    assert.match(body, /href="\/console\/analytics"[^>]*>Analytics<\/a>/);
  });

  test('CSV and JSON carry the same numbers under the same rule', async () => {
    const csv = await get(server.url, `/console/analytics.csv?${range}`, staff.cookie);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    const rows = parse(await csv.text(), { columns: true }) as Array<Record<string, string>>;
    const row = (section: string, key: string) => rows.find((r) => r.section === section && r.key === key);
    assert.equal(row('total', 'visitors')?.visitors, '8');
    assert.equal(row('page', '/')?.pageviews, '8');
    assert.equal(row('page', '/contact')?.visitors, 'fewer than 5');
    assert.equal(row('page', '/contact')?.pageviews, 'fewer than 5');
    assert.equal(row('source', 'search')?.visitors, 'fewer than 5');
    assert.ok(rows.every((r) => !/^[1-4]$/.test(r.visitors) && !/^[1-4]$/.test(r.pageviews)), 'no small count in the CSV');

    const json = await get(server.url, `/console/analytics.json?${range}`, staff.cookie);
    assert.equal(json.status, 200);
    const data = (await json.json()) as { current: { visitors: unknown }; previous: { visitors: unknown }; pages: Array<{ key: string; visitors: unknown }>; bots: Array<{ layer: string; dropped: unknown }> };
    assert.equal(data.current.visitors, 8);
    assert.equal(data.previous.visitors, 6);
    assert.equal(data.pages.find((p) => p.key === '/contact')?.visitors, 'fewer than 5');
    assert.equal(data.bots.find((b) => b.layer === 'user_agent_list')?.dropped, 'fewer than 5');
    const text = JSON.stringify(data);
    assert.doesNotMatch(text, /"(visitors|pageviews|dropped)":[1-4][,}]/);
  });

  test('every staff role may read it; anonymous visitors may not; a bad range is a clear 400', async () => {
    for (const role of ['admin', 'privacy'] as const) {
      const other = await makeStaff(server, clock, role);
      assert.equal((await get(server.url, '/console/analytics', other.cookie)).status, 200, role);
    }
    const anonymous = await get(server.url, '/console/analytics');
    assert.equal(anonymous.status, 303);
    assert.equal((await get(server.url, '/console/analytics.json')).status, 303);
    const bad = await get(server.url, '/console/analytics?from=2031-13-01&to=yesterday&compare=year', staff.cookie);
    assert.equal(bad.status, 400);
    const text = await bad.text();
    assert.match(text, /From must be a date written YYYY-MM-DD/);
    assert.match(text, /Compare must be/);
    const badCsv = await get(server.url, '/console/analytics.csv?from=2031-05-07&to=2031-05-01', staff.cookie);
    assert.equal(badCsv.status, 400);
    const tooLong = await get(server.url, '/console/analytics.json?from=2001-01-01&to=2031-05-01', staff.cookie);
    assert.equal(tooLong.status, 400);
  });

  test('the public summary is off unless the policy switches it on, and then shows the same rule without bot counts', async () => {
    const off = await get(server.url, '/stats');
    assert.equal(off.status, 404);
    const policy = server.running.deps.policy.policy;
    policy.analytics.public_summary = true;
    try {
      const on = await get(server.url, '/stats');
      assert.equal(on.status, 200);
      assert.equal(on.headers.get('set-cookie'), null);
      const body = await on.text();
      assert.match(body, /<h1>Site statistics<\/h1>/);
      assert.match(body, /<th scope="row"><code>\/contact<\/code><\/th><td>fewer than 5<\/td>/);
      assert.doesNotMatch(body, /Bot page views/);
      assert.doesNotMatch(body, /<\/th><td>[1-4]<\/td>/);
    } finally {
      policy.analytics.public_summary = false;
    }
  });
});
