// The privacy desk in the console over real HTTP with real sessions: only the privacy
// role gets in; the queue is sorted by the answer's due date with time left and at-risk
// and overdue marked; the detail page and every action are audited with the session;
// refusals tell the requester; a triage thread becomes a request with the clock
// starting at its arrival.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { get, makeStaff, post } from '../auth/helpers.ts';
import { audit, delivered, events, requests, submitRequestForm, withDesk } from './support.ts';

const DAY = 86_400_000;

describe('console: privacy requests', () => {
  test('only the privacy role opens the queue and its pages; others are refused', async () => {
    await withDesk(async (env) => {
      const { server, clock } = env;
      await submitRequestForm(server.url, { email: 'a@example.org', type: 'access', jurisdiction: 'GB', message: '' });
      const [r] = await requests(server);
      const privacy = await makeStaff(server, clock, 'privacy');
      const sales = await makeStaff(server, clock, 'sales');
      const admin = await makeStaff(server, clock, 'admin');
      for (const path of ['/console/requests', `/console/requests/${r.id}`, '/console/requests/triage', '/console/requests/report']) {
        assert.equal((await get(server.url, path, privacy.cookie)).status, 200, `privacy opens ${path}`);
        assert.equal((await get(server.url, path, sales.cookie)).status, 403, `sales may not open ${path}`);
        assert.equal((await get(server.url, path, admin.cookie)).status, 403, `admin may not open ${path}`);
        const anon = await get(server.url, path);
        assert.equal(anon.status, 303);
        assert.equal(anon.headers.get('location'), '/console/sign-in');
      }
      const start = await post(server.url, `/console/requests/${r.id}/start`, { csrf: sales.csrf }, sales.cookie);
      assert.equal(start.status, 403);
      assert.equal((await post(server.url, `/console/requests/${r.id}/start`, {}, privacy.cookie)).status, 403, 'no CSRF token, no action');
      assert.equal((await requests(server))[0].status, 'verifying', 'nothing changed');
      const nav = await (await get(server.url, '/console', privacy.cookie)).text();
      assert.match(nav, /href="\/console\/requests"/);
      assert.doesNotMatch(await (await get(server.url, '/console', sales.cookie)).text(), /href="\/console\/requests"/);
    });
  });

  test('the queue is sorted by due date with time left; 50%, 80% and overdue are marked; reads are audited', async () => {
    await withDesk(async (env) => {
      const { server, clock } = env;
      // Three requests a few days apart: at the end the oldest is overdue.
      for (const [i, email] of ['old@example.org', 'mid@example.org', 'new@example.org'].entries()) {
        if (i > 0) clock.advance(6 * DAY);
        await submitRequestForm(server.url, { email, type: 'access', jurisdiction: 'unspecified', message: '' });
      }
      clock.advance(9 * DAY);
      const privacy = await makeStaff(server, clock, 'privacy');
      const rows = await requests(server);
      const page = await get(server.url, '/console/requests', privacy.cookie);
      assert.equal(page.status, 200);
      const text = await page.text();
      const order = rows.map((r) => text.indexOf(r.reference));
      assert.ok(order[0] > 0 && order[0] < order[1] && order[1] < order[2], 'soonest due first');
      assert.match(text, /risk-overdue/);
      assert.match(text, /overdue by/);
      assert.match(text, /At risk: 80% of the time used|At risk: 50% of the time used/);
      assert.ok(!text.includes('old@example.org'), 'the queue shows no addresses');
      const viewed = (await audit(server)).filter((a) => a.action === 'privacy_request.queue_viewed');
      assert.equal(viewed.length, 1);
      assert.equal(JSON.parse(viewed[0].details).count, 3);
      assert.equal(JSON.parse(viewed[0].details).session !== undefined, true);
      // Filters: a bad one is named, not a 500.
      const bad = await get(server.url, '/console/requests?status=nonsense&type=x', privacy.cookie);
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /Choose a status from the list/);
      const refusedOnly = await (await get(server.url, '/console/requests?status=refused', privacy.cookie)).text();
      assert.match(refusedOnly, /No requests match these filters/);
    });
  });

  test('set type and jurisdiction (due date recomputed), start, refuse with reasons (the requester is told), close: each audited', async () => {
    await withDesk(async (env) => {
      const { server, clock } = env;
      const privacy = await makeStaff(server, clock, 'privacy');
      await submitRequestForm(server.url, { email: 'req@example.org', type: 'access', jurisdiction: 'unspecified', message: 'What do you hold?' });
      const [r] = await requests(server);
      const detail = await get(server.url, `/console/requests/${r.id}`, privacy.cookie);
      assert.equal(detail.status, 200);
      const html = await detail.text();
      assert.match(html, /req@example.org/);
      assert.match(html, /What do you hold\?/);
      assert.match(html, /company deadline applies/);

      const classify = await post(server.url, `/console/requests/${r.id}/classify`, { csrf: privacy.csrf, type: 'deletion', jurisdiction: 'GB' }, privacy.cookie);
      assert.equal(classify.status, 303);
      let [row] = await requests(server);
      assert.equal(row.type, 'deletion');
      assert.equal(row.jurisdiction, 'GB');
      assert.equal(row.received_at, r.received_at, 'the receipt time stays');

      const bad = await post(server.url, `/console/requests/${r.id}/classify`, { csrf: privacy.csrf, type: 'everything', jurisdiction: 'GB' }, privacy.cookie);
      assert.equal(bad.status, 422);
      assert.match(await bad.text(), /choose a request type from the list/);

      assert.equal((await post(server.url, `/console/requests/${r.id}/start`, { csrf: privacy.csrf }, privacy.cookie)).status, 303);
      assert.equal((await requests(server))[0].status, 'in_progress');
      assert.equal((await post(server.url, `/console/requests/${r.id}/start`, { csrf: privacy.csrf }, privacy.cookie)).status, 409, 'not twice');

      const noReason = await post(server.url, `/console/requests/${r.id}/refuse`, { csrf: privacy.csrf, reason: '  ' }, privacy.cookie);
      assert.equal(noReason.status, 422);
      const refuse = await post(server.url, `/console/requests/${r.id}/refuse`, { csrf: privacy.csrf, reason: 'We could not verify that the address is yours.' }, privacy.cookie);
      assert.equal(refuse.status, 303);
      [row] = await requests(server);
      assert.equal(row.status, 'refused');
      assert.equal(row.refusal_reason, 'We could not verify that the address is yours.');
      const mails = await delivered(env, 2);
      const refusal = mails.find((m) => /cannot carry out/.test(m.parsed.text ?? ''));
      assert.ok(refusal, 'the requester is told');
      assert.deepEqual(refusal.envelopeTo, ['req@example.org']);
      assert.match(refusal.parsed.text ?? '', /We could not verify that the address is yours\./);

      assert.equal((await post(server.url, `/console/requests/${r.id}/close`, { csrf: privacy.csrf }, privacy.cookie)).status, 303);
      [row] = await requests(server);
      assert.equal(row.status, 'closed');
      assert.ok(row.closed_at);
      assert.deepEqual((await events(server, r.id)).map((e) => e.event), ['received', 'acknowledged', 'verifying', 'classified', 'in_progress', 'refused', 'closed']);
      const staffEntries = (await audit(server)).filter((a) => a.actor === `staff:${privacy.accountId}` && a.entity_type === 'privacy_request');
      assert.deepEqual(
        staffEntries.map((a) => a.action).filter((a) => a !== 'privacy_request.viewed'),
        ['privacy_request.classified', 'privacy_request.in_progress', 'privacy_request.refused', 'privacy_request.closed'],
      );
      for (const e of staffEntries) {
        assert.ok(JSON.parse(e.details).session, 'with the session');
        assert.ok(!e.details.includes('@') && !e.details.includes('verify that'), 'no address, no reason text');
      }
      assert.equal((await get(server.url, '/console/requests/00000000-0000-4000-8000-000000000000', privacy.cookie)).status, 404);
      assert.equal((await get(server.url, '/console/requests/not-an-id', privacy.cookie)).status, 404);
    });
  });

  test('a triage thread becomes a request; the clock starts when the mail arrived', async () => {
    await withDesk(async (env) => {
      const { server, clock, client } = env;
      const privacy = await makeStaff(server, clock, 'privacy');
      const arrived = clock.t;
      await client.sendMail({ from: 'triaged@example.org', to: server.running.deps.policy.policy.organisation.privacy_address, subject: 'Please remove me from your systems', text: 'Delete me.', messageId: '<t-1@example.org>' });
      assert.equal((await requests(server)).length, 0, 'not the privacy subject: triage');
      clock.advance(20 * 60_000);
      const page = await (await get(server.url, '/console/requests/triage', privacy.cookie)).text();
      const threadId = /action="\/console\/requests\/triage\/([0-9a-f-]{36})\/open"/.exec(page)?.[1];
      assert.ok(threadId);
      const open = await post(server.url, `/console/requests/triage/${threadId}/open`, { csrf: privacy.csrf, type: 'deletion', jurisdiction: 'FR' }, privacy.cookie);
      assert.equal(open.status, 303);
      const [r] = await requests(server);
      assert.equal(r.channel, 'triage');
      assert.equal(r.requester_email, 'triaged@example.org');
      assert.equal(r.received_at, new Date(arrived).toISOString());
      assert.equal(r.thread_id, threadId);
      const again = await post(server.url, `/console/requests/triage/${threadId}/open`, { csrf: privacy.csrf, type: 'deletion', jurisdiction: 'FR' }, privacy.cookie);
      assert.equal(again.status, 409);
      assert.doesNotMatch(await (await get(server.url, '/console/requests/triage', privacy.cookie)).text(), new RegExp(threadId));
      const [ack] = await delivered(env, 1);
      assert.deepEqual(ack.envelopeTo, ['triaged@example.org']);
      assert.equal(ack.parsed.inReplyTo, '<t-1@example.org>');
      const opened = (await audit(server)).find((a) => a.action === 'privacy_request.received');
      assert.equal(opened?.actor, `staff:${privacy.accountId}`);
    });
  });

  test('staff write to the requester from the request; the answer comes back into the request', async () => {
    await withDesk(async (env) => {
      const { server, clock, client } = env;
      const privacy = await makeStaff(server, clock, 'privacy');
      await submitRequestForm(server.url, { email: 'asker@example.org', type: 'access', jurisdiction: 'unspecified', message: '' });
      const [r] = await requests(server);
      const [ack] = await delivered(env, 1);
      const empty = await post(server.url, `/console/requests/${r.id}/reply`, { csrf: privacy.csrf, text: '   ' }, privacy.cookie);
      assert.equal(empty.status, 422);
      const sent = await post(server.url, `/console/requests/${r.id}/reply`, { csrf: privacy.csrf, text: 'Where do you live?' }, privacy.cookie);
      assert.equal(sent.status, 303);
      const [, ours] = await delivered(env, 2);
      assert.deepEqual(ours.envelopeTo, ['asker@example.org']);
      assert.equal(ours.parsed.inReplyTo, ack.parsed.messageId, 'threads under the acknowledgement');
      assert.equal(ours.parsed.replyTo?.value[0].address, server.running.deps.policy.policy.organisation.privacy_address);
      clock.advance(60_000);
      await client.sendMail({ from: 'asker@example.org', to: server.running.deps.policy.policy.organisation.privacy_address, subject: ours.parsed.subject, text: 'In Ireland.', inReplyTo: ours.parsed.messageId, references: [ack.parsed.messageId!, ours.parsed.messageId!], messageId: '<answer-1@example.org>' });
      assert.equal((await requests(server)).length, 1);
      assert.deepEqual((await events(server, r.id)).map((e) => e.event).slice(-2), ['replied', 'mail_received']);
      const page = await (await get(server.url, `/console/requests/${r.id}`, privacy.cookie)).text();
      assert.match(page, /Where do you live\?/);
      assert.match(page, /In Ireland\./);
    });
  });
});
