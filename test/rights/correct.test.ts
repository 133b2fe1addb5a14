// Correction (issue 9, "Correction"): named fields of the person and their inquiries
// change; the audit trail records record ids and field names, never a value before or
// after; the result says what changed; bad values are refused with a message per field
// and nothing is written; a new address moves the subject key (and the suppression entry).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { correctPerson, CorrectionError } from '../../src/rights/correct-person.ts';
import { findPersonData } from '../../src/rights/find-person-data.ts';
import { subjectKey } from '../../src/people/subject.ts';
import { submitForm } from '../support/server.ts';
import { assertNoneOf, closeWorld, rand, startWorld } from './erase-support.ts';

const actor = 'staff:acct-privacy-1';

async function withTwoPeople(fn: (ctx: Awaited<ReturnType<typeof setup>>) => Promise<void>): Promise<void> {
  const ctx = await setup();
  try {
    await fn(ctx);
  } finally {
    await closeWorld(ctx);
  }
}

async function setup() {
  const world = await startWorld();
  const a = { name: rand('OldName'), email: `${rand('ada')}@${rand('old')}.example.com`, company: rand('OldCo'), role: rand('OldRole'), country: 'GB', context: rand('OldContext') };
  const b = { ...a, name: rand('Bea'), email: `${rand('bea')}@example.org`, company: rand('BeaCo') };
  for (const p of [a, b]) assert.equal((await submitForm(world.server.url, 'demo', p)).status, 303);
  const db = world.server.running.deps.storage.db;
  const person = await db.selectFrom('person').select('id').where('email', '=', a.email).executeTakeFirstOrThrow();
  const inquiry = await db.selectFrom('inquiry').select('id').where('person_id', '=', person.id).executeTakeFirstOrThrow();
  const bInquiry = await db.selectFrom('inquiry').innerJoin('person', 'person.id', 'inquiry.person_id').select('inquiry.id').where('person.email', '=', b.email).executeTakeFirstOrThrow();
  return { ...world, a, b, personId: person.id, inquiryId: inquiry.id, bInquiryId: bInquiry.id };
}

describe('correcting a person', () => {
  test('named fields change; the result and the audit name the records and fields, never a value', async () => {
    await withTwoPeople(async ({ server, a, personId, inquiryId }) => {
      const deps = server.running.deps;
      const auditBefore = Number((await deps.storage.db.selectFrom('audit_log').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
      const fresh = { name: rand('NewName'), company: rand('NewCo'), role: rand('NewRole') };
      const result = await correctPerson(deps, {
        actor,
        requestId: 'req-3',
        personId,
        person: { name: `  ${fresh.name} ` },
        // The country is given unchanged: not a change.
        inquiries: { [inquiryId]: { company: fresh.company, role: fresh.role, country: 'gb' } },
      });
      assert.deepEqual(result.changed, [
        { table: 'person', id: personId, field: 'name' },
        { table: 'inquiry', id: inquiryId, field: 'company' },
        { table: 'inquiry', id: inquiryId, field: 'role' },
      ]);
      const db = deps.storage.db;
      assert.equal((await db.selectFrom('person').select('name').where('id', '=', personId).executeTakeFirstOrThrow()).name, fresh.name);
      const inquiry = await db.selectFrom('inquiry').selectAll().where('id', '=', inquiryId).executeTakeFirstOrThrow();
      assert.deepEqual([inquiry.company, inquiry.role, inquiry.country, inquiry.context], [fresh.company, fresh.role, 'GB', a.context]);

      const entries = await db.selectFrom('audit_log').selectAll().where('seq', '>', auditBefore).orderBy('seq').execute();
      assert.deepEqual(entries.map((e) => [e.action, e.entity_id, JSON.parse(e.details).fields]), [
        ['rights.person_corrected', personId, 'name'],
        ['rights.inquiry_corrected', inquiryId, 'company,role'],
      ]);
      assert.ok(entries.every((e) => JSON.parse(e.details).request === 'req-3'));
      assertNoneOf(JSON.stringify(entries), [a.name, a.company, a.role, fresh.name, fresh.company, fresh.role, 'GB'], 'the audit entries');

      // Again with the same values: nothing changes, nothing is audited.
      const again = await correctPerson(deps, { actor, personId, person: { name: fresh.name }, inquiries: { [inquiryId]: { company: fresh.company } } });
      assert.deepEqual(again.changed, []);
      assert.equal((await db.selectFrom('audit_log').select('seq').where('seq', '>', entries.at(-1)!.seq).execute()).length, 0);
    });
  });

  test('bad values are refused field by field and nothing is written', async () => {
    await withTwoPeople(async ({ server, a, personId, inquiryId, bInquiryId }) => {
      const deps = server.running.deps;
      const db = deps.storage.db;
      const refused = async (input: Omit<Parameters<typeof correctPerson>[1], 'actor' | 'personId'>, code: CorrectionError['code'], fields: string[] = [], id = personId) => {
        await assert.rejects(correctPerson(deps, { actor, personId: id, ...input }), (e: unknown) => {
          assert.ok(e instanceof CorrectionError, String(e));
          assert.equal(e.code, code);
          assert.deepEqual(Object.keys(e.fields).sort(), fields.sort());
          return true;
        });
      };
      await refused({ person: { name: 'line\nbreak', email: 'not an address' }, inquiries: { [inquiryId]: { country: 'ZZ', company: 'fine' } } }, 'invalid', ['person.name', 'person.email', `inquiry.${inquiryId}.country`]);
      await refused({ person: { name: '' } }, 'invalid', ['person.name']);
      await refused({ inquiries: { [inquiryId]: { context: 'x'.repeat(6000) } } }, 'invalid', [`inquiry.${inquiryId}.context`]);
      await refused({ person: { phone: '123' } as never }, 'invalid');
      await refused({ inquiries: { [inquiryId]: { reference: 'X' } as never } }, 'invalid');
      await refused({ person: { name: 42 as never } }, 'invalid');
      await refused({ inquiries: { [bInquiryId]: { company: 'Mine now' } } }, 'not_found');
      await refused({ person: { name: 'Someone' } }, 'not_found', [], 'no-such-person');
      const person = await db.selectFrom('person').selectAll().where('id', '=', personId).executeTakeFirstOrThrow();
      const inquiry = await db.selectFrom('inquiry').selectAll().where('id', '=', inquiryId).executeTakeFirstOrThrow();
      assert.deepEqual([person.name, person.email, inquiry.company, inquiry.country], [a.name, a.email, a.company, 'GB']);
      assert.equal((await db.selectFrom('audit_log').select('seq').where('action', 'like', 'rights.%').execute()).length, 0);
    });
  });

  test('a new address moves the subject key and the suppression entry; an address another person has is refused', async () => {
    await withTwoPeople(async ({ server, a, b, personId }) => {
      const deps = server.running.deps;
      const db = deps.storage.db;
      await db.insertInto('suppression').values({ subject_key: subjectKey(deps.signer, a.email), reason: 'withdrawn', created_at: new Date().toISOString() }).execute();
      await assert.rejects(correctPerson(deps, { actor, personId, person: { email: b.email.toUpperCase() } }), (e: unknown) => e instanceof CorrectionError && e.code === 'conflict' && 'person.email' in e.fields);

      const next = `${rand('ada')}@${rand('new')}.example.com`;
      const result = await correctPerson(deps, { actor, personId, person: { email: `  ${next}  ` } });
      assert.deepEqual(result.changed, [{ table: 'person', id: personId, field: 'email' }]);
      const person = await db.selectFrom('person').selectAll().where('id', '=', personId).executeTakeFirstOrThrow();
      assert.equal(person.email, next);
      assert.equal(person.subject_key, subjectKey(deps.signer, next));
      assert.ok(await db.selectFrom('suppression').select('reason').where('subject_key', '=', subjectKey(deps.signer, next)).executeTakeFirst(), 'still suppressed under the new address');
      assert.equal((await findPersonData(deps, { actor, email: next })).person?.id, personId);
      assert.equal((await findPersonData(deps, { actor, email: a.email })).person, undefined);
    });
  });
});
