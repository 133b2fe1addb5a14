// REDIS_URL: several instances share the sign-in throttle, and Redis holds keyed hashes
// only. With Redis away, each instance still throttles on its own. Runs against the real
// Redis at TEST_REDIS_URL (default redis://127.0.0.1:6379) and says so when skipped.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { startTestServer } from '../support/server.ts';
import { freePort } from '../support/free-port.ts';
import { post } from './helpers.ts';

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

const skip = (await reachable(REDIS_URL)) ? false : `SKIPPED: Redis is not reachable at ${REDIS_URL} (set TEST_REDIS_URL)`;
if (skip) console.log(`# ${skip}`);

const email = 'shared.throttle@staff.example.com';

describe('sign-in throttle shared through Redis', () => {
  test('failures on two instances add up; Redis holds no address', { skip }, async () => {
    // A secret of its own keeps this run's counters apart from any other run's.
    const env = { REDIS_URL, SIGN_IN_MAX_FAILURES: '3', SECRET_KEY: randomBytes(32).toString('hex') };
    const first = await startTestServer({ env });
    const second = await startTestServer({ env, database: first.database });
    try {
      for (const server of [first, second, first]) {
        const res = await post(server.url, '/console/sign-in', { email, password: 'wrong', code: '' });
        assert.equal(res.status, 401);
      }
      const blocked = await post(second.url, '/console/sign-in', { email, password: 'wrong', code: '' });
      assert.equal(blocked.status, 429, 'the third failure, made on another instance, counts');
      const redis = new Redis(REDIS_URL);
      try {
        const keys = await redis.keys('lumetrax:sign-in:*');
        assert.ok(keys.length >= 2);
        for (const key of keys) {
          assert.doesNotMatch(key, /@|127\.0\.0\.1|shared\.throttle/);
          assert.match(String(await redis.get(key)), /^\d+$/);
        }
      } finally {
        redis.disconnect();
      }
    } finally {
      await second.close();
      await first.close();
    }
  });
});

test('with Redis away, sign-in is still throttled by the instance and the outage is logged once', async () => {
  const port = await freePort();
  const server = await startTestServer({ env: { REDIS_URL: `redis://127.0.0.1:${port}`, SIGN_IN_MAX_FAILURES: '2' } });
  try {
    for (let i = 0; i < 2; i++) assert.equal((await post(server.url, '/console/sign-in', { email, password: 'wrong', code: '' })).status, 401);
    assert.equal((await post(server.url, '/console/sign-in', { email, password: 'wrong', code: '' })).status, 429);
    const warnings = server.logs.filter((l) => l.includes('sign-in throttle store (Redis) unavailable'));
    assert.equal(warnings.length, 1);
  } finally {
    await server.close();
  }
});
