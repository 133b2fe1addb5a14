// The ingest buffer while the database is away and after: views are kept up to the cap and
// the rest dropped and counted, a busy buffer writes early without a retry loop while
// writes fail, and everything kept is written once the database is back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { EventBuffer, MAX_PENDING } from '../../src/analytics/event-buffer.ts';
import type { Deps } from '../../src/deps.ts';
import { availableDbKinds, testDb } from '../support/db.ts';

const { kinds, skipped } = await availableDbKinds();
if (skipped) console.log(skipped);

const row = (i: number) => ({ hour: '2026-12-06T10', path: `/p${i % 9}`, source: 'direct', referrer_host: '', campaign: '', device: 'desktop', country: 'GB', visitor: `k${i}` });

for (const kind of kinds) {
  test(`event buffer (${kind}): kept while the database is away, capped and counted, written when it is back`, async () => {
    const ctx = await testDb(kind);
    const warnings: Array<Record<string, unknown>> = [];
    const log = { warn: (fields: Record<string, unknown>) => warnings.push(fields) };
    const deps = { storage: ctx.storage, now: () => new Date(), mailQueued: () => undefined, log } as unknown as Deps;
    // The timer is out of the way: only the size trigger and explicit flushes write.
    const buffer = new EventBuffer(deps, 10_000);
    const db = ctx.storage.db;
    const stored = async () => Number((await db.selectFrom('analytics_event').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
    try {
      // A busy buffer writes without waiting for the timer.
      for (let i = 0; i < 4000; i++) buffer.add(row(i));
      for (let waited = 0; (await stored()) < 4000 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
      assert.equal(await stored(), 4000);
      assert.equal(buffer.pending, 0);

      await sql`alter table analytics_event rename to analytics_event_away`.execute(db);
      const failures = () => warnings.filter((w) => 'pending' in w).length;
      // The early write fails and its views are kept.
      for (let i = 0; i < 4000; i++) buffer.add(row(i));
      for (let waited = 0; failures() < 1 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
      assert.equal(failures(), 1);
      assert.equal(buffer.pending, 4000);
      // While writes fail, a busy buffer does not try again for every view: the timer retries.
      for (let i = 0; i < 4000; i++) buffer.add(row(i));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(failures(), 1);
      // Past the cap, views are dropped and counted.
      for (let i = 0; i < MAX_PENDING; i++) buffer.add(row(i));
      assert.equal(buffer.pending, MAX_PENDING);
      assert.equal(buffer.droppedFull, 8000);
      await buffer.flush();
      assert.equal(failures(), 2);
      await sql`alter table analytics_event_away rename to analytics_event`.execute(db);
      await buffer.flush();
      assert.equal(await stored(), 4000 + MAX_PENDING);
      assert.ok(warnings.some((w) => w.lost === 8000 && w.reason === 'buffer_full'), 'the loss is logged with its reason');
      assert.equal(buffer.pending, 0);
    } finally {
      await buffer.close();
      await ctx.close();
    }
  });
}
