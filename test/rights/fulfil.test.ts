// Fulfilment from the console with the erasure part's functions: an access request gets
// an expiring link to its package (built fresh and audited at each opening); a deletion
// erases the person and tells them; nothing runs before verification.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { get, makeStaff, post } from '../auth/helpers.ts';
import { postForm, submitForm, validFields } from '../support/server.ts';
import { audit, delivered, events, requests, submitRequestForm, verifyLinkIn, withDesk } from './support.ts';

const person = { ...validFields, email: 'hedy.lamarr@frequency.example.org', name: 'Hedy Lamarr', company: 'Frequency Hopping Ltd' };

describe('fulfilment', () => {
  test('access: refused before verification; then a link to the package, which expires', async () => {
    await withDesk(async (env) => {
      const { server, clock } = env;
      assert.equal((await submitForm(server.url, 'demo', person)).status, 303);
      await submitRequestForm(server.url, { email: person.email, type: 'access', jurisdiction: 'IE', message: '' });
      const [r] = await requests(server);
      const mails = await delivered(env, 3);
      const ack = mails.find((m) => (m.parsed.text ?? '').includes('/verify/'))!;
      const staff = await makeStaff(server, clock, 'privacy');
      const early = await post(server.url, `/console/requests/${r.id}/fulfil`, { csrf: staff.csrf }, staff.cookie);
      assert.equal(early.status, 409, 'nothing before verification');
      assert.match(await early.text(), /has not verified/);
      await postForm(server.url, new URL(verifyLinkIn(ack)).pathname, {});
      const done = await post(server.url, `/console/requests/${r.id}/fulfil`, { csrf: staff.csrf }, staff.cookie);
      assert.equal(done.status, 303);
      assert.equal((await requests(server))[0].status, 'fulfilled');
      const all = await delivered(env, 4);
      const answer = all.at(-1)!;
      assert.deepEqual(answer.envelopeTo, [person.email]);
      const link = /https?:\/\/\S+\/privacy\/request\/[0-9a-f-]{36}\/package\/[A-Za-z0-9_-]{43}/.exec(answer.parsed.text ?? '')?.[0];
      assert.ok(link, 'the answer carries the package link');
      const page = await fetch(link);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.ok(html.includes('Frequency Hopping Ltd'), 'the package holds their inquiry');
      const json = await fetch(`${link}?format=json`);
      assert.equal(json.status, 200);
      assert.match(json.headers.get('content-disposition') ?? '', /attachment/);
      assert.ok(JSON.stringify(await json.json()).includes('Frequency Hopping Ltd'));
      const built = (await audit(server)).filter((a) => a.action === 'rights.access_package_built');
      assert.equal(built.length, 2, 'each opening is audited');
      assert.ok(built.every((a) => a.actor === 'requester' && !a.details.includes('@')));
      assert.deepEqual((await events(server, r.id)).map((e) => e.event).slice(-3), ['fulfilled', 'package_opened', 'package_opened']);
      // Another request's id with this token, an altered token, and after 14 days: nothing.
      assert.equal((await fetch(link.replace(r.id, '00000000-0000-4000-8000-000000000000'))).status, 404);
      assert.equal((await fetch(link.slice(0, -1) + (link.endsWith('A') ? 'B' : 'A'))).status, 404);
      clock.advance(14 * 86_400_000 + 1);
      assert.equal((await fetch(link)).status, 404);
    });
  });

  test('deletion: the person is erased in one go and told; the request stays as proof', async () => {
    await withDesk(async (env) => {
      const { server, clock } = env;
      assert.equal((await submitForm(server.url, 'demo', person)).status, 303);
      await submitRequestForm(server.url, { email: person.email, type: 'deletion', jurisdiction: 'IE', message: '' });
      const [r] = await requests(server);
      const mails = await delivered(env, 3);
      await postForm(server.url, new URL(verifyLinkIn(mails.find((m) => (m.parsed.text ?? '').includes('/verify/'))!)).pathname, {});
      const staff = await makeStaff(server, clock, 'privacy');
      const page = await (await get(server.url, `/console/requests/${r.id}`, staff.cookie)).text();
      assert.match(page, /Delete their data/);
      const done = await post(server.url, `/console/requests/${r.id}/fulfil`, { csrf: staff.csrf }, staff.cookie);
      assert.equal(done.status, 303);
      const db = server.running.deps.storage.db;
      assert.equal((await db.selectFrom('inquiry').select('id').execute()).length, 0);
      assert.equal((await db.selectFrom('person').select('id').execute()).length, 0);
      const [row] = await requests(server);
      assert.equal(row.status, 'fulfilled');
      assert.ok(row.fulfilled_at);
      const all = await delivered(env, 4);
      const answer = all.at(-1)!;
      assert.deepEqual(answer.envelopeTo, [person.email]);
      assert.match(answer.parsed.text ?? '', /we have deleted the personal data we held about you: \d+ records/);
      const fulfilled = (await audit(server)).find((a) => a.action === 'privacy_request.fulfilled');
      assert.ok(fulfilled && !fulfilled.details.includes('@'));
      assert.ok(JSON.parse(fulfilled.details).erased > 0);
    });
  });
});
