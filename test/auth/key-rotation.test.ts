// TOTP secrets are sealed under a key derived from SECRET_KEY: after a rotation (the old
// key in SECRET_KEY_PREVIOUS) sign-in keeps working and moves the secret under the new
// key; without the old key the sealed secret opens for nobody.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase } from '../support/db.ts';
import { startTestServer, TEST_SECRET } from '../support/server.ts';
import { Clock, makeStaff, post, STRONG_PASSWORD, totpCode } from './helpers.ts';

const NEW_SECRET = 'c0ffee'.repeat(11).slice(0, 64);

test('after a key rotation, TOTP sign-in works and the secret is re-sealed under the new key', async () => {
  const clock = new Clock();
  const database = await createTestDatabase();
  try {
    const first = await startTestServer({ now: clock.now, database });
    const staff = await makeStaff(first, clock, 'privacy');
    await first.close();

    const rotated = await startTestServer({ now: clock.now, database, env: { SECRET_KEY: NEW_SECRET, SECRET_KEY_PREVIOUS: TEST_SECRET } });
    const db = rotated.running.deps.storage.db;
    const before = (await db.selectFrom('staff_account').select('totp_secret').where('id', '=', staff.accountId).executeTakeFirstOrThrow()).totp_secret!;
    clock.advance(30_000);
    const res = await post(rotated.url, '/console/sign-in', { email: staff.email, password: STRONG_PASSWORD, code: totpCode(staff.secret!, clock.t) });
    assert.equal(res.status, 303);
    const after = (await db.selectFrom('staff_account').select('totp_secret').where('id', '=', staff.accountId).executeTakeFirstOrThrow()).totp_secret!;
    assert.notEqual(after.split('.')[1], before.split('.')[1], 're-sealed under the current key');
    await rotated.close();

    // The old key alone no longer opens it: the code is refused (the password was right).
    const oldOnly = await startTestServer({ now: clock.now, database });
    clock.advance(30_000);
    const refused = await post(oldOnly.url, '/console/sign-in', { email: staff.email, password: STRONG_PASSWORD, code: totpCode(staff.secret!, clock.t) });
    assert.equal(refused.status, 401);
    await oldOnly.close();
  } finally {
    await database.drop();
  }
});
