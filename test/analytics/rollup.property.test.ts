// Property tests of the rollup on both databases: the aggregates equal the raw events they
// replace; a rollup that dies before COMMIT changes nothing, and its rerun neither loses
// nor doubles; a rollup cut into slices of the visitor keys counts the same, and one that
// dies between slices leaves the rest for its rerun; a rerun with nothing new is a no-op; events written late to a rolled-up
// hour are added to it; the daily breakdown is the sum of the day's hourly one.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sql } from 'kysely';
import { rollUpEvents, insertEvents } from '../../src/analytics/store.ts';
import { rollUp } from '../../src/analytics/roll-up.ts';
import type { AnalyticsEventTable } from '../../src/storage/types.ts';
import { availableDbKinds, testDb } from '../support/db.ts';

const { kinds, skipped } = await availableDbKinds();
if (skipped) console.log(skipped);

const eventArb = fc.record({
  hour: fc.constantFrom('2026-11-28T23', '2026-11-29T10', '2026-11-29T11', '2026-11-29T12'),
  path: fc.constantFrom('/', '/demo', '/contact', '/privacy?utm_campaign=x'),
  source: fc.constantFrom('direct', 'search', 'social', 'other'),
  referrer_host: fc.constantFrom('', 'google.com', 'example.org'),
  campaign: fc.constantFrom('', 'x'),
  device: fc.constantFrom('mobile', 'tablet', 'desktop'),
  country: fc.constantFrom('', 'GB', 'IE', 'US'),
  visitor: fc.constantFrom('k1', 'k2', 'k3', 'k4', 'k5'),
});

const DIMS = ['hour', 'path', 'source', 'referrer_host', 'campaign', 'device', 'country'] as const;

function expected(events: AnalyticsEventTable[]) {
  const hourly = new Map<string, { visitors: Set<string>; pageviews: number }>();
  const perVisit = new Map<string, number>();
  for (const e of events) {
    const key = DIMS.map((d) => e[d]).join('|');
    const h = hourly.get(key) ?? { visitors: new Set(), pageviews: 0 };
    h.visitors.add(e.visitor);
    h.pageviews++;
    hourly.set(key, h);
    perVisit.set(`${e.hour}|${e.visitor}`, (perVisit.get(`${e.hour}|${e.visitor}`) ?? 0) + 1);
  }
  const breakdown = new Map<string, { visitors: Set<string>; pageviews: number }>();
  for (const e of events) {
    for (const d of DIMS.slice(1)) {
      const key = `${e.hour}|${d}|${e[d]}`;
      const b = breakdown.get(key) ?? { visitors: new Set(), pageviews: 0 };
      b.visitors.add(e.visitor);
      b.pageviews++;
      breakdown.set(key, b);
    }
  }
  const visits = new Map<string, { visits: number; pageviews: number; bounces: number }>();
  for (const [key, n] of perVisit) {
    const hour = key.split('|')[0];
    const v = visits.get(hour) ?? { visits: 0, pageviews: 0, bounces: 0 };
    v.visits++;
    v.pageviews += n;
    if (n === 1) v.bounces++;
    visits.set(hour, v);
  }
  // Per day: the hours' distinct visitors summed, as the dashboard counts them.
  const daily = new Map<string, { visitors: number; pageviews: number }>();
  for (const [key, b] of breakdown) {
    const [hour, dimension, value] = key.split('|');
    const dayKey = `${hour.slice(0, 10)}|${dimension}|${value}`;
    const d = daily.get(dayKey) ?? { visitors: 0, pageviews: 0 };
    d.visitors += b.visitors.size;
    d.pageviews += b.pageviews;
    daily.set(dayKey, d);
  }
  return {
    hourly: [...hourly].map(([key, h]) => `${key}|${h.visitors.size}|${h.pageviews}`).sort(),
    visits: [...visits].map(([hour, v]) => `${hour}|${v.visits}|${v.pageviews}|${v.bounces}`).sort(),
    breakdown: [...breakdown].map(([key, b]) => `${key}|${b.visitors.size}|${b.pageviews}`).sort(),
    daily: [...daily].map(([key, d]) => `${key}|${d.visitors}|${d.pageviews}`).sort(),
  };
}

for (const kind of kinds) {
  describe(`analytics rollup properties (${kind})`, () => {
    let ctx: Awaited<ReturnType<typeof testDb>>;
    before(async () => {
      ctx = await testDb(kind);
    });
    after(async () => {
      await ctx?.close();
    });

    async function reset() {
      for (const t of ['analytics_event', 'analytics_hourly', 'analytics_visits', 'analytics_breakdown', 'analytics_breakdown_daily'] as const) await ctx.storage.db.deleteFrom(t).execute();
    }
    async function stored() {
      const db = ctx.storage.db;
      const hourly = (await db.selectFrom('analytics_hourly').selectAll().execute()).map((r) => `${DIMS.map((d) => r[d]).join('|')}|${Number(r.visitors)}|${Number(r.pageviews)}`).sort();
      const visits = (await db.selectFrom('analytics_visits').selectAll().execute()).map((r) => `${r.hour}|${Number(r.visits)}|${Number(r.pageviews)}|${Number(r.bounces)}`).sort();
      const breakdown = (await db.selectFrom('analytics_breakdown').selectAll().execute()).map((r) => `${r.hour}|${r.dimension}|${r.value}|${Number(r.visitors)}|${Number(r.pageviews)}`).sort();
      const daily = (await db.selectFrom('analytics_breakdown_daily').selectAll().execute()).map((r) => `${r.day}|${r.dimension}|${r.value}|${Number(r.visitors)}|${Number(r.pageviews)}`).sort();
      const raw = Number((await db.selectFrom('analytics_event').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
      return { hourly, visits, breakdown, daily, raw };
    }

    test('rollup totals equal the raw events; a crash before COMMIT changes nothing; reruns neither lose nor double', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(eventArb, { minLength: 0, maxLength: 60 }), fc.boolean(), async (events, crash) => {
          await reset();
          await insertEvents(ctx.storage.db, events);
          if (crash) {
            // The rollup runs whole, then the process "dies" before COMMIT.
            await assert.rejects(
              ctx.storage.db.transaction().execute(async (trx) => {
                await rollUpEvents(trx, '2026-11-29T13');
                throw new Error('crash');
              }),
              /crash/,
            );
            const untouched = await stored();
            assert.deepEqual(untouched, { hourly: [], visits: [], breakdown: [], daily: [], raw: events.length });
          }
          const result = await ctx.storage.db.transaction().execute((trx) => rollUpEvents(trx, '2026-11-29T13'));
          assert.equal(result.events, events.length);
          const want = expected(events);
          assert.deepEqual(await stored(), { ...want, raw: 0 });
          // Nothing new: a rerun is a no-op.
          await ctx.storage.db.transaction().execute((trx) => rollUpEvents(trx, '2026-11-29T13'));
          assert.deepEqual(await stored(), { ...want, raw: 0 });
        }),
        { numRuns: 25 },
      );
    });

    test('a rollup in slices counts exactly what one transaction would; one stopped between slices is finished by the rerun', async () => {
      // Keys spread over many shares (first two characters), as the keyed hash's base64url does.
      // Several visitors to a share ('A1x', 'A1y'), and a key shorter than a share's prefix.
      const keyArb = fc.oneof(fc.tuple(fc.constantFrom(...'AbZ09-_kq'), fc.constantFrom('1', '2'), fc.constantFrom('x', 'y')).map(([a, b, c]) => a + b + c), fc.constant('z'));
      const slicedEventArb = eventArb.chain((e) => keyArb.map((visitor) => ({ ...e, visitor })));
      await fc.assert(
        fc.asyncProperty(
          fc.array(slicedEventArb, { minLength: 0, maxLength: 80 }),
          fc.array(slicedEventArb, { maxLength: 10 }),
          fc.integer({ min: 1, max: 30 }),
          fc.option(fc.nat({ max: 8 }), { nil: undefined }),
          async (events, late, sliceEvents, stopAfter) => {
            await reset();
            await insertEvents(ctx.storage.db, events);
            const deps = { storage: ctx.storage, now: () => new Date('2026-11-29T13:05:00Z'), mailQueued: () => undefined };
            let stopped = false;
            let firstRun: number | undefined;
            if (stopAfter !== undefined) {
              firstRun = await rollUp(deps, {
                sliceEvents,
                afterSlice: async (i) => {
                  if (i !== stopAfter) return;
                  stopped = true;
                  // Written while the run was away from the database: a late flush.
                  await insertEvents(ctx.storage.db, late);
                  throw new Error('crash');
                },
              }).then(
                (r) => r.events,
                (err: Error) => {
                  assert.equal(err.message, 'crash');
                  return undefined;
                },
              );
            }
            const all = stopped ? [...events, ...late] : events;
            const rerun = (await rollUp(deps, { sliceEvents })).events;
            // Not stopped (fewer slices than that): the first run did it all, the rerun nothing.
            if (!stopped) assert.equal((firstRun ?? 0) + rerun, events.length);
            const s = await stored();
            assert.equal(s.raw, 0);
            if (!stopped || late.length === 0) {
              assert.deepEqual(s, { ...expected(all), raw: 0 });
            } else {
              // A late event of a visitor whose slice was done is a visit of its own in the
              // rerun (as with any late event): the page views still add up exactly.
              const sum = (rows: string[], col: number) => rows.reduce((n, r) => n + Number(r.split('|')[col]), 0);
              assert.equal(sum(s.hourly, 8), all.length);
              assert.equal(sum(s.visits, 2), all.length);
              assert.equal(sum(s.breakdown, 4), all.length * 6);
              assert.equal(sum(s.daily, 4), all.length * 6);
            }
          },
        ),
        { numRuns: 30 },
      );
    });

    test('only finished hours are rolled up; late events are added to their hour; page views are never lost or doubled', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(eventArb, { minLength: 1, maxLength: 40 }), fc.array(eventArb, { maxLength: 20 }), async (first, late) => {
          await reset();
          await insertEvents(ctx.storage.db, first);
          await ctx.storage.db.transaction().execute((trx) => rollUpEvents(trx, '2026-11-29T12'));
          const inProgress = first.filter((e) => e.hour === '2026-11-29T12').length;
          assert.equal((await stored()).raw, inProgress, 'the hour in progress stays raw');
          await insertEvents(ctx.storage.db, late);
          await ctx.storage.db.transaction().execute((trx) => rollUpEvents(trx, '2026-11-29T13'));
          const all = [...first, ...late];
          const s = await stored();
          const sum = (rows: string[], col: number) => rows.reduce((n, r) => n + Number(r.split('|')[col]), 0);
          assert.equal(sum(s.hourly, 8), all.length, 'page views in the aggregates');
          assert.equal(sum(s.visits, 2), all.length, 'page views in the visit totals');
          // Late events of a rolled-up hour reach their day's breakdown too: per day, the sum
          // of the stored hourly rows (a visitor whose views of one hour were split across two
          // runs counts once in each, in both tables).
          const daySums = new Map<string, [number, number]>();
          for (const row of s.breakdown) {
            const [hour, dimension, value, visitors, views] = row.split('|');
            const key = `${hour.slice(0, 10)}|${dimension}|${value}`;
            const [v, p] = daySums.get(key) ?? [0, 0];
            daySums.set(key, [v + Number(visitors), p + Number(views)]);
          }
          assert.deepEqual(s.daily, [...daySums].map(([key, [v, p]]) => `${key}|${v}|${p}`).sort(), 'the daily breakdown after late events');
          assert.equal(s.raw, 0);
        }),
        { numRuns: 20 },
      );
    });
  });
}

// Writes that arrive while a rollup runs (the buffer's late flush for a past hour) are
// counted exactly once: by this rollup or by the next, never deleted uncounted.
for (const kind of kinds) {
  test(`analytics rollup with concurrent late writes (${kind}): nothing lost, nothing doubled`, async () => {
    const ctx = await testDb(kind);
    try {
      const deps = { storage: ctx.storage, now: () => new Date('2026-11-29T13:30:00Z'), mailQueued: () => undefined };
      const event = (i: number): AnalyticsEventTable => ({ hour: '2026-11-29T1' + (i % 3), path: `/p${i % 7}`, source: 'direct', referrer_host: '', campaign: '', device: 'desktop', country: '', visitor: `k${i % 11}` });
      let written = 0;
      await insertEvents(ctx.storage.db, Array.from({ length: 3000 }, (_, i) => event(i)));
      written += 3000;
      const writers = (async () => {
        for (let round = 0; round < 40; round++) {
          const rows = Array.from({ length: 25 }, (_, i) => event(round * 25 + i));
          await ctx.storage.db.transaction().execute((trx) => insertEvents(trx, rows));
          written += rows.length;
        }
      })();
      const rollups = (async () => {
        for (let i = 0; i < 6; i++) await rollUp(deps);
      })();
      await Promise.all([writers, rollups]);
      await rollUp(deps);
      const views = (col: 'analytics_visits' | 'analytics_hourly') =>
        ctx.storage.db.selectFrom(col).select(sql<number>`coalesce(sum(pageviews), 0)`.as('n')).executeTakeFirstOrThrow().then((r) => Number(r.n));
      const dimension = await ctx.storage.db.selectFrom('analytics_breakdown').select(sql<number>`coalesce(sum(pageviews), 0)`.as('n')).where('dimension', '=', 'path').executeTakeFirstOrThrow();
      assert.equal(await views('analytics_visits'), written);
      assert.equal(await views('analytics_hourly'), written);
      assert.equal(Number(dimension.n), written);
      const daily = await ctx.storage.db.selectFrom('analytics_breakdown_daily').select(sql<number>`coalesce(sum(pageviews), 0)`.as('n')).where('dimension', '=', 'path').executeTakeFirstOrThrow();
      assert.equal(Number(daily.n), written);
    } finally {
      await ctx.close();
    }
  });
}
