// Erasure (issue 9, "Deletion"): one person erased across every table in one
// transaction, checked by scanning every column of every table and, on SQLite, the raw
// bytes of the database file, its WAL and its shared-memory index; the other person,
// whose address starts like the first one's, keeps everything; a restart brings nothing
// back; what a hold covers stays, and the result says which hold kept it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { erasePerson } from '../../src/rights/erase-person.ts';
import { liftHold, placeHold } from '../../src/retention/holds.ts';
import { hashDeletedIds } from '../../src/retention/deletion-log.ts';
import { findPersonData } from '../../src/rights/find-person-data.ts';
import { subjectKey } from '../../src/people/subject.ts';
import { createTestDatabase } from '../support/db.ts';
import { assertAllOf, assertNoneOf, buildWorld, closeWorld, startWorld, storedBytes } from './erase-support.ts';

const actor = 'staff:acct-privacy-1';

describe('erasing a person', () => {
  test('every table, the database file, -wal and -shm lose the person; the similar address keeps everything; a restart brings nothing back', async () => {
    const database = await createTestDatabase();
    let world = await buildWorld(database);
    try {
      const { server, a, b } = world;
      const deps = server.running.deps;
      const before = await storedBytes(server);
      assertAllOf(before, a.secrets, 'before the erasure, A');
      const bUsed = [b.email, b.name, b.company, b.role, b.context, b.mailText[0], b.mailText[1], b.mailText[3]];
      assertAllOf(before, bUsed, 'before the erasure, B');

      const found = await findPersonData(deps, { actor, email: `  ${a.email.toUpperCase()} ` });
      assert.equal(found.person?.id, world.aPersonId, 'found by the normalised address');
      assert.equal(found.inquiries.length, 2);
      assert.equal(found.consentRecords.length, 1);
      // Her triage thread and her inquiry's thread; B's conversation is not hers.
      assert.equal(found.threads.length, 2);
      assert.ok(found.outbox.some((o) => o.status === 'pending' && o.id === world.staffReplyOutboxId), 'the pending staff reply is found');
      assert.equal(found.othersMessages.length, 1, "B's reply in her thread is someone else's");

      const result = await erasePerson(deps, { actor, email: a.email, requestId: 'req-1' });
      assert.equal(result.personId, world.aPersonId);
      assert.deepEqual(result.kept, []);
      assert.equal(result.erased.person, 1);
      assert.equal(result.erased.inquiry, 2);
      assert.equal(result.erased.consent_record, 1);
      assert.equal(result.erased.mail_attachment, 1);
      assert.equal(result.erased.mail_thread, 1, 'her triage thread; her inquiry thread goes back to triage with B\'s reply');
      assert.equal(result.detachedThreads, 1);
      assert.ok(result.erased.mail_message >= 4, `messages erased: ${result.erased.mail_message}`);
      assert.ok(result.erased.outbox >= 5, `outbox rows erased: ${result.erased.outbox}`);
      if (server.database.kind === 'sqlite') assert.deepEqual({ complete: result.scrub.complete }, { complete: true }, 'the WAL was checkpointed and truncated');

      const after = await storedBytes(server);
      assertNoneOf(after, a.secrets, 'after the erasure, A');
      assertAllOf(after, bUsed, 'after the erasure, B');

      const db = deps.storage.db;
      const key = subjectKey(deps.signer, a.email);
      assert.equal((await db.selectFrom('suppression').select('reason').where('subject_key', '=', key).executeTakeFirst())?.reason, 'erasure', 'the keyed hash is on the suppression list');
      const proof = await db.selectFrom('erasure_proof').selectAll().where('subject_key', '=', key).executeTakeFirstOrThrow();
      assert.equal(proof.id, result.proofId);
      assert.equal(JSON.parse(proof.erased).inquiry, 2);
      const log = await db.selectFrom('deletion_log').selectAll().where('rule', '=', 'erasure_request').executeTakeFirstOrThrow();
      assert.equal(JSON.parse(log.counts).inquiry, 2);
      // Keyed hashes of the deleted rows' ids (a staff reply's message and outbox rows share one id).
      const hashes = new Set(JSON.parse(log.affected_id_hashes) as string[]);
      for (const id of [world.aPersonId, ...world.aInquiries, world.staffReplyOutboxId]) assert.ok(hashes.has(hashDeletedIds(deps.signer, [id])[0]), `the log hashes ${id}`);
      assert.ok(hashes.size <= Object.values(result.erased).reduce((x, y) => x + y, 0));
      const entry = await db.selectFrom('audit_log').selectAll().where('action', '=', 'rights.person_erased').executeTakeFirstOrThrow();
      assert.equal(entry.entity_id, world.aPersonId);
      assert.equal(JSON.parse(entry.details).proof, result.proofId);
      assert.equal(JSON.parse(entry.details).request, 'req-1');
      // B's reply survives, in a thread that is no longer anyone's inquiry.
      const bReply = await db.selectFrom('mail_message').innerJoin('mail_thread', 'mail_thread.id', 'mail_message.thread_id').select(['mail_thread.inquiry_id', 'mail_thread.id']).where('from_person_id', '=', world.bPersonId).execute();
      assert.ok(bReply.some((r) => r.id === world.aThreadId && r.inquiry_id === null));
      const again = await findPersonData(deps, { actor, email: a.email });
      assert.equal(again.person, undefined);
      assert.equal(again.messages.length + again.inquiries.length + again.outbox.length + again.threads.length, 0);
      assert.equal(again.erasureProofs.length, 1, 'only the proof remains, under the keyed hash');

      // Restart on the same database: nothing comes back.
      await closeWorld(world);
      const restarted = await startWorld(database);
      world = { ...world, ...restarted };
      assertNoneOf(await storedBytes(restarted.server), a.secrets, 'after a restart, A');
      const text = restarted.server.logs.join('\n').toLowerCase() + world.server.logs.join('\n').toLowerCase();
      assertNoneOf(text, [a.email, a.name, a.company], 'the logs');
    } finally {
      await closeWorld(world);
      await database.drop();
    }
  });

  test('a hold on an inquiry keeps it, its conversation and the person row; the rest goes; the result says which hold and why', async () => {
    const world = await buildWorld();
    try {
      const { server, a } = world;
      const deps = server.running.deps;
      const [demo, contact] = world.aInquiries;
      const hold = await placeHold(deps, { actor, kind: 'legal_hold', scope: 'inquiry', target: demo, reason: 'Litigation file 2026-14' });
      // A hold on someone else's inquiry changes nothing for her.
      const bInquiry = await deps.storage.db.selectFrom('inquiry').select('id').where('person_id', '=', world.bPersonId).executeTakeFirstOrThrow();
      await placeHold(deps, { actor, kind: 'legal_hold', scope: 'inquiry', target: bInquiry.id, reason: 'Another matter' });
      const result = await erasePerson(deps, { actor, email: a.email });
      assert.ok(contact);
      const keptTables = Object.fromEntries(result.kept.map((k) => [k.table, k.ids]));
      assert.deepEqual(keptTables.person, [world.aPersonId]);
      assert.deepEqual(keptTables.inquiry, [demo]);
      assert.deepEqual(keptTables.mail_thread, [world.aThreadId]);
      assert.ok(result.kept.every((k) => k.hold.id === hold.id && k.hold.reason === hold.reason && k.hold.kind === 'legal_hold'));
      assert.equal(result.erased.inquiry, 1);
      assert.equal(result.erased.person, 0);

      const db = deps.storage.db;
      assert.deepEqual((await db.selectFrom('inquiry').select('id').where('person_id', '=', world.aPersonId).execute()).map((r) => r.id), [demo]);
      assert.ok(await db.selectFrom('mail_thread').select('id').where('id', '=', world.aThreadId).where('inquiry_id', '=', demo).executeTakeFirst(), 'the held conversation stays with its inquiry');
      const stored = await storedBytes(server);
      assertAllOf(stored, [a.email, a.name, a.company, a.mailText[1], a.mailText[2]], 'held data');
      // Not held: her triage mail and what she wrote in B's conversation, and her consent.
      assertNoneOf(stored, [a.mailText[0], a.mailText[5]], 'unheld mail');
      assert.equal(await db.selectFrom('consent_record').select('id').where('person_id', '=', world.aPersonId).executeTakeFirst(), undefined);
      const proof = await db.selectFrom('erasure_proof').selectAll().where('id', '=', result.proofId).executeTakeFirstOrThrow();
      assert.ok(!proof.kept.includes(hold.reason), 'the proof names the hold, not its reason');
      assert.ok(JSON.parse(proof.kept).some((k: { holdId: string; table: string }) => k.holdId === hold.id && k.table === 'inquiry'));
    } finally {
      await closeWorld(world);
    }
  });

  test('a contract on her company domain, or a hold on her, keeps everything and says so; lifted, the erasure goes through', async () => {
    const world = await buildWorld();
    try {
      const { server, a } = world;
      const deps = server.running.deps;
      const before = await findPersonData(deps, { actor, email: a.email });
      const contract = await placeHold(deps, { actor, kind: 'contract', scope: 'domain', target: a.email.split('@')[1].toUpperCase(), reason: 'Signed contract', until: '2099-12-31' });
      const result = await erasePerson(deps, { actor, email: a.email });
      assert.ok(Object.values(result.erased).every((n) => n === 0), JSON.stringify(result.erased));
      assert.deepEqual(Object.fromEntries(result.kept.map((k) => [k.table, k.ids.length])).inquiry, 2);
      assert.ok(result.kept.every((k) => k.hold.id === contract.id && k.hold.reason === 'Signed contract' && k.hold.until?.startsWith('2099-12-31')));
      const after = await findPersonData(deps, { actor, email: a.email });
      assert.equal(after.messages.length, before.messages.length);
      assert.equal(after.outbox.length, before.outbox.length);
      assertAllOf(await storedBytes(server), a.secrets, 'held data');

      // A hold on the person does the same; once both are lifted, the erasure goes through.
      const personHold = await placeHold(deps, { actor, kind: 'legal_hold', scope: 'person', target: world.aPersonId, reason: 'Regulator inquiry' });
      await liftHold(deps, { actor, holdId: contract.id });
      const held = await erasePerson(deps, { actor, email: a.email });
      assert.equal(held.erased.person, 0);
      assert.ok(held.kept.length > 0 && held.kept.every((k) => k.hold.id === personHold.id));
      await liftHold(deps, { actor, holdId: personHold.id });
      const done = await erasePerson(deps, { actor, email: a.email });
      assert.deepEqual(done.kept, []);
      assert.equal(done.erased.person, 1);
      assertNoneOf(await storedBytes(server), a.secrets, 'after the holds are lifted');
    } finally {
      await closeWorld(world);
    }
  });

  test('an address nobody has: only the keyed hash is recorded, nothing else changes', async () => {
    const world = await startWorld();
    try {
      const deps = world.server.running.deps;
      const result = await erasePerson(deps, { actor, email: 'Nobody.Here@Example.com' });
      assert.equal(result.personId, undefined);
      assert.ok(Object.values(result.erased).every((n) => n === 0));
      const key = subjectKey(deps.signer, 'nobody.here@example.com');
      assert.ok(await deps.storage.db.selectFrom('suppression').select('subject_key').where('subject_key', '=', key).executeTakeFirst());
      assertNoneOf(await storedBytes(world.server), ['nobody.here'], 'the address');
    } finally {
      await closeWorld(world);
    }
  });
});

describe('bad input to the rights functions', () => {
  test('an empty, missing or malformed address is refused with a clear message, and nothing is written', async () => {
    const world = await startWorld();
    try {
      const deps = world.server.running.deps;
      const { buildAccessPackage } = await import('../../src/rights/access-package.ts');
      const { PersonDataError } = await import('../../src/rights/find-person-data.ts');
      const count = async () => Number((await deps.storage.db.selectFrom('audit_log').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
      const before = await count();
      for (const email of ['', '   ', 'not an address', 'a@b.example, c@d.example', 'a@', '@example.com', 'line@break\n.example', 'x'.repeat(400) + '@example.com', undefined as unknown as string]) {
        for (const call of [() => erasePerson(deps, { actor, email }), () => findPersonData(deps, { actor, email }), () => buildAccessPackage(deps, { actor, email })]) {
          await assert.rejects(call(), (e: unknown) => e instanceof PersonDataError && e.code === 'invalid' && /email address/.test(e.message), `refused: ${JSON.stringify(email)}`);
        }
      }
      assert.equal(await count(), before, 'no audit entry, nothing written');
      assert.equal((await deps.storage.db.selectFrom('suppression').select('subject_key').execute()).length, 0);
    } finally {
      await closeWorld(world);
    }
  });
});
