// Holds (legal holds and contracts on a person, an inquiry or a domain), placed, listed
// and lifted through the use cases and `lumetrax hold`, each audited; and the deletion
// log, which takes keyed hashes of ids only.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Signer } from '../../src/http/signing.ts';
import { findHoldsCovering, liftHold, listHolds, placeHold, RetentionError } from '../../src/retention/holds.ts';
import { hashDeletedIds, recordDeletion } from '../../src/retention/deletion-log.ts';
import { availableDbKinds, testDb } from '../support/db.ts';
import { runCli } from '../cli/run-cli.ts';
import { addInquiry, addPerson, DAY_MS, iso } from './seed.ts';

const { kinds, skipped } = await availableDbKinds();

describe('retention holds and the deletion log', () => {
  if (skipped) test(skipped, { skip: skipped }, () => undefined);
  for (const kind of kinds) {
    test(`${kind}: holds cover a person, an inquiry or a domain while in force; placing, listing and lifting are audited`, async () => {
      const t = await testDb(kind);
      try {
        let clock = Date.parse('2026-12-01T10:00:00Z');
        const deps = { storage: t.storage, now: () => new Date(clock), mailQueued: () => undefined };
        const ada = await addPerson(t.storage.db, { email: 'ada@Engines.example.com', at: iso(clock) });
        const bob = await addPerson(t.storage.db, { email: 'bob@other.example', at: iso(clock) });
        const inq = await addInquiry(t.storage.db, { personId: bob, createdAt: iso(clock) });
        const now = () => new Date(clock).toISOString();

        assert.deepEqual(await findHoldsCovering(t.storage.db, { personId: ada, inquiryIds: [inq.id], emailDomain: 'engines.example.com' }, now()), []);

        const legal = await placeHold(deps, { actor: 'staff:acc-1', sessionId: 'sess-1', kind: 'legal_hold', scope: 'person', target: ada, reason: 'Matter 2026/17' });
        const contract = await placeHold(deps, { actor: 'cli', kind: 'contract', scope: 'inquiry', target: `R-${inq.id.slice(0, 13)}`, reason: 'Pilot agreement clause 9', until: '2027-01-31' });
        const domain = await placeHold(deps, { actor: 'cli', kind: 'legal_hold', scope: 'domain', target: '@ENGINES.example.com', reason: 'Litigation with Engines' });
        assert.equal(contract.scopeId, inq.id, 'an inquiry is found by its reference too');
        assert.equal(contract.until, '2027-01-31T23:59:59.999Z');
        assert.equal(domain.scopeId, 'engines.example.com');

        assert.deepEqual((await findHoldsCovering(t.storage.db, { personId: ada }, now())).map((h) => h.id), [legal.id]);
        assert.deepEqual((await findHoldsCovering(t.storage.db, { inquiryIds: [inq.id] }, now())).map((h) => h.id), [contract.id]);
        assert.deepEqual((await findHoldsCovering(t.storage.db, { emailDomain: 'Engines.Example.com' }, now())).map((h) => h.id), [domain.id]);
        assert.deepEqual((await findHoldsCovering(t.storage.db, { personId: bob, emailDomain: 'other.example' }, now())), []);
        const hold = (await findHoldsCovering(t.storage.db, { personId: ada }, now()))[0];
        assert.deepEqual(hold, { id: legal.id, kind: 'legal_hold', scope: 'person', scopeId: ada, reason: 'Matter 2026/17', until: null });

        // A contract ends by itself on its end date; a legal hold only when lifted.
        assert.deepEqual(await findHoldsCovering(t.storage.db, { inquiryIds: [inq.id] }, '2027-02-01T00:00:00.000Z'), []);
        clock += DAY_MS;
        const lifted = await liftHold(deps, { actor: 'staff:acc-1', sessionId: 'sess-2', holdId: legal.id });
        assert.equal(lifted.liftedBy, 'staff:acc-1');
        assert.deepEqual(await findHoldsCovering(t.storage.db, { personId: ada }, now()), []);
        await assert.rejects(liftHold(deps, { actor: 'cli', holdId: legal.id }), (e: RetentionError) => e.code === 'conflict');

        const inForce = await listHolds(deps, { actor: 'cli' });
        assert.deepEqual(inForce.map((h) => h.id).sort(), [contract.id, domain.id].sort());
        assert.equal((await listHolds(deps, { actor: 'cli', includeLifted: true })).length, 3);

        const audit = await t.storage.db.selectFrom('audit_log').select(['actor', 'action', 'entity_id', 'details']).where('action', 'like', 'retention.%').orderBy('seq').execute();
        assert.deepEqual(audit.map((a) => a.action), ['retention.hold_placed', 'retention.hold_placed', 'retention.hold_placed', 'retention.hold_lifted', 'retention.holds_listed', 'retention.holds_listed']);
        assert.equal(audit[0].actor, 'staff:acc-1');
        assert.equal(JSON.parse(audit[0].details).session, 'sess-1');
        for (const a of audit) assert.doesNotMatch(a.details, /Matter|Pilot|Litigation|ada@/i, 'reasons and addresses stay out of the trail');
      } finally {
        await t.close();
      }
    });

    test(`${kind}: bad holds are refused with a clear reason`, async () => {
      const t = await testDb(kind);
      try {
        const deps = { storage: t.storage, now: () => new Date('2026-12-01T10:00:00Z'), mailQueued: () => undefined };
        const person = await addPerson(t.storage.db, { email: 'x@y.example', at: '2026-12-01T00:00:00.000Z' });
        const refused = async (input: Parameters<typeof placeHold>[1], message: RegExp) =>
          assert.rejects(placeHold(deps, input), (e: unknown) => e instanceof RetentionError && message.test(e.message));
        await refused({ actor: 'cli', kind: 'forever', scope: 'person', target: person, reason: 'r' }, /legal_hold or contract/);
        await refused({ actor: 'cli', kind: 'legal_hold', scope: 'company', target: person, reason: 'r' }, /person, inquiry or domain/);
        await refused({ actor: 'cli', kind: 'legal_hold', scope: 'person', target: person, reason: '  ' }, /reason/);
        await refused({ actor: 'cli', kind: 'legal_hold', scope: 'person', target: person, reason: 'x'.repeat(501) }, /longer than 500/);
        await refused({ actor: 'cli', kind: 'contract', scope: 'person', target: person, reason: 'r' }, /end date/);
        await refused({ actor: 'cli', kind: 'contract', scope: 'person', target: person, reason: 'r', until: '2027-02-30' }, /YYYY-MM-DD/);
        await refused({ actor: 'cli', kind: 'contract', scope: 'person', target: person, reason: 'r', until: '2026-11-30' }, /already past/);
        await refused({ actor: 'cli', kind: 'legal_hold', scope: 'person', target: person, reason: 'r', until: '2027-01-01' }, /until it is lifted/);
        await refused({ actor: 'cli', kind: 'legal_hold', scope: 'person', target: '00000000-0000-4000-8000-000000000000', reason: 'r' }, /no person/);
        await refused({ actor: 'cli', kind: 'legal_hold', scope: 'inquiry', target: 'R-nope', reason: 'r' }, /no inquiry/);
        await refused({ actor: 'cli', kind: 'legal_hold', scope: 'domain', target: 'not a domain', reason: 'r' }, /domain name/);
        assert.equal(Number((await t.storage.db.selectFrom('retention_hold').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n), 0);
      } finally {
        await t.close();
      }
    });

    test(`${kind}: the deletion log keeps counts and keyed hashes, and refuses anything else`, async () => {
      const t = await testDb(kind);
      try {
        const signer = new Signer(Buffer.alloc(32, 7));
        const ids = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
        const hashes = hashDeletedIds(signer, ids);
        await recordDeletion(t.storage.db, { rule: 'erasure_request', category: 'people', counts: { person: 1, inquiry: 1 }, affectedIdHashes: hashes, startedAt: '2026-12-01T00:00:00.000Z', finishedAt: '2026-12-01T00:00:01.000Z' });
        const row = await t.storage.db.selectFrom('deletion_log').selectAll().executeTakeFirstOrThrow();
        assert.deepEqual(JSON.parse(row.counts), { person: 1, inquiry: 1 });
        assert.deepEqual(JSON.parse(row.affected_id_hashes), hashes);
        for (const id of ids) assert.ok(!JSON.stringify(row).includes(id), 'no raw id in the log');
        await assert.rejects(recordDeletion(t.storage.db, { rule: 'r', category: 'people', counts: {}, affectedIdHashes: ['ada@example.com'], startedAt: 'a', finishedAt: 'b' }), /keyed hashes/);
        await assert.rejects(recordDeletion(t.storage.db, { rule: 'r', category: 'people', counts: { person: -1 }, affectedIdHashes: [], startedAt: 'a', finishedAt: 'b' }), /whole numbers/);
      } finally {
        await t.close();
      }
    });

    test(`${kind}: lumetrax hold add | list | lift`, async () => {
      const t = await testDb(kind);
      try {
        const person = await addPerson(t.storage.db, { email: 'cli@hold.example', at: '2026-12-01T00:00:00.000Z' });
        const env = { DATABASE_URL: t.database.url };
        const added = await runCli(['hold', 'add', '--kind', 'legal_hold', '--person', person, '--reason', 'Matter 42'], env);
        assert.equal(added.code, 0, added.stderr);
        const id = added.stdout.match(/Hold ([0-9a-f-]{36}) placed/)?.[1];
        assert.ok(id, added.stdout);
        const listed = await runCli(['hold', 'list'], env);
        assert.equal(listed.code, 0, listed.stderr);
        assert.match(listed.stdout, new RegExp(`${id}  legal_hold  person ${person}`));
        assert.match(listed.stdout, /Matter 42/);
        const bad = await runCli(['hold', 'add', '--kind', 'contract', '--domain', 'x.example', '--reason', 'r'], env);
        assert.equal(bad.code, 1);
        assert.match(bad.stderr, /needs its end date/);
        const none = await runCli(['hold', 'add', '--kind', 'legal_hold', '--reason', 'r'], env);
        assert.equal(none.code, 2);
        assert.match(none.stderr, /exactly one of --person/);
        const lifted = await runCli(['hold', 'lift', id], env);
        assert.equal(lifted.code, 0, lifted.stderr);
        assert.match((await runCli(['hold', 'list'], env)).stdout, /No holds are in place/);
        assert.match((await runCli(['hold', 'list', '--all'], env)).stdout, /lifted .* by cli/);
        const actions = (await t.storage.db.selectFrom('audit_log').select('action').where('actor', '=', 'cli').orderBy('seq').execute()).map((a) => a.action);
        assert.deepEqual(actions, ['retention.hold_placed', 'retention.holds_listed', 'retention.hold_lifted', 'retention.holds_listed', 'retention.holds_listed']);
      } finally {
        await t.close();
      }
    });
  }
});
