// The ingest's per-address budget against a model that keeps every address forever: the
// same answers for any sequence of reports while under the cap, and never more memory
// than two generations of `cap` entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AddressBudget } from '../../src/analytics/address-budget.ts';

test('each address gets `max` reports per minute from its first, then the seconds left', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.tuple(fc.constantFrom('192.0.2.1', '192.0.2.2', '2001:db8::1', '198.51.100.7'), fc.integer({ min: 0, max: 40_000 })), { maxLength: 200 }),
      (max, steps) => {
        const budget = new AddressBudget(max, { windowMs: 60_000, cap: 100 });
        const model = new Map<string, { n: number; until: number }>();
        let now = 1_000_000;
        for (const [address, gap] of steps) {
          now += gap;
          let m = model.get(address);
          if (!m || m.until <= now) model.set(address, (m = { n: 0, until: now + 60_000 }));
          m.n++;
          const want = m.n > max ? Math.max(1, Math.ceil((m.until - now) / 1000)) : 0;
          assert.equal(budget.take(address, now), want);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('past the cap, new addresses go uncounted until the next minute; known ones stay counted', () => {
  const budget = new AddressBudget(1, { windowMs: 60_000, cap: 3 });
  const t = 5_000_000;
  for (const a of ['a', 'b', 'c']) assert.equal(budget.take(a, t), 0);
  assert.equal(budget.take('a', t + 1), 60, 'a known address over its budget');
  assert.equal(budget.take('d', t + 2), 0);
  assert.equal(budget.take('d', t + 3), 0, 'an address past the cap is not counted');
  assert.equal(budget.take('d', t + 60_000), 0, 'the next minute counts it again');
  assert.equal(budget.take('d', t + 60_001), 60);
});
