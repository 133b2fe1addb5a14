// P5 against the real server: after a day of traffic from many addresses and browsers,
// nothing in the database (nor the SQLite file and WAL) holds an address, a user agent,
// a hash of either, a visitor key or the day's secret; at rotation the previous secret is
// destroyed in memory and in Redis, and instances sharing Redis agree on it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { Redis } from 'ioredis';
import { visitorKey } from '../../src/analytics/collect.ts';
import { dailySecretRedisKey } from '../../src/analytics/daily-secret.ts';
import { ANALYTICS_ROLLUP_JOB } from '../../src/analytics/roll-up.ts';
import { Clock } from '../auth/helpers.ts';
import { everythingStored } from '../inquiries/helpers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { beacon, CHROME_UA, flush, IPHONE_UA, rawEvents, visit } from './helpers.ts';

const clients = [
  { ip: '81.2.69.160', ua: CHROME_UA },
  { ip: '8.8.4.4', ua: IPHONE_UA },
  { ip: '2a00:1450:4001:80b::200e', ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0' },
  { ip: '198.51.100.23', ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15' },
  { ip: '203.0.113.77', ua: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36' },
  { ip: '192.0.2.200', ua: 'Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1' },
];

const KNOWN_SALT = 'lumetrax-known-salt';
/** A value as it might be stored: plain, or hashed (with and without a known salt), in hex and base64. */
function forms(value: string): string[] {
  const out = [value, encodeURIComponent(value)];
  for (const digest of [createHash('sha256').update(value).digest(), createHash('md5').update(value).digest(), createHash('sha256').update(KNOWN_SALT + value).digest(), createHmac('sha256', KNOWN_SALT).update(value).digest()]) {
    out.push(digest.toString('hex'), digest.toString('base64'), digest.toString('base64url').slice(0, 22));
  }
  return out;
}

async function dayOfTraffic(server: TestServer, clock: Clock, hours: number): Promise<void> {
  for (let h = 0; h < hours; h++) {
    for (const c of clients) {
      await visit(server, h % 2 ? '/' : '/demo?utm_source=news', { 'x-forwarded-for': c.ip, 'user-agent': c.ua, referer: 'https://www.bing.com/' });
      await beacon(server, { p: '/contact', r: 'https://example.org/x', w: 'm' }, { 'x-forwarded-for': c.ip, 'user-agent': c.ua });
    }
    await flush(server);
    clock.advance(3600_000);
  }
}

describe('analytics privacy', () => {
  let server: TestServer;
  const clock = new Clock();
  before(async () => {
    clock.t = Date.parse('2031-03-04T08:00:00Z');
    server = await startTestServer({ now: clock.now, env: { TRUST_PROXY: 'true' } });
  });
  after(async () => {
    await server?.close();
  });

  test('after a day of traffic and the rollup, no address, user agent, hash of them, visitor key or secret is stored anywhere', async () => {
    const analytics = server.running.app.analytics;
    await visit(server, '/', { 'x-forwarded-for': clients[0].ip });
    const held = await analytics.secret.current(clock.now());
    const secretCopy = Buffer.from(held);
    const site = new URL(server.url).host;
    const keys = clients.map((c) => visitorKey(secretCopy, { ip: c.ip, userAgent: c.ua, site }));
    await dayOfTraffic(server, clock, 12);
    // The keys we computed are the ones the service used (so the search below is meaningful).
    const used = new Set((await rawEvents(server)).map((r) => r.visitor));
    assert.ok(keys.every((k) => used.has(k)), 'raw events carry the visitor keys');

    // Past midnight: the timer's rotation destroys the secret.
    clock.t = Date.parse('2031-03-05T00:30:00Z');
    assert.equal(await analytics.secret.rotateIfDue(clock.now()), true);
    assert.equal(analytics.secret.heldDay, '');
    assert.ok(held.every((b) => b === 0), 'the secret held in memory is overwritten');

    const run = await server.running.jobs.runNow(ANALYTICS_ROLLUP_JOB);
    assert.equal(run.status, 'done');
    assert.deepEqual(await rawEvents(server), []);
    const views = await server.running.deps.storage.db.selectFrom('analytics_visits').select((eb) => eb.fn.sum<number>('pageviews').as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(views.n), 1 + 12 * clients.length * 2);

    const stored = await everythingStored(server);
    for (const c of clients) {
      for (const f of [...forms(c.ip), ...forms(c.ua)]) assert.ok(!stored.includes(f), `found ${f.slice(0, 40)} (from ${c.ip})`);
    }
    for (const k of keys) assert.ok(!stored.includes(k), `visitor key ${k} still stored`);
    for (const f of [secretCopy.toString('hex'), secretCopy.toString('base64'), secretCopy.toString('latin1')]) assert.ok(!stored.includes(f), 'the daily secret is stored');
    // And nothing was logged about them either.
    const logs = server.logs.join('');
    for (const c of clients) assert.ok(!logs.includes(c.ip) && !logs.includes(c.ua), 'a client address or user agent in the logs');
  });

  test('the next day gets a new secret: the same visitor gets a key that cannot be linked', async () => {
    const a = clients[0];
    await visit(server, '/', { 'x-forwarded-for': a.ip, 'user-agent': a.ua });
    await flush(server);
    const today = (await rawEvents(server)).map((r) => r.visitor);
    assert.equal(today.length, 1);
    const secret = await server.running.app.analytics.secret.current(clock.now());
    assert.equal(today[0], visitorKey(secret, { ip: a.ip, userAgent: a.ua, site: new URL(server.url).host }));
  });
});

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
async function redisReachable(): Promise<boolean> {
  const r = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}
const redisUp = await redisReachable();

describe('analytics daily secret in Redis', { skip: redisUp ? false : `SKIPPED: Redis is not reachable at ${REDIS_URL} (set TEST_REDIS_URL)` }, () => {
  test('two instances share the day’s secret (same key for the same visitor); it expires with the day and is deleted at rotation', async () => {
    const clock = new Clock();
    // A day of its own, so parallel runs do not meet.
    clock.t = Date.parse(`2032-0${1 + Math.floor(Math.random() * 9)}-1${Math.floor(Math.random() * 9)}T22:00:00Z`);
    const day = clock.now().toISOString().slice(0, 10);
    const redis = new Redis(REDIS_URL);
    await redis.del(dailySecretRedisKey(day));
    const one = await startTestServer({ now: clock.now, env: { REDIS_URL, TRUST_PROXY: 'true' } });
    const two = await startTestServer({ now: clock.now, database: one.database, env: { REDIS_URL, TRUST_PROXY: 'true' } });
    try {
      for (const s of [one, two]) await visit(s, '/', { 'x-forwarded-for': clients[1].ip, 'user-agent': clients[1].ua });
      await flush(one);
      await flush(two);
      const secretOne = await one.running.app.analytics.secret.current(clock.now());
      const secretTwo = await two.running.app.analytics.secret.current(clock.now());
      assert.ok(secretOne.equals(secretTwo), 'both instances hold the same secret');
      const ttl = await redis.pttl(dailySecretRedisKey(day));
      assert.ok(ttl > 0 && ttl <= 2 * 3600_000, `expires at the end of the day (pttl ${ttl})`);
      const stored = await redis.getBuffer(dailySecretRedisKey(day));
      assert.ok(stored?.equals(secretOne));

      clock.advance(3 * 3600_000); // past midnight
      assert.equal(await one.running.app.analytics.secret.rotateIfDue(clock.now()), true);
      assert.equal(await redis.exists(dailySecretRedisKey(day)), 0, 'the previous day’s secret is gone from Redis');
      assert.ok(secretOne.every((b) => b === 0), 'and from this instance’s memory');
      await two.running.app.analytics.secret.rotateIfDue(clock.now());
      assert.ok(secretTwo.every((b) => b === 0), 'and from the other instance’s memory');
      const all = await redis.keys('lumetrax:analytics:*');
      assert.ok(!all.includes(dailySecretRedisKey(day)));
    } finally {
      await two.close();
      await one.close();
      redis.disconnect();
    }
  });
});

describe('analytics with Redis away', () => {
  test('views are still counted, under a secret of this instance’s own, and the outage is logged once without the hit', async () => {
    const server = await startTestServer({ env: { REDIS_URL: 'redis://127.0.0.1:1', TRUST_PROXY: 'true' } });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await beacon(server, { p: `/away-${i}` }, { 'x-forwarded-for': clients[i].ip, 'user-agent': clients[i].ua })).status, 202);
      assert.equal((await visit(server, '/', { 'x-forwarded-for': clients[3].ip })).status, 200);
      await flush(server);
      assert.equal((await rawEvents(server)).length, 4);
      const warnings = server.logs.filter((l) => l.includes('analytics secret store (Redis) unavailable'));
      assert.equal(warnings.length, 1);
      const logs = server.logs.join('');
      for (const c of clients.slice(0, 4)) assert.ok(!logs.includes(c.ip) && !logs.includes(c.ua));
    } finally {
      await server.close();
    }
  });
});
