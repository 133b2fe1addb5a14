// Fulfilment from the console with the erasure part's functions: an access request gets
// an expiring link to its package (built fresh and audited at each opening); a deletion
// erases the person and tells them; nothing runs before verification.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { get, makeStaff, post } from '../auth/helpers.ts';
import { postForm, submitForm, validFields } from '../support/server.ts';
import { audit, delivered, events, requests, submitRequestForm, verifyLinkIn, withDesk } from './support.ts';
import { assertNoneOf, rand, storedBytes } from './erase-support.ts';

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

  test('deletion: afterwards no table holds their address, name or words; the request keeps its hash, states and dates', async () => {
    await withDesk(async (env) => {
      const { server, clock } = env;
      const someone = { ...validFields, email: `${rand('grace')}@${rand('navy')}.example.org`, name: rand('Grace Hopper '), company: rand('Cobol Ltd ') };
      const words = `Please delete everything ${rand('words')}`;
      assert.equal((await submitForm(server.url, 'demo', someone)).status, 303);
      // An earlier request of theirs (refused, with a reason) and the deletion request.
      await submitRequestForm(server.url, { email: someone.email, type: 'access', jurisdiction: 'IE', message: rand('earlier') });
      clock.advance(60_000);
      await submitRequestForm(server.url, { email: someone.email.toUpperCase(), type: 'deletion', jurisdiction: 'IE', message: words });
      clock.advance(60_000);
      // A correction request of theirs, verified and still open when the deletion runs.
      await submitRequestForm(server.url, { email: someone.email, type: 'correction', jurisdiction: 'IE', message: '' });
      const [earlier, r, correction] = await requests(server);
      assert.equal(r.type, 'deletion');
      const staff = await makeStaff(server, clock, 'privacy');
      const reason = rand('reason');
      assert.equal((await post(server.url, `/console/requests/${earlier.id}/refuse`, { csrf: staff.csrf, reason }, staff.cookie)).status, 303);
      const mails = await delivered(env, 6);
      for (const id of [r.id, correction.id]) {
        const ack = mails.find((m) => (m.parsed.text ?? '').includes(`/privacy/request/${id}/verify/`))!;
        await postForm(server.url, new URL(verifyLinkIn(ack)).pathname, {});
      }
      const done = await post(server.url, `/console/requests/${r.id}/fulfil`, { csrf: staff.csrf }, staff.cookie);
      assert.equal(done.status, 303);
      // The answer still reaches them, from the outbox row queued before the redaction.
      const answer = (await delivered(env, 7)).at(-1)!;
      assert.deepEqual(answer.envelopeTo.map((a) => a.toLowerCase()), [someone.email]);
      assert.match(answer.parsed.text ?? '', /we have deleted the personal data/);
      await server.running.jobs.idle();
      // Every column of every table (the answer's outbox row lost its contents once sent),
      // and on SQLite the database file, -wal and -shm: sending the answer scrubs the WAL
      // pages that still held the address.
      assertNoneOf(await storedBytes(server), [someone.email, someone.name, someone.company, words, reason], 'after the deletion request');
      const rows = await requests(server);
      assert.equal(rows.length, 3);
      for (const row of rows) {
        assert.equal(row.requester_email, '[erased]');
        assert.equal(row.message, null);
        assert.equal(row.requester_key, r.requester_key, 'the keyed hash stays as proof');
      }
      const [oldRow, row, openRow] = rows;
      assert.equal(openRow.status, 'in_progress', 'an open request stays open (staff close it)');
      assert.equal(oldRow.status, 'refused');
      assert.equal(oldRow.refusal_reason, '[erased]');
      assert.ok(oldRow.refused_at);
      assert.equal(row.status, 'fulfilled');
      assert.equal(row.type, 'deletion');
      assert.ok(row.fulfilled_at && row.verified_at && row.received_at);
      const erasedEntry = (await audit(server)).find((a) => a.action === 'rights.person_erased')!;
      assert.equal(JSON.parse(erasedEntry.details).redacted_requests, 3);
      // Nothing more can be sent to or built for the erased requester.
      const reply = await post(server.url, `/console/requests/${r.id}/reply`, { csrf: staff.csrf, text: 'hello' }, staff.cookie);
      assert.equal(reply.status, 409, 'no reply to an erased requester');
      const page = await get(server.url, `/console/requests/${correction.id}`, staff.cookie);
      assert.equal(page.status, 200);
      assert.doesNotMatch(await page.text(), /Correct their data/);
      assert.equal((await post(server.url, `/console/requests/${correction.id}/correct`, { csrf: staff.csrf, 'person.name': 'New Name' }, staff.cookie)).status, 409);
      assert.equal((await post(server.url, `/console/requests/${correction.id}/refuse`, { csrf: staff.csrf, reason: 'no' }, staff.cookie)).status, 409);
      assert.equal((await post(server.url, `/console/requests/${correction.id}/close`, { csrf: staff.csrf }, staff.cookie)).status, 303, 'it can be closed');
    });
  });
});
