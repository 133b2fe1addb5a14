// With the database gone, console pages and sign-in answer 503 with a plain message:
// never a 500, never a page that looks like a refusal of the person's password.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../support/server.ts';
import { Clock, get, makeStaff, post, STRONG_PASSWORD } from './helpers.ts';

test('the database away: console pages and sign-in answer 503', async () => {
  const clock = new Clock();
  const server = await startTestServer({ now: clock.now });
  try {
    const staff = await makeStaff(server, clock, 'sales');
    await server.running.deps.storage.close();
    const page = await get(server.url, '/console', staff.cookie);
    assert.equal(page.status, 503);
    assert.match(await page.text(), /try again/i);
    const signIn = await post(server.url, '/console/sign-in', { email: staff.email, password: STRONG_PASSWORD, code: '' });
    assert.equal(signIn.status, 503);
    assert.equal(signIn.headers.get('set-cookie'), null);
  } finally {
    await server.close().catch(() => undefined);
  }
});
