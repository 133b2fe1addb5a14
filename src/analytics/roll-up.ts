// The rollup job: raw events of every finished UTC hour become aggregates, and the raw
// rows are deleted in the same transaction as the aggregates they became. The work is cut
// into slices of the visitor keys (all of one visitor's events in one slice, so distinct
// visitors, visits and bounces add up across slices), each slice a short transaction of
// its own, with the event loop free in between: on SQLite the service's one thread is
// held only for a slice at a time, on PostgreSQL the raw table's lock only as long.
// On SQLite the rows are first written again grouped by visitor key, in short runs, so
// that a slice's rows sit on a few pages rather than on every page of the table.
// A crash between slices leaves the slices not yet done raw for the next run (nothing
// lost, nothing counted twice). The hour in progress is left alone so that its visits are
// counted whole; events of a past hour written late (the buffer's last second, or during
// this run into a slice already done) are added to that hour by the next run. After it,
// no visitor key remains in the database.
import { performance } from 'node:perf_hooks';
import type { Deps } from '../deps.ts';
import { inTransaction } from '../unit-of-work.ts';
import { hourOf } from './collect.ts';
import { analyzeEvents, eventRowids, eventsPerShare, regroupEvents, rollUpEvents, rowidAfter } from './store.ts';
import { clearWriteAheadLog } from '../storage/wal.ts';
import { lockAgainstWrites } from '../storage/table-lock.ts';

export const ANALYTICS_ROLLUP_JOB = 'analytics.rollup';

/**
 * Events per slice: at 100,000 events an hour, at most about 45-55 ms on SQLite and
 * 55-170 ms on PostgreSQL on a loaded 2-core machine (bench/analytics.ts). A share (the
 * keys' first two characters, 1/4,096 of them) is never split, so slices stay about this
 * size up to some 10 million events a rollup (a daily cadence included).
 */
export const SLICE_EVENTS = 2500;
/** SQLite: raw rows regrouped per transaction (about 30 ms for 8,000). */
export const REGROUP_ROWS = 8000;

export interface RollupResult {
  events: number;
  /** Aggregate rows written, summed over the slices (a row two slices add to counts twice). */
  aggregates: number;
  breakdowns: number;
  hours: number;
  slices: number;
  /** The longest single transaction (a slice, or on SQLite a regrouping run), in ms. */
  longestSliceMs: number;
}

/** Cuts the shares (in key order) into runs of about `sliceEvents` events each. */
export function planSlices(shares: ReadonlyArray<{ share: string; events: number }>, sliceEvents: number): string[][] {
  const slices: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const { share, events } of shares) {
    if (current.length > 0 && size + events > sliceEvents) {
      slices.push(current);
      current = [];
      size = 0;
    }
    current.push(share);
    size += events;
  }
  if (current.length > 0) slices.push(current);
  return slices;
}

export interface RollupOptions {
  beforeHour?: string;
  sliceEvents?: number;
  /** Called after each slice's COMMIT (tests stop a run there, as a crash would). */
  afterSlice?: (slice: number) => void | Promise<void>;
}

type RollupDeps = Pick<Deps, 'storage' | 'now' | 'mailQueued'>;

// Requests (and the analytics buffer's flushes) that queued up meanwhile go first. A few
// ms rather than one turn of the loop (setImmediate): a request takes several turns (read,
// handler, its queries, write), and with one turn between slices it would wait for two.
const PAUSE_MS = 3;
const yieldToEventLoop = () => new Promise((resolve) => setTimeout(resolve, PAUSE_MS));

/**
 * SQLite: the raw rows present now are written again in runs ordered by visitor key (see
 * regroupEvents), a short transaction per run, so that each slice then reads and rewrites
 * a few pages instead of the whole table. Returns the longest run's time in ms.
 */
async function regroup(deps: RollupDeps, beforeHour: string): Promise<number> {
  const { first, last } = await eventRowids(deps.storage.db);
  let longest = 0;
  // Rows written again land after `last` and are not taken a second time.
  for (let from = first; from > 0 && from <= last; ) {
    const to = Math.min((await rowidAfter(deps.storage.db, from, REGROUP_ROWS)) ?? last + 1, last + 1);
    const t0 = performance.now();
    await inTransaction(deps, ({ trx }) => regroupEvents(trx, beforeHour, from, to));
    longest = Math.max(longest, performance.now() - t0);
    from = to;
    await yieldToEventLoop();
  }
  return longest;
}

export async function rollUp(deps: RollupDeps, options: RollupOptions = {}): Promise<RollupResult> {
  const beforeHour = options.beforeHour ?? hourOf(deps.now());
  const sqlite = deps.storage.kind === 'sqlite';
  const longestRegroup = sqlite ? await regroup(deps, beforeHour) : 0;
  await analyzeEvents(deps.storage.db);
  // On PostgreSQL the rollup runs beside the event loop, not on it, and its lock only holds
  // back the analytics buffer's flushes, which wait in memory: one transaction there (0.6 to
  // 1.3 s for 100,000 events against 3.5 s in slices, bench/analytics.ts). Slices unless a
  // caller asks for a size (tests slice on both databases).
  const sliceEvents = options.sliceEvents ?? (sqlite ? SLICE_EVENTS : Number.POSITIVE_INFINITY);
  const slices = Number.isFinite(sliceEvents) ? planSlices(await eventsPerShare(deps.storage.db, beforeHour), sliceEvents) : [undefined];
  const result: RollupResult = { events: 0, aggregates: 0, breakdowns: 0, hours: 0, slices: slices.length, longestSliceMs: longestRegroup };
  for (const [i, shares] of slices.entries()) {
    await yieldToEventLoop();
    const t0 = performance.now();
    const r = await inTransaction(deps, async ({ trx }) => {
      // Events written meanwhile (a late flush for a past hour) wait for the COMMIT, so the
      // delete removes exactly the rows the aggregates counted.
      await lockAgainstWrites(deps.storage.kind, trx, 'analytics_event');
      return rollUpEvents(trx, beforeHour, shares);
    });
    result.longestSliceMs = Math.max(result.longestSliceMs, performance.now() - t0);
    result.events += r.events;
    result.aggregates += r.aggregates;
    result.breakdowns += r.breakdowns;
    result.hours += r.hours;
    await options.afterSlice?.(i);
  }
  // The deleted rows' visitor keys must not survive in SQLite's WAL either.
  if (result.events > 0) await clearWriteAheadLog(deps.storage);
  return result;
}

export function rollupEveryMs(cadence: 'hourly' | 'daily'): number {
  return cadence === 'hourly' ? 3600_000 : 24 * 3600_000;
}
