// The demo and contact forms over real HTTP: exactly the policy's fields are stored (P1),
// bad input comes back with messages and the input kept, the cookieless protections hold,
// limits answer 413/415/429, a database outage answers 503 without losing the input, and
// neither the logs nor the audit trail hold personal values.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import escapeHtml from 'escape-html';
import { projectRoot } from '../../src/config.ts';
import { formToken, postForm, startTestServer, submitForm, validFields, type TestServer } from '../support/server.ts';
import { counts, delta, everythingStored, nothingAdded, rawPost, receiptCookie, tokenIn } from './helpers.ts';
import { consentRecordsByEmail, inquiriesByEmail } from '../support/people.ts';
import { createTestDatabase, PG_BASE_URL, postgresReachable } from '../support/db.ts';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

type Form = 'demo' | 'contact';
const forms: Form[] = ['demo', 'contact'];

// Name and address live on the person row (joined back in by inquiriesByEmail); the
// inquiry holds the rest of the policy's fields and its metadata.
const policyColumns = ['name', 'email', 'company', 'role', 'country', 'context'];
const metadataColumns = ['id', 'reference', 'form', 'person_id', 'free_mail', 'notice_version', 'submission_key', 'created_at', 'delete_after', 'status', 'outcome', 'closed_at', 'last_activity_at'];

/** The HTML of one form control, found by its id. */
function control(body: string, id: string): string {
  const tag = new RegExp(`<(?:input|select|textarea)\\b[^>]*\\bid="${id}"[^>]*>`).exec(body);
  assert.ok(tag, `no control #${id} on the page`);
  return tag[0];
}

/** What the re-rendered form shows in each field, still HTML-escaped. */
function shown(body: string): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const f of ['name', 'email', 'company', 'role']) out[f] = /\bvalue="([^"]*)"/.exec(control(body, f))![1];
  out.country = /<option value="([A-Z]{2})" selected>/.exec(body)?.[1] ?? '';
  out.context = /<textarea\b[^>]*\bid="context"[^>]*>([^<]*)<\/textarea>/.exec(body)?.[1] ?? '<missing>';
  out.marketing_opt_in = /\bchecked\b/.test(control(body, 'marketing_opt_in'));
  return out;
}

function assertInputKept(body: string, fields: Record<string, string>, label = ''): void {
  const s = shown(body);
  for (const f of ['name', 'email', 'company', 'role', 'context'] as const) {
    if (fields[f] !== undefined) assert.equal(s[f], escapeHtml(fields[f]), `${label}: ${f} kept`);
  }
  // A select can only show a code that is one of its options.
  const code = (fields.country ?? '').trim().toUpperCase();
  if (/^[A-Z]{2}$/.test(code) && body.includes(`<option value="${code}"`)) assert.equal(s.country, code, `${label}: country kept`);
  assert.equal(s.marketing_opt_in, fields.marketing_opt_in === 'yes', `${label}: opt-in kept`);
}

function errorMessage(body: string, field: string): string | undefined {
  return new RegExp(`<p class="error-message" id="${field}-error">([\\s\\S]*?)</p>`).exec(body)?.[1];
}

function autofocused(body: string): string[] {
  return [...body.matchAll(/<(?:input|select|textarea)\b[^>]*\bid="([a-z_]+)"[^>]*\sautofocus[\s>]/g)].map((m) => m[1]);
}

async function inquiryByEmail(server: TestServer, email: string) {
  return inquiriesByEmail(server.running.deps.storage.db, email);
}

describe('form intake', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());
  const db = () => server.running.deps.storage.db;

  test('each form asks for exactly the policy fields (plus the token, the honeypot and the opt-in)', async () => {
    for (const form of forms) {
      const body = await (await fetch(`${server.url}/${form}`)).text();
      const formHtml = /<form class="inquiry-form"[\s\S]*?<\/form>/.exec(body)![0];
      const names = [...formHtml.matchAll(/<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"/g)].map((m) => m[1]).sort();
      assert.deepEqual(names, ['company', 'context', 'country', 'email', 'form_token', 'leave_blank', 'marketing_opt_in', 'name', 'role']);
      assert.equal([...formHtml.matchAll(/type="hidden"/g)].length, 1, 'one hidden input: the signed token');
    }
  });

  for (const form of forms) {
    test(`P1 (${form}): a valid submission stores exactly the policy fields and our metadata; extra fields are stored nowhere`, async () => {
      const email = `p1-${form}@fields.example.com`;
      const extras = {
        phone: `+44 20 7946 0958 ${form}`,
        utm_source: `extra-utm-${form}`,
        gclid: `extra-gclid-${form}`,
        id: `forged-id-${form}`,
        reference: `FORGED-REF-${form}`,
        free_mail: '1',
        created_at: `1999-01-01T00:00:00.000Z-${form}`,
        notice_version: `forged-version-${form}`,
        submission_key: `forged-key-${form}`,
        form: `forged-form-${form}`,
      };
      const before = await counts(server);
      const started = Date.now();
      const res = await submitForm(server.url, form, { ...validFields, email, ...extras });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), '/thanks');
      assert.deepEqual(delta(await counts(server), before), { inquiry: 1, outbox: 2, consent_record: 0, audit_log: 1, suppression: 0 });

      const [row] = await inquiryByEmail(server, email);
      assert.deepEqual(Object.keys(row).sort(), [...policyColumns, ...metadataColumns].sort(), 'the inquiry has no column beyond the policy fields and metadata');
      assert.deepEqual(
        { name: row.name, email: row.email, company: row.company, role: row.role, country: row.country, context: row.context },
        { ...validFields, email },
      );
      assert.equal(row.form, form);
      assert.equal(Number(row.free_mail), 0);
      assert.match(row.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.match(row.reference, /^LT-[A-Z2-9]{8}$/);
      assert.match(row.submission_key, /^[0-9a-f]{64}$/);
      assert.equal(row.notice_version, server.running.deps.policy.current.version);
      const created = Date.parse(row.created_at);
      assert.ok(created >= started - 1000 && created <= Date.now() + 1000, 'created_at is now');
      const followUpDays = server.running.deps.policy.policy.retention.follow_up_window_days;
      assert.equal(Date.parse(row.delete_after) - created, followUpDays * 86_400_000);

      const mails = await db().selectFrom('outbox').select(['kind', 'to_address']).where('inquiry_id', '=', row.id).orderBy('kind').execute();
      assert.deepEqual(mails.map((m) => m.kind), ['inquiry-confirmation', 'staff-notification']);
      assert.equal(mails[0].to_address, email);

      const stored = await everythingStored(server);
      assert.ok(stored.includes(email), 'the scan sees stored values');
      for (const [key, value] of Object.entries(extras)) {
        if (key === 'free_mail') continue;
        assert.ok(!stored.includes(value), `extra field ${key}=${value} was stored`);
      }
      const logs = server.logs.join('');
      for (const value of Object.values(extras)) if (value.length > 1) assert.ok(!logs.includes(value), `extra field value ${value} was logged`);
    });
  }

  test('success answers 303 to /thanks with only the declared cookie; /thanks shows the reference; no page view sets a cookie', async () => {
    const declared = server.running.deps.policy.policy.cookies.find((c) => c.name === 'lt_receipt');
    assert.ok(declared, 'lt_receipt is declared in the policy');
    const res = await submitForm(server.url, 'demo', { ...validFields, email: 'receipt@example.com' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/thanks');
    const setCookies = res.headers.getSetCookie();
    assert.equal(setCookies.length, 1, 'exactly one cookie');
    const cookie = receiptCookie(res)!;
    assert.ok(cookie);
    assert.match(cookie, /;\s*HttpOnly/i);
    assert.match(cookie, /;\s*SameSite=Strict/i);
    assert.doesNotMatch(cookie, /;\s*Secure/i, 'no Secure flag over plain http');
    assert.match(cookie, new RegExp(`;\\s*Max-Age=${declared.lifetime_seconds}(;|$)`));

    const [row] = await inquiryByEmail(server, 'receipt@example.com');
    const thanks = await fetch(`${server.url}/thanks`, { headers: { cookie: cookie.split(';')[0] } });
    assert.equal(thanks.status, 200);
    assert.equal(thanks.headers.get('set-cookie'), null);
    assert.ok((await thanks.text()).includes(row.reference), 'the thank-you page shows the reference');

    // A forged receipt shows no reference.
    const forged = await (await fetch(`${server.url}/thanks`, { headers: { cookie: `lt_receipt=demo~${row.reference}` } })).text();
    assert.ok(!forged.includes(row.reference));

    for (const path of ['/', '/demo', '/contact', '/privacy', '/privacy/versions', '/privacy/retention', '/security', '/privacy/preferences', '/thanks', '/healthz', '/static/site.css', '/no-such-page']) {
      const page = await fetch(`${server.url}${path}`);
      assert.equal(page.headers.get('set-cookie'), null, `GET ${path} set a cookie`);
    }
  });

  test('each field has its message; the form comes back (422) with the input kept, focus and a summary; nothing is written', async () => {
    const before = await counts(server);
    const long = (n: number) => 'x'.repeat(n);
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ name: '' }, 'name', /^Error: Enter your full name$/],
      [{ name: '   ' }, 'name', /Enter your full name/],
      [{ name: long(201) }, 'name', /Full name must be 200 characters or fewer/],
      [{ name: 'Ada\r\nBcc: evil@example.com' }, 'name', /Full name must be on one line/],
      [{ name: 'Ada\nLovelace' }, 'name', /Full name must be on one line/],
      [{ company: '' }, 'company', /Enter your company/],
      [{ company: long(201) }, 'company', /Company must be 200 characters or fewer/],
      [{ company: 'Acme\r\nInc' }, 'company', /Company must be on one line/],
      [{ role: '' }, 'role', /Enter your role/],
      [{ role: long(201) }, 'role', /Role must be 200 characters or fewer/],
      [{ role: 'Boss\rX' }, 'role', /Role must be on one line/],
      [{ email: '' }, 'email', /Enter your work email address/],
      [{ email: `${long(64)}@${long(180)}.example.com` }, 'email', /Email address must be 254 characters or fewer/],
      [{ email: 'not-an-email' }, 'email', /format name@company\.com/],
      [{ email: 'ada@' }, 'email', /format name@company\.com/],
      [{ email: 'ada@localhost' }, 'email', /format name@company\.com/],
      [{ email: 'Ada <ada@example.com>' }, 'email', /format name@company\.com/],
      [{ email: 'ada@example.com\r\nBcc: evil@example.com' }, 'email', /format name@company\.com/],
      // Quoted local parts: the mailer could read one as two recipients, or rewrite it.
      [{ email: '"a,b"@example.com' }, 'email', /format name@company\.com/],
      [{ email: '"x"@example.com' }, 'email', /format name@company\.com/],
      [{ email: '"ada lovelace"@example.com' }, 'email', /format name@company\.com/],
      [{ email: 'ada."x"@example.com' }, 'email', /format name@company\.com/],
      [{ country: '' }, 'country', /^Error: Choose your country$/],
      [{ country: 'XX' }, 'country', /Choose your country from the list/],
      [{ country: 'GBR' }, 'country', /Choose your country from the list/],
      [{ context: long(5001) }, 'context', /5000 characters or fewer/],
    ];
    for (const [change, field, message] of cases) {
      const fields = { ...validFields, marketing_opt_in: 'yes', ...change };
      const label = JSON.stringify(change).slice(0, 60);
      const res = await submitForm(server.url, 'demo', fields);
      assert.equal(res.status, 422, label);
      assert.equal(res.headers.get('set-cookie'), null);
      const body = await res.text();
      const msg = errorMessage(body, field);
      assert.ok(msg, `${label}: a message at ${field}`);
      assert.match(msg.replace(/<[^>]+>/g, ''), message, label);
      assert.equal([...body.matchAll(/class="error-message"/g)].length, 1, `${label}: only ${field} is in error`);
      assert.match(control(body, field), /aria-invalid="true"/);
      assert.deepEqual(autofocused(body), [field], `${label}: focus on ${field}`);
      const summary = /<div class="error-summary"[\s\S]*?<\/div>/.exec(body)?.[0] ?? '';
      assert.match(summary, new RegExp(`<a href="#${field}">`), `${label}: summary links to ${field}`);
      assert.ok(tokenIn(body), 'a token to send again with');
      assertInputKept(body, fields, label);
    }
    assert.deepEqual(delta(await counts(server), before), nothingAdded, 'nothing written for invalid input');
  });

  test('with several errors, focus goes to the first field in form order and the summary lists each', async () => {
    const res = await submitForm(server.url, 'contact', { ...validFields, context: 'c'.repeat(5001), role: '', email: 'nope' });
    assert.equal(res.status, 422);
    const body = await res.text();
    assert.deepEqual(autofocused(body), ['email']);
    const summary = /<div class="error-summary"[\s\S]*?<\/div>/.exec(body)![0];
    assert.deepEqual([...summary.matchAll(/href="#([a-z]+)"/g)].map((m) => m[1]), ['email', 'role', 'context']);
  });

  test('the input comes back HTML-escaped, never raw', async () => {
    const before = await counts(server);
    const fields = {
      ...validFields,
      name: '<script>alert(1)</script>',
      company: '"><img src=x onerror=alert(1)>',
      role: "Tom & Jerry's <b>",
      context: '</textarea><script>alert(2)</script>',
      email: 'bad',
    };
    const res = await submitForm(server.url, 'demo', fields);
    assert.equal(res.status, 422);
    const body = await res.text();
    assert.ok(!body.includes('<script>alert('), 'raw script tag echoed');
    assert.ok(!body.includes('<img src=x'), 'raw img tag echoed');
    assert.ok(!body.includes('<b>'), 'raw b tag echoed');
    assert.match(control(body, 'name'), /value="&lt;script&gt;alert\(1\)&lt;\/script&gt;"/);
    assert.match(control(body, 'company'), /value="&quot;&gt;&lt;img src=x onerror=alert\(1\)&gt;"/);
    assert.match(control(body, 'role'), /value="Tom &amp; Jerry&#39;s &lt;b&gt;"/);
    assert.ok(body.includes('>&lt;/textarea&gt;&lt;script&gt;alert(2)&lt;/script&gt;</textarea>'));
    assert.deepEqual(delta(await counts(server), before), nothingAdded);
  });

  test('a lower-case country code is accepted; free-mail is accepted and flagged; disposable mail is refused clearly', async () => {
    const res = await submitForm(server.url, 'demo', { ...validFields, email: 'Someone@GMail.com', country: 'ie' });
    assert.equal(res.status, 303);
    const [row] = await inquiryByEmail(server, 'Someone@gmail.com');
    assert.ok(row, 'stored with the domain lower-cased');
    assert.equal(row.country, 'IE');
    assert.equal(Number(row.free_mail), 1);
    const staff = await db().selectFrom('outbox').select('subject').where('inquiry_id', '=', row.id).where('kind', '=', 'staff-notification').executeTakeFirstOrThrow();
    assert.match(staff.subject, /free-mail/, 'staff see the flag');

    const before = await counts(server);
    for (const email of ['x@mailinator.com', 'y@MAILINATOR.COM', 'z@guerrillamail.com']) {
      const refused = await submitForm(server.url, 'demo', { ...validFields, email });
      assert.equal(refused.status, 422, email);
      const body = await refused.text();
      assert.match(errorMessage(body, 'email') ?? '', /can’t accept addresses from disposable-mail services\. Please use your work email address\./);
      assertInputKept(body, { ...validFields, email });
    }
    assert.deepEqual(delta(await counts(server), before), nothingAdded);
  });

  test('the opt-in box is unticked by default; ticked stores a consent record, unticked stores none', async () => {
    const { policy, current } = server.running.deps.policy;
    for (const form of forms) {
      const page = await (await fetch(`${server.url}/${form}`)).text();
      const box = control(page, 'marketing_opt_in');
      assert.match(box, /type="checkbox"/);
      assert.doesNotMatch(box, /checked/);
      assert.ok(page.includes(escapeHtml(policy.marketing.checkbox_wording)), 'the wording from the policy is shown');
    }
    const before = await counts(server);
    assert.equal((await submitForm(server.url, 'demo', { ...validFields, email: 'no-optin@example.com' })).status, 303);
    assert.equal(delta(await counts(server), before).consent_record, 0);
    assert.equal((await submitForm(server.url, 'contact', { ...validFields, email: 'optin@example.com', marketing_opt_in: 'yes' })).status, 303);
    const records = await consentRecordsByEmail(db(), 'no-optin@example.com', 'optin@example.com');
    assert.equal(records.length, 1);
    const [inquiry] = await inquiryByEmail(server, 'optin@example.com');
    assert.equal(records[0].email, 'optin@example.com');
    assert.equal(records[0].inquiry_id, inquiry.id);
    assert.equal(records[0].action, 'granted');
    assert.equal(records[0].purpose, policy.marketing.purpose);
    assert.equal(records[0].wording, policy.marketing.checkbox_wording);
    assert.equal(records[0].notice_version, current.version);
    assert.equal(records[0].channel, 'web-form:contact');
  });

  test('cross-site posts are refused and store nothing; a post without browser headers passes', async () => {
    const before = await counts(server);
    const token = await formToken(server.url, 'demo');
    const body = new URLSearchParams({ ...validFields, email: 'xsite@example.com', form_token: token });
    const refused: Array<Record<string, string>> = [
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'null' },
      { origin: 'http://127.0.0.1:1' },
    ];
    for (const headers of refused) {
      const res = await rawPost(`${server.url}/demo`, body, headers);
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.equal(res.headers.get('set-cookie'), null);
      assert.match(await res.text(), /Nothing was stored/);
    }
    assert.deepEqual(delta(await counts(server), before), nothingAdded);
    assert.equal((await inquiryByEmail(server, 'xsite@example.com')).length, 0);

    // curl and server-side clients send neither header: not a browser's cross-site post.
    const plain = await rawPost(`${server.url}/demo`, body);
    assert.equal(plain.status, 303);
    assert.equal((await inquiryByEmail(server, 'xsite@example.com')).length, 1);
  });

  test('a filled honeypot claims no receipt: the form comes back (422) with the input kept and a neutral message; sending again with the trap filled still stores nothing', async () => {
    const before = await counts(server);
    const fields = { ...validFields, email: 'autofill@example.com', marketing_opt_in: 'yes' };
    const first = await submitForm(server.url, 'demo', { ...fields, leave_blank: 'Ada Lovelace' });
    assert.equal(first.status, 422, 'never a 303 to a page saying it was received');
    assert.equal(first.headers.get('location'), null);
    assert.equal(receiptCookie(first), undefined);
    const body = await first.text();
    assert.doesNotMatch(body, /we have|received|thank/i, 'nothing claims receipt');
    // The message reads exactly like a token we could not verify: the trap is not named.
    assert.match(body, /could not verify that this form came from our website\. Please check your details and send it again/);
    const summary = /<div class="error-summary"[\s\S]*?<\/div>/.exec(body)?.[0] ?? '';
    assert.doesNotMatch(summary, /spam|trap|leave|empty|bot|hidden/i, 'the message does not teach the rule');
    assertInputKept(body, fields);
    assert.match(control(body, 'leave_blank'), /value=""/, 'the trap comes back empty');
    const token = tokenIn(body);
    assert.ok(token, 'a token to send again with');

    // Sent again with the trap still filled (a bot): still nothing stored.
    const again = await postForm(server.url, '/demo', { ...fields, leave_blank: 'http://spam.example', form_token: token });
    assert.equal(again.status, 422);
    assert.equal(receiptCookie(again), undefined);
    assert.deepEqual(delta(await counts(server), before), nothingAdded);
    assert.ok(!(await everythingStored(server)).includes('autofill@example.com'));

    // A person sending the returned form as it is (trap empty) gets through.
    const person = await postForm(server.url, '/demo', { ...fields, leave_blank: '', form_token: tokenIn(await again.text())! });
    assert.equal(person.status, 303);
    assert.equal(delta(await counts(server), before).inquiry, 1);
  });

  test('a missing or forged token comes back (422) with the input kept and a fresh token that works', async () => {
    const before = await counts(server);
    const real = await formToken(server.url, 'demo');
    const tampered = real.slice(0, -2) + (real.endsWith('AA') ? 'BB' : 'AA');
    const otherForm = await formToken(server.url, 'contact');
    const fields = { ...validFields, email: 'token@example.com', marketing_opt_in: 'yes' };
    const attempts: Array<Record<string, string>> = [fields, { ...fields, form_token: '' }, { ...fields, form_token: 'forged.token' }, { ...fields, form_token: tampered }, { ...fields, form_token: otherForm }];
    let fresh = '';
    for (const attempt of attempts) {
      const res = await postForm(server.url, '/demo', attempt);
      assert.equal(res.status, 422, attempt.form_token ?? '(no token)');
      const body = await res.text();
      assert.match(body, /could not verify that this form came from our website\. Please check your details and send it again/);
      assertInputKept(body, fields);
      fresh = tokenIn(body)!;
      assert.ok(fresh && fresh !== attempt.form_token, 'a fresh token');
    }
    assert.deepEqual(delta(await counts(server), before), nothingAdded);
    assert.equal((await postForm(server.url, '/demo', { ...fields, form_token: fresh })).status, 303, 'the returned form can be sent');
  });

  test('the same form sent twice (double click) is one inquiry and both answers succeed', async () => {
    const before = await counts(server);
    const token = await formToken(server.url, 'demo');
    const fields = { ...validFields, email: 'double@example.com', marketing_opt_in: 'yes', form_token: token };
    const [a, b] = await Promise.all([postForm(server.url, '/demo', fields), postForm(server.url, '/demo', fields)]);
    assert.equal(a.status, 303);
    assert.equal(b.status, 303);
    const again = await postForm(server.url, '/demo', fields);
    assert.equal(again.status, 303, 'a later resend of the same form');
    assert.deepEqual(delta(await counts(server), before), { inquiry: 1, outbox: 2, consent_record: 1, audit_log: 1, suppression: 0 });
    const [row] = await inquiryByEmail(server, 'double@example.com');
    for (const res of [a, b, again]) {
      const page = await (await fetch(`${server.url}/thanks`, { headers: { cookie: receiptCookie(res)!.split(';')[0] } })).text();
      assert.ok(page.includes(row.reference), 'every answer shows the one reference');
    }
  });

  test('the largest valid form in a 4-byte script (every field at its maximum) is stored, not refused as too large', async () => {
    const { fields } = server.running.deps.policy.policy;
    const wide = (n: number) => '𠀀'.repeat(n); // CJK Extension B: 4 UTF-8 bytes, 12 once percent-encoded
    const email = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`;
    assert.equal(email.length, fields.email.max_length ?? 254);
    const maximal = {
      name: wide(fields.name.max_length ?? 200),
      email,
      company: wide(fields.company.max_length ?? 200),
      role: wide(fields.role.max_length ?? 200),
      country: 'JP',
      context: wide(fields.context.max_length ?? 5000),
      marketing_opt_in: 'yes',
    };
    const encoded = new URLSearchParams({ ...maximal, form_token: await formToken(server.url, 'contact') }).toString();
    assert.ok(Buffer.byteLength(encoded) > 64 * 1024, `the test form is large: ${Buffer.byteLength(encoded)} bytes`);
    const before = await counts(server);
    const res = await rawPost(`${server.url}/contact`, encoded, { 'sec-fetch-site': 'same-origin' });
    assert.equal(res.status, 303, `answered ${res.status}`);
    assert.deepEqual(delta(await counts(server), before), { inquiry: 1, outbox: 2, consent_record: 1, audit_log: 1, suppression: 0 });
    assert.ok((await everythingStored(server)).includes(maximal.context), 'the whole context is stored');
  });

  test('bytes that are not UTF-8 are refused with a field message ("characters we can\'t read"), the form re-rendered, nothing stored', async () => {
    const before = await counts(server);
    const valid = new URLSearchParams(validFields);
    const cases: Array<[string, string, string]> = [
      ['name', '%FF%FE', 'name'],
      ['company', 'Acme%C0%AF', 'company'],
      ['role', '%ED%A0%80', 'role'], // an encoded surrogate is not UTF-8 either
      ['context', 'Hello%E0%A4', 'context'],
      ['email', 'ada%FF@example.com', 'email'],
    ];
    for (const [field, encoded, errorField] of cases) {
      const params = new URLSearchParams(valid);
      params.delete(field);
      params.set('form_token', await formToken(server.url, 'demo'));
      const body = `${params.toString()}&${field}=${encoded}`;
      const res = await rawPost(`${server.url}/demo`, body, { 'sec-fetch-site': 'same-origin' });
      assert.equal(res.status, 422, `${field}=${encoded}`);
      const page = await res.text();
      assert.match(errorMessage(page, errorField) ?? '', /contains characters we can(&#39;|’)t read/, `${field}=${encoded}`);
      assert.equal([...page.matchAll(/class="error-message"/g)].length, 1, `${field}: only ${errorField} is in error`);
      const kept = { ...validFields } as Record<string, string>;
      delete kept[field];
      assertInputKept(page, kept, field);
    }
    // Raw bytes that were never percent-encoded are read the same way.
    const token = await formToken(server.url, 'demo');
    const body = new URLSearchParams({ ...validFields, form_token: token });
    body.delete('name');
    const res = await fetch(`${server.url}/demo`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      body: Buffer.concat([Buffer.from(`${body.toString()}&name=`), Buffer.from([0x41, 0xff, 0x42])]),
    });
    assert.equal(res.status, 422);
    assert.match(errorMessage(await res.text(), 'name') ?? '', /contains characters we can(&#39;|’)t read/);
    assert.deepEqual(delta(await counts(server), before), nothingAdded);
  });

  test('a body over BODY_LIMIT_BYTES answers 413, other content types 415, malformed bodies 4xx; never 500, nothing stored', async () => {
    const limit = server.running.deps.config.bodyLimitBytes;
    // The longest valid context in 2-byte characters still fits under the limit.
    const fits = new URLSearchParams({ ...validFields, email: 'limit@example.com', context: 'é'.repeat(5000), form_token: await formToken(server.url, 'demo') }).toString();
    assert.ok(Buffer.byteLength(fits) < limit);
    assert.equal((await rawPost(`${server.url}/demo`, fits)).status, 303, 'the longest valid form fits');

    const before = await counts(server);
    const token = await formToken(server.url, 'demo');
    const over = new URLSearchParams({ ...validFields, email: 'over@example.com', form_token: token, context: 'z'.repeat(limit) }).toString();
    const big = await rawPost(`${server.url}/demo`, over);
    assert.equal(big.status, 413);
    assert.match(await big.text(), /larger than we accept/);
    // Sent in chunks without a Content-Length, the limit still holds.
    const chunked = await fetch(`${server.url}/demo`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new ReadableStream({
        start(c) {
          const bytes = new TextEncoder().encode(over);
          for (let i = 0; i < bytes.length; i += 4096) c.enqueue(bytes.subarray(i, i + 4096));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(chunked.status, 413);

    const wellFormed = new URLSearchParams({ ...validFields, email: 'type@example.com', form_token: token }).toString();
    for (const type of ['application/json', 'text/plain', 'multipart/form-data; boundary=x', 'text/html', 'application/xml']) {
      const body = type === 'application/json' ? JSON.stringify({ ...validFields, form_token: token }) : wellFormed;
      const res = await fetch(`${server.url}/demo`, { method: 'POST', headers: { 'content-type': type }, body });
      assert.equal(res.status, 415, type);
      assert.match(await res.text(), /application\/x-www-form-urlencoded only/);
    }
    const untyped = await fetch(`${server.url}/demo`, { method: 'POST', body: new TextEncoder().encode(wellFormed) });
    assert.equal(untyped.status, 415, 'no content type');

    const malformed: Array<string | Uint8Array<ArrayBuffer>> = [
      `%%%=%E0%A4%A&name=%ZZ&form_token=${encodeURIComponent(token)}`,
      `name=%ED%A0%80&email=%FF%FE&form_token=${encodeURIComponent(token)}`,
      new Uint8Array([0x6e, 0x61, 0x6d, 0x65, 0x3d, 0xff, 0xfe, 0x26, 0x3d, 0x3d, 0x26]),
      `name[]=a&name[x]=b&__proto__[polluted]=1&constructor[prototype][x]=1&form_token=${encodeURIComponent(token)}`,
      `${wellFormed}&name=second&email=second@example.com`,
      '&&&===&&&',
    ];
    for (const body of malformed) {
      const res = await fetch(`${server.url}/demo`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }, body });
      assert.ok(res.status >= 400 && res.status < 500, `${String(body).slice(0, 40)} answered ${res.status}`);
      assert.doesNotMatch(await res.text(), /\bat [\w.]+ \(|node:internal/, 'no stack trace');
    }
    assert.deepEqual(delta(await counts(server), before), nothingAdded);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
  });

  test('security headers on every page: strict CSP, no framing, nosniff, same-origin referrer, no HSTS over http', async () => {
    const invalid = await submitForm(server.url, 'demo', { ...validFields, email: 'bad' });
    const responses: Array<[string, Response]> = [['422 form', invalid]];
    for (const path of ['/', '/demo', '/contact', '/privacy', '/privacy/versions', '/security', '/thanks', '/no-such-page']) responses.push([path, await fetch(`${server.url}${path}`)]);
    for (const [label, res] of responses) {
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/, label);
      assert.match(csp, /frame-ancestors 'none'/, label);
      assert.match(csp, /script-src 'self'(;|$)/, label);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:|\*/, `${label}: CSP allows inline code or another origin`);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', label);
      assert.equal(res.headers.get('referrer-policy'), 'same-origin', label);
      assert.equal(res.headers.get('strict-transport-security'), null, `${label}: HSTS over http`);
      const body = await res.text();
      assert.doesNotMatch(body, /<script(?![^>]*\bsrc="\/)[^>]*>/, `${label}: inline or third-party script`);
    }
  });

  test('/healthz answers 200 when the database is reachable', async () => {
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { status: string }).status, 'ok');
  });

  test('each stored inquiry has one audit entry (inquiry.created, entity id = inquiry id) without personal values', async () => {
    const people = [
      { ...validFields, name: 'Auditia Person', email: 'auditia@audit.example.com', company: 'Auditcorp', role: 'Ledger Keeper', context: 'Sixty audited sites' },
      { ...validFields, name: 'Second Auditee', email: 'second@audit.example.com', company: 'Checkworks', role: 'Verifier', context: 'Nine depots', marketing_opt_in: 'yes' },
    ];
    for (const p of people) assert.equal((await submitForm(server.url, 'contact', p)).status, 303);
    for (const p of people) {
      const [row] = await inquiryByEmail(server, p.email);
      const entries = await db().selectFrom('audit_log').selectAll().where('entity_id', '=', row.id).execute();
      assert.equal(entries.length, 1);
      assert.equal(entries[0].action, 'inquiry.created');
      assert.equal(entries[0].entity_type, 'inquiry');
      const details = JSON.parse(entries[0].details) as Record<string, unknown>;
      for (const v of Object.values(details)) assert.ok(['number', 'boolean'].includes(typeof v) || /^[a-z_-]{1,20}$/.test(String(v)), `audit detail ${String(v)}`);
      const text = JSON.stringify(entries[0]);
      for (const value of [p.name, p.email, p.email.split('@')[0], p.company, p.role, p.context]) assert.ok(!text.includes(value), `audit holds ${value}`);
    }
    // And across everything this server stored.
    const inquiries = await db().selectFrom('inquiry').select('id').execute();
    const created = await db().selectFrom('audit_log').select('entity_id').where('action', '=', 'inquiry.created').execute();
    assert.deepEqual(created.map((c) => c.entity_id).sort(), inquiries.map((i) => i.id).sort());
  });
});

describe('form intake settings', () => {
  test('with PUBLIC_URL on https: Secure cookie and HSTS', async () => {
    const server = await startTestServer({ env: { PUBLIC_URL: 'https://www.lumetrax.example' } });
    try {
      const res = await submitForm(server.url, 'demo', validFields, { origin: 'https://www.lumetrax.example' });
      assert.equal(res.status, 303);
      const cookie = receiptCookie(res) ?? '';
      assert.match(cookie, /;\s*Secure/i);
      assert.match(cookie, /;\s*HttpOnly/i);
      assert.match(cookie, /;\s*SameSite=Strict/i);
      for (const path of ['/', '/demo']) {
        assert.match((await fetch(`${server.url}${path}`)).headers.get('strict-transport-security') ?? '', /max-age=[1-9]\d*/);
      }
    } finally {
      await server.close();
    }
  });

  test('too fast and expired forms come back (422) with a way forward, then succeed', async () => {
    let now = Date.parse('2026-11-25T10:00:00Z');
    const server = await startTestServer({ env: { FORM_MIN_FILL_SECONDS: '5' }, now: () => new Date(now) });
    try {
      const before = await counts(server);
      const fields = { ...validFields, email: 'fast@example.com' };
      const fast = await postForm(server.url, '/demo', { ...fields, form_token: await formToken(server.url, 'demo') });
      assert.equal(fast.status, 422);
      const fastBody = await fast.text();
      assert.match(fastBody, /quicker than we expected\. Please check your details, then send the form again/);
      assertInputKept(fastBody, fields);
      assert.deepEqual(delta(await counts(server), before), nothingAdded);
      // The visitor reads the returned form for a few seconds and sends it again.
      now += 6_000;
      assert.equal((await postForm(server.url, '/demo', { ...fields, form_token: tokenIn(fastBody)! })).status, 303);
      assert.equal((await inquiryByEmail(server, 'fast@example.com')).length, 1);

      const lateFields = { ...validFields, email: 'late@example.com' };
      const old = await formToken(server.url, 'demo');
      now += 25 * 3600_000;
      const mid = await counts(server);
      const expired = await postForm(server.url, '/demo', { ...lateFields, form_token: old });
      assert.equal(expired.status, 422);
      const expiredBody = await expired.text();
      assert.match(expiredBody, /open for a long time\. Please check your details and send it again/);
      assertInputKept(expiredBody, lateFields);
      assert.deepEqual(delta(await counts(server), mid), nothingAdded);
      now += 6_000;
      assert.equal((await postForm(server.url, '/demo', { ...lateFields, form_token: tokenIn(expiredBody)! })).status, 303);
      assert.equal((await inquiryByEmail(server, 'late@example.com')).length, 1);
    } finally {
      await server.close();
    }
  });

  test('the rate limit answers 429 with Retry-After and the form kept; the client address is stored and logged nowhere', async () => {
    // Behind a proxy, so the client address is a distinctive one to search for.
    const server = await startTestServer({ env: { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_SECONDS: '3', TRUST_PROXY: 'true' } });
    const client = { 'x-forwarded-for': '203.0.113.77' };
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await submitForm(server.url, 'contact', { ...validFields, email: `rate${i}@example.com` }, client)).status);
      assert.deepEqual(statuses, [303, 303, 303]);
      const before = await counts(server);
      const fields = { ...validFields, email: 'rate3@example.com', marketing_opt_in: 'yes' };
      const limited = await submitForm(server.url, 'contact', fields, client);
      assert.equal(limited.status, 429);
      const retryAfter = Number(limited.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 3, `Retry-After ${retryAfter}`);
      const body = await limited.text();
      assert.match(body, /Too many requests\. Please wait \d+ seconds and try again/);
      assert.match(body, /<form class="inquiry-form"/, 'the form is re-rendered');
      assertInputKept(body, fields);
      assert.deepEqual(delta(await counts(server), before), nothingAdded);

      // Another client is not limited by the first one's posts.
      assert.equal((await submitForm(server.url, 'contact', { ...validFields, email: 'other@example.com' }, { 'x-forwarded-for': '198.51.100.9' })).status, 303);
      // After Retry-After, the returned form goes through.
      await sleep(retryAfter * 1000 + 200);
      assert.equal((await postForm(server.url, '/contact', { ...fields, form_token: tokenIn(body)! }, client)).status, 303);

      const stored = await everythingStored(server);
      assert.ok(stored.includes('rate3@example.com'));
      for (const address of ['203.0.113.77', '198.51.100.9']) {
        assert.ok(!stored.includes(address), `${address} is stored`);
        assert.ok(!server.logs.join('').includes(address), `${address} is in a log line`);
      }
    } finally {
      await server.close();
    }
  });

  test('logs never contain submitted personal data (valid, invalid, refused and rate-limited submissions)', async () => {
    const server = await startTestServer({ env: { RATE_LIMIT_MAX: '2', TRUST_PROXY: 'true' } });
    const person = (n: number) => ({
      name: `Zebediah Quux${n}`,
      email: `zq${n}.person@logcheck${n}.example.com`,
      company: `Quuxcorp Logistics ${n}`,
      role: `Chief Quux Officer ${n}`,
      country: 'FR',
      context: `Forty-two quux sites, batch ${n}`,
    });
    const from = (n: number) => ({ 'x-forwarded-for': `192.0.2.${100 + n}` });
    try {
      const outcomes: number[] = [];
      outcomes.push((await submitForm(server.url, 'demo', person(1), from(1))).status);
      outcomes.push((await submitForm(server.url, 'contact', { ...person(2), marketing_opt_in: 'yes' }, from(2))).status);
      outcomes.push((await submitForm(server.url, 'demo', { ...person(3), email: 'zq3.person@@bad', name: `${person(3).name}\r\nX` }, from(3))).status);
      outcomes.push((await postForm(server.url, '/demo', { ...person(4), form_token: 'forged' }, from(4))).status);
      outcomes.push((await submitForm(server.url, 'demo', person(5), { ...from(5), 'sec-fetch-site': 'cross-site' })).status);
      outcomes.push((await submitForm(server.url, 'demo', { ...person(6), leave_blank: 'x' }, from(6))).status);
      // Over the body limit, which is sized so that any valid form fits.
      outcomes.push((await submitForm(server.url, 'demo', { ...person(7), context: 'q'.repeat(200_000) }, from(7))).status);
      outcomes.push((await submitForm(server.url, 'demo', { ...person(8), email: 'zq8@mailinator.com' }, from(8))).status);
      for (let i = 0; i < 3; i++) outcomes.push((await submitForm(server.url, 'contact', { ...person(9), email: `zq9.${i}@logcheck9.example.com` }, from(9))).status);
      assert.deepEqual(outcomes, [303, 303, 422, 422, 403, 422, 413, 422, 303, 303, 429]);

      const lines = server.logs.join('').split('\n').filter(Boolean);
      const entries = lines.map((l) => JSON.parse(l) as { msg?: string });
      assert.ok(entries.filter((e) => e.msg === 'inquiry stored').length >= 4, 'the submissions were logged');
      const joined = lines.join('\n');
      for (let n = 1; n <= 9; n++) {
        const p = person(n);
        for (const value of [p.name, p.email, p.email.split('@')[0], `logcheck${n}.example.com`, p.company, p.role, p.context, `192.0.2.${100 + n}`]) {
          assert.ok(!joined.includes(value), `a log line contains ${value}`);
        }
      }
      for (const value of ['zq3.person@@bad', 'zq8@mailinator.com', 'zq9.0@', 'zq9.2@']) assert.ok(!joined.includes(value), `a log line contains ${value}`);
    } finally {
      await server.close();
    }
  });

  test('a double click landing on two instances over one database is one inquiry, and both answers succeed', async () => {
    const a = await startTestServer();
    const b = await startTestServer({ database: a.database });
    try {
      const before = await counts(a);
      for (let i = 0; i < 10; i++) {
        const fields = { ...validFields, email: `twice${i}@instances.example.com`, form_token: await formToken(a.url, 'demo') };
        const answers = await Promise.all([postForm(a.url, '/demo', fields), postForm(b.url, '/demo', fields)]);
        assert.deepEqual(answers.map((r) => r.status), [303, 303], `pair ${i}`);
        assert.ok(answers.every((r) => receiptCookie(r)), 'both answers carry the receipt');
      }
      assert.deepEqual(delta(await counts(a), before), { inquiry: 10, outbox: 20, consent_record: 0, audit_log: 10, suppression: 0 });
    } finally {
      await b.close();
      await a.close();
    }
  });

  test('free mail is refused when the policy says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lumetrax-policy-'));
    // The policy refers to its notice folder and regional table by relative path, so they go beside it.
    cpSync(join(projectRoot, 'policy'), dir, { recursive: true });
    const file = join(dir, 'lumetrax.yaml');
    assert.ok(existsSync(join(dir, 'dsr-deadlines.json')) && existsSync(join(dir, 'notice')));
    const original = readFileSync(file, 'utf8');
    assert.match(original, /^\s*free_mail: flag\b/m);
    writeFileSync(file, original.replace(/^(\s*)free_mail: flag\b/m, '$1free_mail: refuse'));
    const server = await startTestServer({ env: { POLICY_FILE: file } });
    try {
      assert.equal(server.running.deps.policy.policy.email_rules.free_mail, 'refuse');
      const before = await counts(server);
      const fields = { ...validFields, email: 'someone@gmail.com' };
      const res = await submitForm(server.url, 'demo', fields);
      assert.equal(res.status, 422);
      const body = await res.text();
      assert.match(errorMessage(body, 'email') ?? '', /Please use your work email address rather than a personal one/);
      assertInputKept(body, fields);
      assert.deepEqual(delta(await counts(server), before), nothingAdded);
      assert.equal((await submitForm(server.url, 'demo', { ...validFields, email: 'someone@company.example.com' })).status, 303, 'work addresses still pass');
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('with the database gone after start: the form still renders, a valid post answers 503 with the input kept, /healthz 503', async (t) => {
    if (!(await postgresReachable())) {
      t.skip(`PostgreSQL not reachable at ${PG_BASE_URL}: the database-away test needs a server to lose`);
      return;
    }
    // The service reaches PostgreSQL through a proxy this test can cut.
    const sockets = new Set<Socket>();
    const proxy = createServer((client) => {
      const upstream = connect(5432, '127.0.0.1');
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const port = (proxy.address() as AddressInfo).port;
    const database = await createTestDatabase('postgres');
    const viaProxy = database.url.replace('127.0.0.1:5432', `127.0.0.1:${port}`);
    const server = await startTestServer({ database: { ...database, target: { kind: 'postgres', url: viaProxy }, url: viaProxy, drop: async () => undefined } });
    try {
      const page = await fetch(`${server.url}/demo`);
      assert.equal(page.status, 200);
      const token = tokenIn(await page.text());
      assert.ok(token, 'the form renders with its token');
      proxy.close();
      for (const s of sockets) s.destroy();

      const fields = { ...validFields, marketing_opt_in: 'yes' };
      const res = await postForm(server.url, '/demo', { ...fields, form_token: token });
      assert.equal(res.status, 503);
      assert.ok(Number(res.headers.get('retry-after')) > 0, 'Retry-After');
      assert.equal(res.headers.get('set-cookie'), null);
      const body = await res.text();
      assert.match(body, /nothing was stored/);
      assert.match(body, /<form class="inquiry-form"/);
      assertInputKept(body, fields);
      assert.ok(tokenIn(body), 'a token to try again with');
      assert.equal((await fetch(`${server.url}/demo`)).status, 200, 'pages still render');
      assert.equal((await fetch(`${server.url}/healthz`)).status, 503);
      assert.ok(!server.logs.join('').includes(validFields.email), 'the failed submission is not logged');
    } finally {
      await server.close().catch(() => undefined);
      proxy.close();
      await database.drop();
    }
  });

});
