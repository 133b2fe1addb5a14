// Property: over random people, inquiries (any status and dates), attachments, holds
// (on people, inquiries and domains; legal holds, contracts ending before or after the
// clock, lifted ones) and clocks, the sweep deletes exactly what the rules make due and
// nothing a hold covers, and a second run deletes nothing.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runSweep } from '../../src/retention/sweep.ts';
import { suiteDbKind, testDb } from '../support/db.ts';
import { addInquiry, addPerson, DAY_MS, iso, policy, sweepDeps } from './seed.ts';

// The suite's database only (npm test: SQLite, npm run test:pg: PostgreSQL): these are the slow ones.
const kinds = [suiteDbKind()];
const skipped = undefined as string | undefined;
const BASE = Date.parse('2026-01-01T00:00:00Z');
const DOMAINS = ['a.example', 'b.example', 'c.example'];
const rules = Object.fromEntries(policy.policy.retention.rules.map((r) => [r.id, r.keep_days as number]));

const inquiryArb = fc.record({
  status: fc.constantFrom('new', 'in_conversation', 'closed') as fc.Arbitrary<'new' | 'in_conversation' | 'closed'>,
  created: fc.integer({ min: 0, max: 600 }),
  activityAfter: fc.integer({ min: 0, max: 200 }),
  closedAfter: fc.integer({ min: 0, max: 100 }),
  messages: fc.integer({ min: 0, max: 2 }),
});
const personArb = fc.record({ domain: fc.constantFrom(...DOMAINS), updated: fc.integer({ min: 0, max: 600 }), inquiries: fc.array(inquiryArb, { maxLength: 3 }) });
const holdArb = fc.record({
  scope: fc.constantFrom('person', 'inquiry', 'domain') as fc.Arbitrary<'person' | 'inquiry' | 'domain'>,
  pick: fc.nat(),
  kind: fc.constantFrom('legal_hold', 'contract') as fc.Arbitrary<'legal_hold' | 'contract'>,
  untilDay: fc.integer({ min: 0, max: 1200 }),
  lifted: fc.boolean(),
});
const worldArb = fc.record({ people: fc.array(personArb, { minLength: 1, maxLength: 6 }), holds: fc.array(holdArb, { maxLength: 3 }), clockDay: fc.integer({ min: 150, max: 1000 }) });

describe('retention sweep property', () => {
  if (skipped) test(skipped, { skip: skipped }, () => undefined);
  for (const kind of kinds) {
    test(`${kind}: exactly what is due is deleted, nothing held, and a second run deletes nothing`, async () => {
      const t = await testDb(kind);
      const db = t.storage.db;
      try {
        await fc.assert(
          fc.asyncProperty(worldArb, async (world) => {
            for (const table of ['deletion_log', 'retention_run', 'retention_hold', 'mail_attachment', 'mail_message', 'mail_thread', 'inquiry', 'person'] as const) await db.deleteFrom(table).execute();
            const day = (d: number) => iso(BASE + d * DAY_MS);
            const asOf = BASE + world.clockDay * DAY_MS;
            const people: { id: string; domain: string; updated: number }[] = [];
            const inquiries: { id: string; personId: string; status: string; created: number; activity: number; closed: number; messages: number }[] = [];
            for (const [i, p] of world.people.entries()) {
              const id = await addPerson(db, { email: `p${i}@${p.domain}`, at: day(p.updated) });
              people.push({ id, domain: p.domain, updated: p.updated });
              for (const q of p.inquiries) {
                const activity = q.created + q.activityAfter;
                const closed = activity + q.closedAfter;
                const row = await addInquiry(db, { personId: id, createdAt: day(q.created), status: q.status, closedAt: q.status === 'closed' ? day(closed) : null, lastActivityAt: day(activity), messages: q.messages });
                inquiries.push({ id: row.id, personId: id, status: q.status, created: q.created, activity, closed, messages: q.messages });
              }
            }
            const held = { persons: new Set<string>(), inquiries: new Set<string>(), domains: new Set<string>() };
            for (const [i, h] of world.holds.entries()) {
              const scopeId = h.scope === 'person' ? people[h.pick % people.length].id : h.scope === 'inquiry' ? inquiries[h.pick % Math.max(inquiries.length, 1)]?.id : DOMAINS[h.pick % DOMAINS.length];
              if (!scopeId) continue;
              const until = h.kind === 'contract' ? day(h.untilDay) : null;
              await db.insertInto('retention_hold').values({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, kind: h.kind, scope: h.scope, scope_id: scopeId, reason: 'r', until, placed_by: 'cli', placed_at: day(0), lifted_by: h.lifted ? 'cli' : null, lifted_at: h.lifted ? day(1) : null }).execute();
              const inForce = !h.lifted && (until === null || until > iso(asOf));
              if (inForce) (h.scope === 'person' ? held.persons : h.scope === 'inquiry' ? held.inquiries : held.domains).add(scopeId);
            }

            // The model: which rows the rules make due at the clock, less what is held.
            const cutoff = (days: number) => asOf - days * DAY_MS;
            const personOf = new Map(people.map((p) => [p.id, p]));
            const isHeld = (personId: string, inquiryId?: string) => held.persons.has(personId) || (inquiryId !== undefined && held.inquiries.has(inquiryId)) || held.domains.has(personOf.get(personId)!.domain);
            const dueAt = (q: (typeof inquiries)[number]) =>
              q.status === 'closed' ? BASE + q.closed * DAY_MS <= cutoff(rules.inquiries_closed) : q.status === 'in_conversation' ? BASE + q.activity * DAY_MS <= cutoff(rules.inquiries_quiet) : BASE + q.created * DAY_MS <= cutoff(rules.inquiries_unanswered);
            const keptInquiries = inquiries.filter((q) => !dueAt(q) || isHeld(q.personId, q.id));
            const keptAttachments = keptInquiries.filter((q) => q.messages > 0 && (BASE + q.activity * DAY_MS > cutoff(rules.attachments) || isHeld(q.personId, q.id)));
            const keptPeople = people.filter((p) => keptInquiries.some((q) => q.personId === p.id) || BASE + p.updated * DAY_MS > cutoff(rules.people) || isHeld(p.id));

            const deps = sweepDeps(t.storage, () => new Date(asOf));
            const first = await runSweep(deps, { trigger: 'cli', batchSize: 2 });
            assert.deepEqual((await db.selectFrom('inquiry').select('id').execute()).map((r) => r.id).sort(), keptInquiries.map((q) => q.id).sort());
            assert.deepEqual((await db.selectFrom('person').select('id').execute()).map((r) => r.id).sort(), keptPeople.map((p) => p.id).sort());
            assert.equal(Number((await db.selectFrom('mail_attachment').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n), keptAttachments.length);
            const deletedInquiries = first.rules.filter((r) => r.category === 'inquiries').reduce((s, r) => s + (r.counts.inquiry ?? 0), 0);
            assert.equal(deletedInquiries, inquiries.length - keptInquiries.length);
            const logged = (await db.selectFrom('deletion_log').select('counts').execute()).reduce((s, e) => s + ((JSON.parse(e.counts) as Record<string, number>).inquiry ?? 0), 0);
            assert.equal(logged, inquiries.length - keptInquiries.length, 'the log counts each deleted inquiry once');

            const second = await runSweep(deps, { trigger: 'cli' });
            assert.equal(second.rules.reduce((s, r) => s + Object.values(r.counts).reduce((x, y) => x + y, 0), 0), 0, 'a second run deletes nothing');
          }),
          { numRuns: kind === 'sqlite' ? 40 : 15, seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined },
        );
      } finally {
        await t.close();
      }
    });
  }
});
