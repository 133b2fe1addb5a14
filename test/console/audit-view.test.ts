// The audit trail in the console: privacy and admin only, filters, older pages, and a
// record of who looked.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Clock, get, makeStaff, type Staff } from '../auth/helpers.ts';
import { startTestServer, submitForm, validFields, type TestServer } from '../support/server.ts';

describe('console audit trail', () => {
  let server: TestServer;
  let privacy: Staff;
  let sales: Staff;
  const clock = new Clock();

  before(async () => {
    server = await startTestServer({ now: clock.now });
    privacy = await makeStaff(server, clock, 'privacy');
    sales = await makeStaff(server, clock, 'sales');
    for (let i = 0; i < 105; i++) assert.equal((await submitForm(server.url, 'contact', { ...validFields, email: `audited${i}@example.com` })).status, 303);
  });
  after(() => server.close());

  const view = async (query: string, staff: Staff = privacy) => {
    const res = await get(server.url, `/console/audit${query}`, staff.cookie);
    return { status: res.status, body: await res.text() };
  };
  const seqs = (body: string) => [...body.matchAll(/<tr><th scope="row">(\d+)<\/th>/g)].map((m) => Number(m[1]));

  test('privacy and admin only', async () => {
    assert.equal((await view('', sales)).status, 403);
    assert.equal((await get(server.url, '/console/audit')).status, 303);
  });

  test('newest first, a hundred a page, the next page continues where the first ended; filters narrow it', async () => {
    const first = await view('?action=inquiry.created');
    assert.equal(first.status, 200);
    const page1 = seqs(first.body);
    assert.equal(page1.length, 100);
    assert.deepEqual(page1, [...page1].sort((a, b) => b - a));
    const next = /href="\/console\/audit\?([^"]+)" rel="next"/.exec(first.body)![1].replace(/&amp;/g, '&');
    const page2 = seqs((await view(`?${next}`)).body);
    assert.equal(page2.length, 5);
    assert.ok(Math.max(...page2) < Math.min(...page1));
    const one = await view(`?entity_type=inquiry&action=inquiry.created&before=${page1[0] + 1}`);
    assert.equal(seqs(one.body)[0], page1[0]);
    assert.equal(seqs((await view('?to=2020-01-01')).body).length, 0);
    for (const bad of ['?action=%3Cscript%3E', '?from=soon', '?before=abc']) {
      const res = await view(bad);
      assert.equal(res.status, 400, bad);
      assert.ok(!res.body.includes('<script>'), 'input never comes back unescaped');
    }
  });

  test('who looked at the trail is recorded, with the session', async () => {
    await view('');
    const entries = await server.running.deps.storage.db.selectFrom('audit_log').select(['actor', 'details']).where('action', '=', 'audit.viewed').execute();
    assert.ok(entries.some((e) => e.actor === `staff:${privacy.accountId}` && JSON.parse(e.details).session));
  });
});
