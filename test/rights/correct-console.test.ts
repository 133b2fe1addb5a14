// Correction from the console (issue 9, "Correction"): on a verified correction request
// the privacy role sees the person's fields and their inquiries', edits them, and the
// request is fulfilled; the audit trail and the request's history name records and
// fields, never a value; the requester is mailed which fields changed. Bad values re-show
// the form (422) with the input kept and write nothing; an unchanged form changes nothing;
// an unverified request and other roles are refused.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { get, makeStaff, post } from '../auth/helpers.ts';
import { postForm, submitForm, validFields } from '../support/server.ts';
import { assertLogsClean, audit, delivered, events, requests, submitRequestForm, verifyLinkIn, withDesk, type DeskEnv } from './support.ts';

const person = { ...validFields, email: 'grace.hopper@compilers.example.org', name: 'Grace Hopper', company: 'Eckert Mauchly', role: 'Programmer', context: 'Three sites' };

/** A demo inquiry and a correction request for its address; verified unless told not to. */
async function correctionRequest(env: DeskEnv, verify = true) {
  const { server, clock } = env;
  assert.equal((await submitForm(server.url, 'demo', person)).status, 303);
  await submitRequestForm(server.url, { email: person.email, type: 'correction', jurisdiction: 'IE', message: 'My name is spelt wrong' });
  const [r] = await requests(server);
  const mails = await delivered(env, 3);
  if (verify) await postForm(server.url, new URL(verifyLinkIn(mails.find((m) => (m.parsed.text ?? '').includes('/verify/'))!)).pathname, {});
  const db = server.running.deps.storage.db;
  const inquiry = await db.selectFrom('inquiry').selectAll().executeTakeFirstOrThrow();
  const staff = await makeStaff(server, clock, 'privacy');
  // Every field as the console form sends it, with its current value.
  const form = {
    csrf: staff.csrf,
    'person.name': person.name,
    'person.email': person.email,
    [`inquiry.${inquiry.id}.company`]: person.company,
    [`inquiry.${inquiry.id}.role`]: person.role,
    [`inquiry.${inquiry.id}.country`]: person.country,
    [`inquiry.${inquiry.id}.context`]: person.context,
  };
  return { r, inquiry, staff, form, db };
}

async function snapshot(env: DeskEnv) {
  const db = env.server.running.deps.storage.db;
  return {
    person: await db.selectFrom('person').select(['name', 'email']).execute(),
    inquiry: await db.selectFrom('inquiry').select(['company', 'role', 'country', 'context']).execute(),
    request: (await requests(env.server)).map((r) => r.status),
    corrections: (await audit(env.server)).filter((a) => /corrected|fulfilled/.test(a.action)).length,
    outbox: (await db.selectFrom('outbox').select('id').execute()).length,
  };
}

describe('correction from the console', () => {
  test('the form shows the current values; saving changes them, fulfils the request and mails the changed fields', async () => {
    await withDesk(async (env) => {
      const { server } = env;
      const { r, inquiry, staff, form, db } = await correctionRequest(env);
      const page = await get(server.url, `/console/requests/${r.id}`, staff.cookie);
      assert.equal(page.status, 200);
      const body = await page.text();
      assert.match(body, /<h2>Correct their data<\/h2>/);
      for (const [key, value] of Object.entries(form).filter(([k]) => k !== 'csrf' && !k.endsWith('context'))) {
        assert.ok(body.includes(`name="${key}" type="${key === 'person.email' ? 'email' : 'text'}" value="${value}"`), `the form shows ${key} with its current value`);
      }
      assert.ok(body.includes(`name="inquiry.${inquiry.id}.context" rows="3">${person.context}</textarea>`));
      assert.ok(body.includes(`Inquiry ${inquiry.reference}`));
      const read = (await audit(server)).filter((a) => a.action === 'rights.person_data_found');
      assert.ok(read.length >= 1 && read.every((a) => !a.details.includes('@') && JSON.parse(a.details).request === r.id), 'showing the form is an audited read');

      const done = await post(server.url, `/console/requests/${r.id}/correct`, { ...form, 'person.name': 'Grace B. Hopper', [`inquiry.${inquiry.id}.company`]: 'Remington Rand' }, staff.cookie);
      assert.equal(done.status, 303);
      assert.equal(done.headers.get('location'), `/console/requests/${r.id}`);
      assert.deepEqual((await db.selectFrom('person').select(['name', 'email']).execute()).map((p) => ({ ...p })), [{ name: 'Grace B. Hopper', email: person.email }]);
      const after = await db.selectFrom('inquiry').selectAll().executeTakeFirstOrThrow();
      assert.deepEqual([after.company, after.role, after.country, after.context], ['Remington Rand', person.role, 'GB', person.context]);
      const [row] = await requests(server);
      assert.equal(row.status, 'fulfilled');
      assert.ok(row.fulfilled_at);
      assert.equal((await events(server, r.id)).at(-1)!.event, 'fulfilled');

      const entries = (await audit(server)).filter((a) => /corrected|privacy_request\.fulfilled/.test(a.action));
      assert.deepEqual(entries.map((e) => [e.action, e.entity_id, JSON.parse(e.details).fields]), [
        ['rights.person_corrected', after.person_id, 'name'],
        ['rights.inquiry_corrected', inquiry.id, 'company'],
        ['privacy_request.fulfilled', r.id, `person.${after.person_id}.name,inquiry.${inquiry.id}.company`],
      ]);
      const trail = JSON.stringify([...entries, ...(await events(server, r.id))]);
      for (const value of ['Grace', 'Hopper', 'Eckert', 'Remington', person.email]) assert.ok(!trail.includes(value), `the audit trail and history hold no value (${value})`);

      const mail = (await delivered(env, 4)).at(-1)!;
      assert.deepEqual(mail.envelopeTo, [person.email]);
      const text = mail.parsed.text ?? '';
      assert.match(mail.parsed.subject ?? '', /corrected/);
      assert.ok(text.includes('- your name'), text);
      assert.ok(text.includes(`- the company on request ${inquiry.reference}`), text);
      for (const value of ['Grace', 'Hopper', 'Eckert', 'Remington']) assert.ok(!text.includes(value), `the mail names fields, not values (${value})`);

      // Fulfilled: the form is gone and another correction is refused.
      assert.doesNotMatch(await (await get(server.url, `/console/requests/${r.id}`, staff.cookie)).text(), /Correct their data/);
      const again = await post(server.url, `/console/requests/${r.id}/correct`, { ...form, 'person.name': 'Someone Else' }, staff.cookie);
      assert.equal(again.status, 409);
      assert.equal((await db.selectFrom('person').select('name').executeTakeFirstOrThrow()).name, 'Grace B. Hopper');
      assertLogsClean(server, [person.email, 'Grace', 'Remington']);
    });
  });

  test('a corrected address: the answer goes to the verified address and names the field', async () => {
    await withDesk(async (env) => {
      const { server } = env;
      const { r, inquiry, staff, form, db } = await correctionRequest(env);
      const next = 'grace.hopper@navy.example.org';
      const done = await post(server.url, `/console/requests/${r.id}/correct`, { ...form, 'person.email': next, [`inquiry.${inquiry.id}.context`]: 'Four sites' }, staff.cookie);
      assert.equal(done.status, 303);
      assert.equal((await db.selectFrom('person').select('email').executeTakeFirstOrThrow()).email, next);
      const mail = (await delivered(env, 4)).at(-1)!;
      assert.deepEqual(mail.envelopeTo, [person.email], 'the address they verified');
      const text = mail.parsed.text ?? '';
      assert.ok(text.includes('- your email address') && text.includes(`- the context you gave on request ${inquiry.reference}`), text);
      assert.ok(!text.includes(next) && !text.includes('Four sites'), 'no value in the mail');
      assert.ok(!JSON.stringify(await audit(server)).includes(next), 'no value in the audit trail');
    });
  });

  test('bad values re-show the form (422) with the input kept and write nothing; an unchanged form changes nothing', async () => {
    await withDesk(async (env) => {
      const { server } = env;
      const { r, inquiry, staff, form } = await correctionRequest(env);
      const before = await snapshot(env);
      const bad = await post(server.url, `/console/requests/${r.id}/correct`, { ...form, 'person.name': '', 'person.email': 'not an address', [`inquiry.${inquiry.id}.country`]: 'ZZ', [`inquiry.${inquiry.id}.role`]: 'Kept Role' }, staff.cookie);
      assert.equal(bad.status, 422);
      const body = await bad.text();
      assert.match(body, /Nothing was changed: correct the 3 fields marked below/);
      assert.ok(body.includes('id="correct-person-name-error"'), 'the name has its error');
      assert.ok(body.includes('id="correct-person-email-error"'), 'the email has its error');
      assert.ok(body.includes(`id="correct-inquiry-${inquiry.id}-country-error"`), 'the country has its error');
      assert.ok(body.includes('aria-invalid="true" aria-describedby="correct-person-name-error"'));
      assert.ok(body.includes('value="not an address"') && body.includes('value="ZZ"') && body.includes('value="Kept Role"'), 'the input is kept');
      assert.deepEqual(await snapshot(env), before, 'nothing written');

      const same = await post(server.url, `/console/requests/${r.id}/correct`, { ...form, 'person.name': `  ${person.name} ` }, staff.cookie);
      assert.equal(same.status, 422);
      assert.match(await same.text(), /Nothing was changed: every field still has the value it had/);
      assert.deepEqual(await snapshot(env), before, 'nothing written');

      const foreign = await post(server.url, `/console/requests/${r.id}/correct`, { ...form, 'inquiry.00000000-0000-4000-8000-000000000000.company': 'X' }, staff.cookie);
      assert.equal(foreign.status, 404);
      assert.match(await foreign.text(), /not an inquiry of this person/);
      const unknown = await post(server.url, `/console/requests/${r.id}/correct`, { ...form, 'person.phone': '123' }, staff.cookie);
      assert.equal(unknown.status, 422);
      assert.match(await unknown.text(), /these fields cannot be corrected: phone/);
      const proto = await post(server.url, `/console/requests/${r.id}/correct`, { ...form, 'inquiry.__proto__.company': 'X' }, staff.cookie);
      assert.equal(proto.status, 404);
      assert.equal(({} as Record<string, unknown>).company, undefined, 'no prototype touched');
      assert.deepEqual(await snapshot(env), before, 'nothing written');
    });
  });

  test('an unverified request cannot be corrected, and only the privacy role may correct', async () => {
    await withDesk(async (env) => {
      const { server, clock } = env;
      const { r, staff, form } = await correctionRequest(env, false);
      const before = await snapshot(env);
      const page = await (await get(server.url, `/console/requests/${r.id}`, staff.cookie)).text();
      assert.doesNotMatch(page, /Correct their data/, 'no form, and no personal data read, before verification');
      assert.equal((await audit(server)).filter((a) => a.action === 'rights.person_data_found').length, 0);
      const early = await post(server.url, `/console/requests/${r.id}/correct`, { ...form, 'person.name': 'Someone Else' }, staff.cookie);
      assert.equal(early.status, 409);
      assert.match(await early.text(), /has not verified/);
      assert.deepEqual(await snapshot(env), before);

      for (const role of ['sales', 'admin'] as const) {
        const other = await makeStaff(server, clock, role);
        const res = await post(server.url, `/console/requests/${r.id}/correct`, { ...form, csrf: other.csrf, 'person.name': 'Someone Else' }, other.cookie);
        assert.equal(res.status, 403, `${role} may not correct`);
      }
      assert.equal((await post(server.url, `/console/requests/${r.id}/correct`, { ...form, csrf: '', 'person.name': 'Someone Else' }, staff.cookie)).status, 403, 'no CSRF token, no correction');
      assert.deepEqual(await snapshot(env), before);
    });
  });
});
