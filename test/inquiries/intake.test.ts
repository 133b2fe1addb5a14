// The demo and contact forms over real HTTP: exactly the policy's fields are stored,
// bad input comes back with messages and the input kept, cookieless protections hold,
// limits answer 413/415/429, and a database outage answers 503 without losing input.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/config.ts';
import { formToken, postForm, startTestServer, submitForm, validFields, type TestServer } from '../support/server.ts';

const tables = ['inquiry', 'outbox', 'consent_record', 'audit_log', 'suppression'] as const;

async function counts(server: TestServer): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tables) {
    const row = await server.running.deps.storage.db.selectFrom(t).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    out[t] = Number(row.n);
  }
  return out;
}

/** Every text value in every table, to prove a value was never stored anywhere. */
async function everyStoredValue(server: TestServer): Promise<string> {
  const parts: string[] = [];
  for (const t of tables) {
    const rows = await server.running.deps.storage.db.selectFrom(t).selectAll().execute();
    parts.push(JSON.stringify(rows));
  }
  return parts.join('\n');
}

function receiptCookie(res: Response): string | undefined {
  return res.headers.getSetCookie().find((c) => c.startsWith('lt_receipt='));
}

describe('form intake', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  test('a valid submission stores exactly the policy fields; other posted fields are never stored', async () => {
    const extras = { phone: '+44 20 7946 0958', utm_source: 'extra-utm-value', id: 'forged-id-value', free_mail: 'forged-free-mail', created_at: '1999-01-01', notice_version: 'forged-version' };
    const res = await submitForm(server.url, 'contact', { ...validFields, email: 'p1@fields.example.com', ...extras });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/thanks');
    const row = await server.running.deps.storage.db.selectFrom('inquiry').selectAll().where('email', '=', 'p1@fields.example.com').executeTakeFirstOrThrow();
    assert.deepEqual(
      { name: row.name, company: row.company, role: row.role, country: row.country, context: row.context, form: row.form, free_mail: Number(row.free_mail) },
      { name: validFields.name, company: validFields.company, role: validFields.role, country: 'GB', context: validFields.context, form: 'contact', free_mail: 0 },
    );
    assert.equal(row.notice_version, server.running.deps.policy.current.version);
    assert.notEqual(row.id, 'forged-id-value');
    const stored = await everyStoredValue(server);
    for (const value of Object.values(extras)) assert.ok(!stored.includes(value), `extra field value ${value} was stored`);
  });

  test('success answers 303 with the declared receipt cookie, and the thank-you page shows the reference', async () => {
    const res = await submitForm(server.url, 'demo', { ...validFields, email: 'receipt@example.com' });
    const cookie = receiptCookie(res);
    assert.ok(cookie);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.doesNotMatch(cookie, /Secure/);
    assert.match(cookie, /Max-Age=600/);
    const thanks = await fetch(`${server.url}/thanks`, { headers: { cookie: cookie.split(';')[0] } });
    const body = await thanks.text();
    const row = await server.running.deps.storage.db.selectFrom('inquiry').select('reference').where('email', '=', 'receipt@example.com').executeTakeFirstOrThrow();
    assert.ok(body.includes(row.reference));
    for (const path of ['/', '/demo', '/contact', '/privacy', '/thanks']) {
      assert.equal((await fetch(`${server.url}${path}`)).headers.get('set-cookie'), null, `${path} set a cookie`);
    }
  });

  test('field validation returns messages, keeps the input escaped, focuses the first error and stores nothing', async () => {
    const before = await counts(server);
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ name: '' }, 'name', /Enter your full name/],
      [{ name: 'x'.repeat(201) }, 'name', /200 characters or fewer/],
      [{ name: 'Ada\r\nBcc: evil@example.com' }, 'name', /must be on one line/],
      [{ company: 'Acme\nInc' }, 'company', /must be on one line/],
      [{ role: 'Boss\rX' }, 'role', /must be on one line/],
      [{ email: 'not-an-email' }, 'email', /format name@company\.com/],
      [{ email: 'x@mailinator.com' }, 'email', /disposable-mail/],
      [{ country: 'XX' }, 'country', /from the list/],
      [{ country: '' }, 'country', /Choose your country/],
      [{ context: 'y'.repeat(5001) }, 'context', /5000 characters or fewer/],
    ];
    for (const [change, field, message] of cases) {
      const res = await submitForm(server.url, 'demo', { ...validFields, ...change });
      assert.equal(res.status, 422, JSON.stringify(change));
      const body = await res.text();
      assert.match(body, message);
      assert.match(body, new RegExp(`id="${field}"[^>]*aria-invalid="true"[^>]*autofocus|id="${field}"[^>]*autofocus`), `autofocus on ${field}`);
      assert.match(body, new RegExp(`class="error-summary"[\\s\\S]*href="#${field}"`));
    }
    const xss = await submitForm(server.url, 'demo', { ...validFields, name: '<script>alert(1)</script>', email: 'bad' });
    const xssBody = await xss.text();
    assert.ok(!xssBody.includes('<script>alert(1)</script>'));
    assert.ok(xssBody.includes('value="&lt;script&gt;alert(1)&lt;/script&gt;"'));
    assert.deepEqual(await counts(server), before, 'nothing written for invalid input');
  });

  test('a lower-case country code is accepted; a free-mail address is accepted and flagged', async () => {
    const res = await submitForm(server.url, 'demo', { ...validFields, email: 'someone@gmail.com', country: 'ie' });
    assert.equal(res.status, 303);
    const row = await server.running.deps.storage.db.selectFrom('inquiry').selectAll().where('email', '=', 'someone@gmail.com').executeTakeFirstOrThrow();
    assert.equal(row.country, 'IE');
    assert.equal(Number(row.free_mail), 1);
    const staff = await server.running.deps.storage.db.selectFrom('outbox').select('subject').where('inquiry_id', '=', row.id).where('kind', '=', 'staff-notification').executeTakeFirstOrThrow();
    assert.match(staff.subject, /free-mail/);
  });

  test('the opt-in box is unticked on the page; ticked stores a consent record, unticked stores none', async () => {
    const page = await (await fetch(`${server.url}/demo`)).text();
    assert.match(page, /<input type="checkbox" id="marketing_opt_in" name="marketing_opt_in" value="yes">/);
    await submitForm(server.url, 'demo', { ...validFields, email: 'no-optin@example.com' });
    await submitForm(server.url, 'demo', { ...validFields, email: 'optin@example.com', marketing_opt_in: 'yes' });
    const records = await server.running.deps.storage.db.selectFrom('consent_record').selectAll().where('email', 'in', ['no-optin@example.com', 'optin@example.com']).execute();
    assert.equal(records.length, 1);
    assert.equal(records[0].email, 'optin@example.com');
    assert.equal(records[0].wording, server.running.deps.policy.policy.marketing.checkbox_wording);
  });

  test('cross-site posts are refused; posts without browser headers pass', async () => {
    const before = await counts(server);
    const token = await formToken(server.url, 'demo');
    const fields = { ...validFields, form_token: token };
    assert.equal((await postForm(server.url, '/demo', fields, { origin: 'https://evil.example', 'sec-fetch-site': '' })).status, 403);
    assert.equal((await postForm(server.url, '/demo', fields, { 'sec-fetch-site': 'cross-site' })).status, 403);
    assert.equal((await postForm(server.url, '/demo', fields, { 'sec-fetch-site': 'same-site' })).status, 403);
    assert.deepEqual(await counts(server), before);
    const plain = await fetch(`${server.url}/demo`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...fields, email: 'curl@example.com' }) });
    assert.equal(plain.status, 303);
  });

  test('the honeypot drops a bot quietly; forged or missing tokens come back for a second send', async () => {
    const before = await counts(server);
    const bot = await submitForm(server.url, 'demo', { ...validFields, leave_blank: 'http://spam.example' });
    assert.equal(bot.status, 303);
    assert.equal(receiptCookie(bot), undefined);
    assert.deepEqual(await counts(server), before);
    for (const token of ['', 'forged.token', (await formToken(server.url, 'contact')) /* another form's token */]) {
      const res = await postForm(server.url, '/demo', { ...validFields, form_token: token });
      assert.equal(res.status, 422);
      const body = await res.text();
      assert.match(body, /send it again/);
      assert.ok(body.includes(`value="${validFields.company}"`), 'input kept');
      assert.match(body, /name="form_token" value="[^"]+"/, 'a fresh token to resend with');
    }
    assert.deepEqual(await counts(server), before);
  });

  test('the same form sent twice (double click) is one inquiry', async () => {
    const token = await formToken(server.url, 'demo');
    const fields = { ...validFields, email: 'double@example.com', form_token: token };
    const [a, b] = await Promise.all([postForm(server.url, '/demo', fields), postForm(server.url, '/demo', fields)]);
    assert.equal(a.status, 303);
    assert.equal(b.status, 303);
    const rows = await server.running.deps.storage.db.selectFrom('inquiry').select('id').where('email', '=', 'double@example.com').execute();
    assert.equal(rows.length, 1);
    const mails = await server.running.deps.storage.db.selectFrom('outbox').select('id').where('inquiry_id', '=', rows[0].id).execute();
    assert.equal(mails.length, 2);
  });

  test('bodies over the limit answer 413, other content types 415, malformed bodies 4xx; never 500, nothing stored', async () => {
    const before = await counts(server);
    const big = await postForm(server.url, '/demo', { ...validFields, context: 'z'.repeat(40_000) });
    assert.equal(big.status, 413);
    const json = await fetch(`${server.url}/demo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(validFields) });
    assert.equal(json.status, 415);
    const text = await fetch(`${server.url}/demo`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    assert.equal(text.status, 415);
    const none = await fetch(`${server.url}/demo`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '%%%=%E0%A4%A&name=%ZZ' });
    assert.ok(none.status >= 400 && none.status < 500, `malformed body got ${none.status}`);
    assert.deepEqual(await counts(server), before);
  });

  test('security headers: strict CSP, no framing, nosniff, no referrer, no HSTS over http', async () => {
    const res = await fetch(`${server.url}/demo`);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(res.headers.get('strict-transport-security'), null);
  });

  test('every stored inquiry has an audit entry without personal values', async () => {
    const rows = await server.running.deps.storage.db.selectFrom('inquiry').selectAll().execute();
    const audit = await server.running.deps.storage.db.selectFrom('audit_log').selectAll().where('action', '=', 'inquiry.created').execute();
    for (const row of rows) {
      const entry = audit.find((a) => a.entity_id === row.id);
      assert.ok(entry, `no audit entry for ${row.id}`);
      const text = JSON.stringify(entry);
      for (const value of [row.name, row.email, row.company, row.role]) assert.ok(!text.includes(value));
    }
  });

  test('logs never contain submitted personal data', async () => {
    const joined = server.logs.join('');
    assert.ok(joined.length > 0);
    for (const value of [validFields.name, validFields.company, validFields.role, validFields.context, 'optin@example.com', 'someone@gmail.com', 'x@mailinator.com']) {
      assert.ok(!joined.includes(value), `log contains ${value}`);
    }
  });
});

describe('form intake settings', () => {
  test('with HTTPS configured: Secure cookie and HSTS', async () => {
    const server = await startTestServer({ env: { PUBLIC_URL: 'https://www.lumetrax.example' } });
    try {
      const token = await formToken(server.url, 'demo');
      const res = await postForm(server.url, '/demo', { ...validFields, form_token: token }, { origin: 'https://www.lumetrax.example' });
      assert.equal(res.status, 303);
      assert.match(receiptCookie(res) ?? '', /Secure/);
      assert.match((await fetch(`${server.url}/`)).headers.get('strict-transport-security') ?? '', /max-age=\d+/);
    } finally {
      await server.close();
    }
  });

  test('too-fast and expired forms come back with a way forward, then succeed', async () => {
    let now = Date.parse('2026-11-25T10:00:00Z');
    const server = await startTestServer({ env: { FORM_MIN_FILL_SECONDS: '5' }, now: () => new Date(now) });
    try {
      const token = await formToken(server.url, 'demo');
      const fast = await postForm(server.url, '/demo', { ...validFields, form_token: token });
      assert.equal(fast.status, 422);
      const body = await fast.text();
      assert.match(body, /quicker than we expected/);
      assert.ok(body.includes(`value="${validFields.name}"`));
      now += 6_000;
      assert.equal((await postForm(server.url, '/demo', { ...validFields, form_token: token })).status, 303);

      const old = await formToken(server.url, 'demo');
      now += 25 * 3600_000;
      const expired = await postForm(server.url, '/demo', { ...validFields, email: 'late@example.com', form_token: old });
      assert.equal(expired.status, 422);
      const fresh = (await expired.text()).match(/name="form_token" value="([^"]+)"/)![1];
      now += 6_000;
      assert.equal((await postForm(server.url, '/demo', { ...validFields, email: 'late@example.com', form_token: fresh })).status, 303);
    } finally {
      await server.close();
    }
  });

  test('the rate limit answers 429 with Retry-After and the input kept; the address is stored nowhere', async () => {
    // Behind a proxy, so the client address is a distinctive one we can search for.
    const server = await startTestServer({ env: { RATE_LIMIT_MAX: '3', TRUST_PROXY: 'true' } });
    const client = { 'x-forwarded-for': '203.0.113.77' };
    try {
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 4; i++) {
        last = await submitForm(server.url, 'contact', { ...validFields, email: `rate${i}@example.com` }, client);
        statuses.push(last.status);
      }
      assert.deepEqual(statuses, [303, 303, 303, 429]);
      assert.ok(Number(last!.headers.get('retry-after')) > 0);
      const body = await last!.text();
      assert.ok(body.includes('value="rate3@example.com"'), 'input kept');
      const stored = await everyStoredValue(server);
      assert.ok(!stored.includes('203.0.113.77'), 'the client address is stored');
      assert.ok(!server.logs.join('').includes('203.0.113.77'), 'a log line holds the client address');
      // Another client is not limited by the first one's posts.
      assert.equal((await submitForm(server.url, 'contact', { ...validFields, email: 'other@example.com' }, { 'x-forwarded-for': '198.51.100.9' })).status, 303);
    } finally {
      await server.close();
    }
  });

  test('free mail can be refused by policy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lumetrax-policy-'));
    cpSync(join(projectRoot, 'policy'), dir, { recursive: true });
    const file = join(dir, 'lumetrax.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('free_mail: flag', 'free_mail: refuse'));
    const server = await startTestServer({ env: { POLICY_FILE: file } });
    try {
      const res = await submitForm(server.url, 'demo', { ...validFields, email: 'someone@gmail.com' });
      assert.equal(res.status, 422);
      assert.match(await res.text(), /work email address rather than a personal one/);
    } finally {
      await server.close();
    }
  });

  test('with the database away: the form still renders, a post answers 503 with the input kept, /healthz 503', async () => {
    const server = await startTestServer({
      database: { kind: 'postgres', target: { kind: 'postgres', url: 'postgres://postgres@127.0.0.1:1/none' }, url: 'postgres://postgres@127.0.0.1:1/none', drop: async () => undefined },
      env: { AUTO_MIGRATE: 'false' },
    });
    try {
      const res = await submitForm(server.url, 'demo');
      assert.equal(res.status, 503);
      assert.ok(Number(res.headers.get('retry-after')) > 0);
      const body = await res.text();
      assert.match(body, /nothing was stored/);
      assert.ok(body.includes(`value="${validFields.email}"`));
      assert.equal((await fetch(`${server.url}/healthz`)).status, 503);
    } finally {
      await server.close();
    }
  });
});
