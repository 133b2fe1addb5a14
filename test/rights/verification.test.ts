// The verification link: GET only shows a button (a mail scanner's fetch consumes
// nothing); POST verifies once; a reused, expired, altered link or one used on another
// request gets nothing; only verified requests are merged, and only with a verified one.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { postForm } from '../support/server.ts';
import { audit, delivered, events, requests, submitRequestForm, verifyLinkIn, withDesk } from './support.ts';

const email = 'mary.jackson@wind-tunnel.example.org';
const other = 'dorothy.vaughan@fortran.example.org';

function path(link: string): string {
  return new URL(link).pathname;
}

describe('the verification link', () => {
  test('GET does not consume; POST verifies once; reuse gets nothing', async () => {
    await withDesk(async (env) => {
      const { server } = env;
      await submitRequestForm(server.url, { email, type: 'access', jurisdiction: 'FR', message: '' });
      const [ack] = await delivered(env, 1);
      const link = path(verifyLinkIn(ack));

      for (let i = 0; i < 3; i++) {
        const look = await fetch(`${server.url}${link}`);
        assert.equal(look.status, 200);
        const text = await look.text();
        assert.match(text, /<form method="post" action="\/privacy\/request\/[0-9a-f-]+\/verify\/[A-Za-z0-9_-]+"><button/);
        assert.equal(look.headers.getSetCookie().length, 0);
      }
      let [r] = await requests(server);
      assert.equal(r.verified_at, null, 'looking verified nothing');
      assert.equal(r.status, 'verifying');

      const yes = await postForm(server.url, link, {});
      assert.equal(yes.status, 200);
      assert.match(await yes.text(), new RegExp(r.reference));
      [r] = await requests(server);
      assert.equal(r.verified_at, '2026-12-02T10:00:00.000Z');
      assert.equal(r.verify_token_hash, null, 'single use: the hash is gone');
      assert.equal(r.status, 'in_progress');
      assert.deepEqual((await events(server, r.id)).map((e) => [e.actor, e.event]), [
        ['requester', 'received'],
        ['system', 'acknowledged'],
        ['system', 'verifying'],
        ['requester', 'verified'],
        ['system', 'in_progress'],
      ]);

      assert.equal((await fetch(`${server.url}${link}`)).status, 404, 'a used link shows nothing');
      assert.equal((await postForm(server.url, link, {})).status, 404, 'and verifies nothing');
      const verified = (await audit(server)).filter((a) => a.action === 'privacy_request.verified');
      assert.equal(verified.length, 1);
    });
  });

  test('an expired link, a link used on another request, an altered token: nothing', async () => {
    await withDesk(async (env) => {
      const { server, clock } = env;
      await submitRequestForm(server.url, { email, type: 'access', jurisdiction: 'FR', message: '' });
      await submitRequestForm(server.url, { email: other, type: 'deletion', jurisdiction: 'GB', message: '' });
      const mails = await delivered(env, 2);
      const mine = path(verifyLinkIn(mails.find((m) => m.envelopeTo[0] === email)!));
      const theirs = path(verifyLinkIn(mails.find((m) => m.envelopeTo[0] === other)!));
      const [, , , myId, , myToken] = mine.split('/');
      const [, , , theirId] = theirs.split('/');
      assert.ok(myId && myToken && theirId);

      // My token on their request.
      const swapped = `/privacy/request/${theirId}/verify/${myToken}`;
      assert.equal((await fetch(`${server.url}${swapped}`)).status, 404);
      assert.equal((await postForm(server.url, swapped, {})).status, 404);
      // An altered token; a malformed id.
      const altered = mine.slice(0, -1) + (mine.endsWith('A') ? 'B' : 'A');
      assert.equal((await postForm(server.url, altered, {})).status, 404);
      assert.equal((await postForm(server.url, `/privacy/request/not-an-id/verify/${myToken}`, {})).status, 404);
      assert.equal((await fetch(`${server.url}/privacy/request/${myId}/verify/${'x'.repeat(60)}`)).status, 404);

      // Fourteen days and a moment later, my own link has expired.
      clock.advance(14 * 86_400_000 + 1);
      assert.equal((await fetch(`${server.url}${mine}`)).status, 404);
      assert.equal((await postForm(server.url, mine, {})).status, 404);
      const rows = await requests(server);
      assert.ok(rows.every((r) => r.verified_at === null), 'nobody was verified');
      assert.ok(!(await audit(server)).some((a) => a.action === 'privacy_request.verified'));
    });
  });

  test('duplicates merge only once verified: an unverified request never touches the genuine one', async () => {
    await withDesk(async (env) => {
      const { server, clock } = env;
      await submitRequestForm(server.url, { email, type: 'deletion', jurisdiction: 'FR', message: '' });
      const [first] = await delivered(env, 1);
      await postForm(server.url, path(verifyLinkIn(first)), {});
      clock.advance(60_000);
      // Someone else sends the same address and type: it stays separate and unverified.
      await submitRequestForm(server.url, { email, type: 'deletion', jurisdiction: 'FR', message: '' });
      let rows = await requests(server);
      assert.equal(rows.length, 2);
      assert.equal(rows[0].status, 'in_progress');
      assert.equal(rows[1].status, 'verifying');
      assert.equal(rows[1].merged_into, null);
      assert.equal(rows[0].closed_at, null);
      // Once the second is verified too, it is merged into the first (audited on both).
      const mails = await delivered(env, 2);
      clock.advance(60_000);
      await postForm(server.url, path(verifyLinkIn(mails[1])), {});
      rows = await requests(server);
      assert.equal(rows[1].merged_into, rows[0].id);
      assert.equal(rows[1].status, 'closed');
      assert.equal(rows[0].status, 'in_progress', 'the genuine one is untouched');
      const actions = (await audit(server)).filter((a) => a.action === 'privacy_request.merged' || a.action === 'privacy_request.absorbed');
      assert.deepEqual(actions.map((a) => [a.action, a.entity_id]), [
        ['privacy_request.merged', rows[1].id],
        ['privacy_request.absorbed', rows[0].id],
      ]);
    });
  });

  test('the earlier request, verified last, absorbs the later one; a closed request\'s link stops working', async () => {
    await withDesk(async (env) => {
      const { server, clock } = env;
      await submitRequestForm(server.url, { email, type: 'access', jurisdiction: 'FR', message: '' });
      clock.advance(60_000);
      await submitRequestForm(server.url, { email, type: 'access', jurisdiction: 'FR', message: '' });
      clock.advance(60_000);
      await submitRequestForm(server.url, { email: other, type: 'access', jurisdiction: 'FR', message: '' });
      const mails = await delivered(env, 3);
      const [older, newer, third] = await requests(server); // received a minute apart
      const linkOf = (id: string) => path(verifyLinkIn(mails.find((m) => (m.parsed.text ?? '').includes(id))!));
      await postForm(server.url, linkOf(newer.id), {});
      await postForm(server.url, linkOf(older.id), {});
      const rows = await requests(server);
      assert.equal(rows[1].merged_into, older.id, 'the later one is closed into the earlier');
      assert.equal(rows[1].status, 'closed');
      assert.equal(rows[0].status, 'in_progress');
      assert.equal(rows[2].merged_into, null, 'another address is never merged');
      // Closed by staff before it was verified: the link no longer works.
      const { changeStatus } = await import('../../src/rights/change-status.ts');
      await changeStatus(server.running.deps, { staffAccountId: 'acct', sessionId: 'sess' }, { requestId: third.id, move: 'close' });
      assert.equal((await fetch(`${server.url}${linkOf(third.id)}`)).status, 404);
      assert.equal((await postForm(server.url, linkOf(third.id), {})).status, 404);
      assert.equal((await requests(server))[2].verified_at, null);
    });
  });
});
