// The /privacy/request form over real HTTP: a good request is stored and acknowledged
// with the legal deadline where it is earlier; hostile and bad input is refused with
// field messages and the input kept (never a 500, nothing stored); the protections of
// the other public forms apply; no page sets a cookie.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { postForm } from '../support/server.ts';
import { assertLogsClean, delivered, events, requestFormToken, requests, submitRequestForm, withDesk } from './support.ts';

const email = 'katherine.johnson@orbits.example.org';

describe('the privacy request form', () => {
  test('GET shows the form without a cookie; a good post is stored, acknowledged and answered 303 without a cookie', async () => {
    await withDesk(async (env) => {
      const { server } = env;
      const page = await fetch(`${server.url}/privacy/request`);
      assert.equal(page.status, 200);
      assert.equal(page.headers.getSetCookie().length, 0);
      const body = await page.text();
      for (const name of ['email', 'type', 'jurisdiction', 'message', 'form_token', 'leave_blank']) assert.match(body, new RegExp(`name="${name}"`));
      assert.match(body, /<option value="GB">United Kingdom<\/option>/);

      const res = await submitRequestForm(server.url, { email, type: 'deletion', jurisdiction: 'GB', message: 'Please delete everything.' });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), '/privacy/request/sent');
      assert.equal(res.headers.getSetCookie().length, 0, 'no cookie');
      const sent = await fetch(`${server.url}/privacy/request/sent`);
      assert.equal(sent.status, 200);
      assert.match(await sent.text(), /Check your email/);

      const [r] = await requests(server);
      assert.equal(r.channel, 'form');
      assert.equal(r.type, 'deletion');
      assert.equal(r.jurisdiction, 'GB');
      assert.equal(r.message, 'Please delete everything.');
      assert.equal(r.status, 'verifying');
      assert.deepEqual((await events(server, r.id)).map((e) => e.event), ['received', 'acknowledged', 'verifying']);
      const [ack] = await delivered(env, 1);
      assert.deepEqual(ack.envelopeTo, [email]);
      assert.match(ack.parsed.text ?? '', /deletion of the personal data we hold about you/);
      assert.match(ack.parsed.text ?? '', /\/privacy\/request\/[0-9a-f-]{36}\/verify\//);
      assertLogsClean(server, [email, 'everything']);
    });
  });

  test('the same form sent twice opens one request', async () => {
    await withDesk(async ({ server }) => {
      const token = await requestFormToken(server.url);
      const fields = { form_token: token, email, type: 'access', jurisdiction: 'unspecified', message: '' };
      assert.equal((await postForm(server.url, '/privacy/request', fields)).status, 303);
      assert.equal((await postForm(server.url, '/privacy/request', fields)).status, 303);
      const rows = await requests(server);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].jurisdiction, 'unspecified');
      assert.equal(rows[0].respond_rule_kind, 'company');
    });
  });

  test('bad and hostile input comes back 422 with field messages and the input escaped; nothing is stored', async () => {
    await withDesk(async ({ server }) => {
      const cases: Array<[Record<string, string>, RegExp[]]> = [
        [{ email: '', type: '', jurisdiction: '', message: '' }, [/Enter your email address/, /Choose what you would like us to do/, /Choose where you live/]],
        [{ email: 'not-an-address', type: 'access', jurisdiction: 'GB', message: '' }, [/format name@company.com/]],
        [{ email: 'a@b.example.com\r\nBcc: victim@example.com', type: 'access', jurisdiction: 'GB', message: '' }, [/characters we cannot read|format name@company.com/]],
        [{ email, type: 'everything', jurisdiction: 'GB', message: '' }, [/Choose what you would like us to do/]],
        [{ email, type: 'access', jurisdiction: 'XX', message: '' }, [/Choose where you live from the list/]],
        [{ email, type: 'access', jurisdiction: 'GB', message: 'x'.repeat(5001) }, [/5000 characters or fewer/]],
        [{ email: '"><script>alert(1)</script>', type: 'access', jurisdiction: 'GB', message: '</textarea><script>alert(2)</script>' }, [/format name@company.com/]],
      ];
      for (const [fields, messages] of cases) {
        const res = await submitRequestForm(server.url, fields);
        const text = await res.text();
        assert.equal(res.status, 422, JSON.stringify(fields).slice(0, 80));
        for (const m of messages) assert.match(text, m);
        assert.ok(!text.includes('<script>alert'), 'input is escaped');
        if (fields.message.startsWith('</textarea>')) assert.ok(text.includes('&lt;/textarea&gt;&lt;script&gt;'), 'the message is kept, escaped');
      }
      // Extra fields, arrays and unknown names are ignored.
      const arrays = await fetch(`${server.url}/privacy/request`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url, 'sec-fetch-site': 'same-origin' },
        body: `form_token=${encodeURIComponent(await requestFormToken(server.url))}&email=${encodeURIComponent(email)}&email=x&type=access&type=deletion&jurisdiction=FR&__proto__=x&status=closed`,
      });
      assert.equal(arrays.status, 303);
      const rows = await requests(server);
      assert.equal(rows.length, 1, 'only the well-formed post was stored');
      assert.equal(rows[0].type, 'access');
      assert.equal(rows[0].status, 'verifying', 'a posted status is ignored');
    });
  });

  test('cross-site posts, a filled honeypot, a missing or forged token, a JSON body: refused, nothing stored', async () => {
    await withDesk(async ({ server }) => {
      const good = { email, type: 'access', jurisdiction: 'GB', message: 'hello' };
      const cross = await submitRequestForm(server.url, good, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
      assert.equal(cross.status, 403);
      const trap = await submitRequestForm(server.url, { ...good, leave_blank: 'http://spam.example' });
      assert.equal(trap.status, 422);
      assert.match(await trap.text(), /send it again/);
      const missing = await postForm(server.url, '/privacy/request', good);
      assert.equal(missing.status, 422);
      const forged = await postForm(server.url, '/privacy/request', { ...good, form_token: 'k1.forged.token' });
      assert.equal(forged.status, 422);
      // A token of another form is not this form's.
      const demo = /name="form_token" value="([^"]+)"/.exec(await (await fetch(`${server.url}/demo`)).text())![1];
      assert.equal((await postForm(server.url, '/privacy/request', { ...good, form_token: demo })).status, 422);
      const json = await fetch(`${server.url}/privacy/request`, { method: 'POST', headers: { 'content-type': 'application/json', origin: server.url }, body: JSON.stringify(good) });
      assert.equal(json.status, 415);
      assert.equal((await requests(server)).length, 0);
    });
  });

  test('the shared rate limit answers 429 with the input kept', async () => {
    await withDesk(
      async ({ server }) => {
        const fields = { email, type: 'access', jurisdiction: 'GB', message: 'kept text' };
        assert.equal((await submitRequestForm(server.url, fields)).status, 303);
        assert.equal((await submitRequestForm(server.url, fields)).status, 303);
        const limited = await submitRequestForm(server.url, fields);
        assert.equal(limited.status, 429);
        assert.ok(limited.headers.get('retry-after'));
        const text = await limited.text();
        assert.match(text, /kept text/);
        assert.match(text, /value="katherine.johnson@orbits.example.org"/);
      },
      { env: { RATE_LIMIT_MAX: '2' } },
    );
  });
});
