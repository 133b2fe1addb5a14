// REDIS_URL: several instances share one rate limit through Redis, which holds keyed
// hashes only; with Redis away the forms keep working (the limiter lets posts through).
// Runs against the real Redis at TEST_REDIS_URL (default redis://127.0.0.1:6379) and
// says so when it is skipped.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { startTestServer, submitForm, validFields } from '../support/server.ts';
import { counts } from './helpers.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379), timeout: 500 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

const redisUp = await reachable(REDIS_URL);
const skip = redisUp ? false : `SKIPPED: Redis is not reachable at ${REDIS_URL} (set TEST_REDIS_URL)`;
if (skip) console.log(`# ${skip}`);

describe('shared rate limit (Redis)', () => {
  test('two instances share one limit; Redis holds no client address', { skip }, async () => {
    // A secret of its own keeps this run's counters apart from any other run's.
    const env = { REDIS_URL, RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_SECONDS: '30', TRUST_PROXY: 'true', SECRET_KEY: randomBytes(32).toString('hex') };
    const first = await startTestServer({ env });
    const second = await startTestServer({ env, database: first.database });
    const inspect = new Redis(REDIS_URL);
    const client = { 'x-forwarded-for': '203.0.113.45' };
    try {
      const answers: Response[] = [];
      for (let i = 0; i < 5; i++) {
        const instance = i % 2 === 0 ? first : second;
        answers.push(await submitForm(instance.url, 'contact', { ...validFields, email: `shared${i}@example.com` }, client));
      }
      assert.deepEqual(answers.map((a) => a.status), [303, 303, 303, 429, 429], 'the third post used up the limit across both instances');
      assert.equal((await counts(first)).inquiry, 3);
      const retryAfter = Number(answers[4].headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 30, `Retry-After ${retryAfter}`);

      // Another client is counted on its own.
      assert.equal((await submitForm(second.url, 'contact', { ...validFields, email: 'elsewhere@example.com' }, { 'x-forwarded-for': '198.51.100.23' })).status, 303);

      const keys = await inspect.keys('lumetrax:rate-limit:*');
      assert.ok(keys.length >= 2, `counters are in Redis: ${keys.length} keys`);
      for (const key of keys) {
        assert.ok(!key.includes('203.0.113.45') && !key.includes('198.51.100.23'), `a client address is in the key ${key}`);
        const ttl = await inspect.pttl(key);
        assert.ok(ttl > 0 && ttl <= 30_000, `counter ${key} expires with the window (${ttl} ms)`);
      }
    } finally {
      const keys = await inspect.keys('lumetrax:rate-limit:*');
      if (keys.length > 0) await inspect.del(...keys);
      inspect.disconnect();
      await second.close();
      await first.close();
    }
  });

  test('with Redis away, forms still work and the outage is logged once, without addresses', async () => {
    // Port 1 on loopback: nothing listens there, on any machine.
    const server = await startTestServer({ env: { REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_MAX: '1', TRUST_PROXY: 'true' } });
    const client = { 'x-forwarded-for': '203.0.113.46' };
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await submitForm(server.url, 'contact', { ...validFields, email: `away${i}@example.com` }, client)).status);
      assert.deepEqual(statuses, [303, 303, 303], 'no visitor is refused because the shared store is down');
      assert.equal((await counts(server)).inquiry, 3);
      const logs = server.logs.join('');
      const warnings = logs.split('\n').filter((l) => l.includes('rate-limit store (Redis) unavailable'));
      assert.equal(warnings.length, 1, 'one warning per outage, not one per reconnect attempt');
      assert.ok(!logs.includes('203.0.113.46') && !logs.includes('away0@example.com'));
    } finally {
      await server.close();
    }
  });
});
