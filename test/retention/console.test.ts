// The console's retention page: privacy staff list, place and lift holds over real HTTP;
// bad input comes back with a clear message and what was typed; other roles are refused;
// each read and change is in the audit trail with the account and session.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Clock, get, makeStaff, post, type Staff } from '../auth/helpers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { addInquiry, addPerson, iso } from './seed.ts';

describe('console: retention and holds', () => {
  const clock = new Clock();
  let server: TestServer;
  let privacy: Staff;
  let sales: Staff;
  before(async () => {
    server = await startTestServer({ now: clock.now });
    privacy = await makeStaff(server, clock, 'privacy');
    sales = await makeStaff(server, clock, 'sales');
  });
  after(() => server.close());

  test('privacy staff place, see and lift holds; each step audited with the session', async () => {
    const db = server.running.deps.storage.db;
    const person = await addPerson(db, { email: 'held@console.example', at: iso(clock.t) });
    const inquiry = await addInquiry(db, { personId: person, createdAt: iso(clock.t) });

    const empty = await (await get(server.url, '/console/retention', privacy.cookie)).text();
    assert.match(empty, /No holds are in place/);
    assert.match(empty, /The deletion job runs at 03:00, every day \(Europe\/Dublin time\)\. It has not run yet\./);
    assert.match(empty, /<a href="\/console\/retention"/, 'the nav links the section for privacy staff');

    const placed = await post(server.url, '/console/retention/holds', { csrf: privacy.csrf, kind: 'legal_hold', scope: 'person', target: person, reason: 'Matter <b>17</b>', until: '' }, privacy.cookie);
    assert.equal(placed.status, 200);
    const body = await placed.text();
    assert.match(body, /Legal hold placed on person/);
    assert.match(body, new RegExp(`person <code>${person}</code></td><td>Matter &lt;b&gt;17&lt;/b&gt;</td><td>until lifted</td>`), 'the reason is shown escaped');

    const contract = await post(server.url, '/console/retention/holds', { csrf: privacy.csrf, kind: 'contract', scope: 'inquiry', target: `R-${inquiry.id.slice(0, 13)}`, reason: 'Pilot contract', until: '2099-06-30' }, privacy.cookie);
    assert.equal(contract.status, 200);
    assert.match(await contract.text(), /2099-06-30 23:59 UTC/);

    const bad = await post(server.url, '/console/retention/holds', { csrf: privacy.csrf, kind: 'contract', scope: 'domain', target: 'acme.example', reason: 'No end', until: '' }, privacy.cookie);
    assert.equal(bad.status, 422);
    const badBody = await bad.text();
    assert.match(badBody, /role="alert"><p>A contractual obligation needs its end date \(YYYY-MM-DD\)\.<\/p>/);
    assert.match(badBody, /id="target" name="target" required spellcheck="false" value="acme.example"/, 'what was typed is kept');
    const missing = await post(server.url, '/console/retention/holds', { csrf: privacy.csrf, kind: 'legal_hold', scope: 'person', target: '00000000-0000-4000-8000-000000000000', reason: 'x' }, privacy.cookie);
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /No person has that id\./);
    const odd = await post(server.url, '/console/retention/holds', { csrf: privacy.csrf, kind: 'forever', scope: 'person', target: person, reason: 'x' }, privacy.cookie);
    assert.equal(odd.status, 422);

    const holdId = (await db.selectFrom('retention_hold').select('id').where('scope', '=', 'person').executeTakeFirstOrThrow()).id;
    const lifted = await post(server.url, `/console/retention/holds/${holdId}/lift`, { csrf: privacy.csrf }, privacy.cookie);
    assert.equal(lifted.status, 200);
    assert.match(await lifted.text(), /Legal hold on person <code>[^<]+<\/code> lifted/);
    const again = await post(server.url, `/console/retention/holds/${holdId}/lift`, { csrf: privacy.csrf }, privacy.cookie);
    assert.equal(again.status, 409);
    const nonsense = await post(server.url, '/console/retention/holds/not-an-id/lift', { csrf: privacy.csrf }, privacy.cookie);
    assert.equal(nonsense.status, 404);

    const audit = await db.selectFrom('audit_log').select(['actor', 'action', 'details']).where('action', 'like', 'retention.hold%').orderBy('seq').execute();
    const actions = audit.map((a) => a.action);
    assert.deepEqual(actions.filter((a) => a !== 'retention.holds_listed'), ['retention.hold_placed', 'retention.hold_placed', 'retention.hold_lifted']);
    assert.ok(actions.filter((a) => a === 'retention.holds_listed').length >= 5, 'each page view is an audited read');
    for (const a of audit) {
      assert.equal(a.actor, `staff:${privacy.accountId}`);
      assert.ok(JSON.parse(a.details).session, 'the session is recorded');
      assert.doesNotMatch(a.details, /Matter|Pilot|held@console/);
    }
  });

  test('sales staff cannot open the page or place a hold', async () => {
    const page = await get(server.url, '/console/retention', sales.cookie);
    assert.equal(page.status, 403);
    await page.arrayBuffer();
    const res = await post(server.url, '/console/retention/holds', { csrf: sales.csrf, kind: 'legal_hold', scope: 'domain', target: 'x.example', reason: 'r' }, sales.cookie);
    assert.equal(res.status, 403);
    await res.arrayBuffer();
    const overview = await (await get(server.url, '/console', sales.cookie)).text();
    assert.doesNotMatch(overview, /\/console\/retention/);
  });
});
