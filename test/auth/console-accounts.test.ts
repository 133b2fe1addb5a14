// The admin's accounts page does what `lumetrax user ...` does, over HTTP, audited with
// the admin's account id and session.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.ts';
import { Clock, get, makeStaff, openSetup, post, STRONG_PASSWORD, tokenOf, type Staff } from './helpers.ts';

describe('console accounts page', () => {
  const clock = new Clock();
  let server: TestServer;
  let admin: Staff;
  before(async () => {
    server = await startTestServer({ now: clock.now });
    admin = await makeStaff(server, clock, 'admin');
  });
  after(() => server.close());

  test('the overview shows who is signed in and the sections the role may use', async () => {
    const body = await (await get(server.url, '/console', admin.cookie)).text();
    assert.match(body, /role <strong>admin<\/strong>/);
    assert.match(body, /href="\/console\/accounts"/);
    assert.match(body, /action="\/console\/sign-out"/);
  });

  test('an admin adds an account and gets its set-up link; bad input comes back with a message, never a 500', async () => {
    const bad = await post(server.url, '/console/accounts', { csrf: admin.csrf, email: 'not an address', role: 'sales' }, admin.cookie);
    assert.equal(bad.status, 422);
    assert.match(await bad.text(), /not an email address/);
    const nul = await post(server.url, '/console/accounts', { csrf: admin.csrf, email: 'a\u0000b@staff.example.com', role: 'sales' }, admin.cookie);
    assert.equal(nul.status, 422);
    const badRole = await post(server.url, '/console/accounts', { csrf: admin.csrf, email: 'x@staff.example.com', role: 'root' }, admin.cookie);
    assert.equal(badRole.status, 422);
    const dup = await post(server.url, '/console/accounts', { csrf: admin.csrf, email: admin.email.toUpperCase(), role: 'sales' }, admin.cookie);
    assert.match(await dup.text(), /already exists/);

    const added = await post(server.url, '/console/accounts', { csrf: admin.csrf, email: 'New.Seller@staff.example.com', role: 'sales' }, admin.cookie);
    const body = await added.text();
    assert.equal(added.status, 200);
    const link = /<code>(http[^<]+\/console\/setup\?token=[^<]+)<\/code>/.exec(body)?.[1];
    assert.ok(link, 'the page shows the set-up link');
    assert.match(body, /new\.seller@staff\.example\.com/);
    const page = await openSetup(server.url, tokenOf(link.replace(/&amp;/g, '&')));
    assert.equal(page.res.status, 200);
  });

  test('reset and disable from the console; audited with the admin and session', async () => {
    const db = server.running.deps.storage.db;
    const target = await db.selectFrom('staff_account').select('id').where('email', '=', 'new.seller@staff.example.com').executeTakeFirstOrThrow();
    const first = await db.selectFrom('staff_setup_link').select('token_hash').where('account_id', '=', target.id).executeTakeFirstOrThrow();
    const reset = await post(server.url, `/console/accounts/${target.id}/reset`, { csrf: admin.csrf }, admin.cookie);
    const resetBody = await reset.text();
    assert.equal(reset.status, 200);
    const link = /<code>(http[^<]+)<\/code>/.exec(resetBody)![1];
    const links = await db.selectFrom('staff_setup_link').select('token_hash').where('account_id', '=', target.id).execute();
    assert.equal(links.length, 1);
    assert.notEqual(links[0].token_hash, first.token_hash, 'the old link is replaced');
    const setup = await post(server.url, '/console/setup', { token: tokenOf(link), password: STRONG_PASSWORD, confirm: STRONG_PASSWORD });
    assert.equal(setup.status, 200);

    const disabled = await post(server.url, `/console/accounts/${target.id}/disable`, { csrf: admin.csrf }, admin.cookie);
    assert.equal(disabled.status, 200);
    assert.match(await disabled.text(), /Account disabled/);
    const missing = await post(server.url, '/console/accounts/00000000-0000-0000-0000-000000000000/disable', { csrf: admin.csrf }, admin.cookie);
    assert.equal(missing.status, 404);

    const entries = await db.selectFrom('audit_log').selectAll().where('entity_id', '=', target.id).orderBy('seq').execute();
    const byAdmin = entries.filter((e) => e.actor === admin.accountId);
    assert.deepEqual(byAdmin.map((e) => e.action), ['staff.account_added', 'staff.account_reset', 'staff.account_disabled']);
    for (const e of byAdmin) assert.match(e.details, /"session":"[0-9a-f-]{36}"/);
    assert.ok(entries.every((e) => !e.details.includes('@')));
  });
});
