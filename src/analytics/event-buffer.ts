// Ingest answers before anything is written: page views wait in memory and are written
// every ANALYTICS_FLUSH_MS (1 s by default) in one transaction of bulk inserts (store.ts),
// rather than one transaction per view. What this costs, exactly:
//   - a crash (kill -9, power) loses the views of the last interval, at most
//     ANALYTICS_FLUSH_MS of them (or FLUSH_AT, when they come faster); a clean shutdown
//     writes them first (close()).
//   - while the database is away (or slower than the views arrive), views are kept and
//     written with the next flush that works, up to MAX_PENDING of them (about 3 s of
//     views at 20,000/s, some 9 MB); beyond that new ones are dropped, counted, and the
//     count logged with its reason. A visitor is never made to wait or shown an error for it.
// Dropped bots are counted here too (per hour and layer), so no row is written for them.
import type { Deps } from '../deps.ts';
import { inTransaction } from '../unit-of-work.ts';
import type { AnalyticsEventTable } from '../storage/types.ts';
import { addBotCounts, eventTuple, insertEventTuples } from './store.ts';

export const MAX_PENDING = 60_000;
// A busy second is written in parts: once this many views wait, they are written without
// waiting for the timer. Fewer views held (and promoted by the GC) at a time, and shorter
// transactions (a SQLite write holds the event loop while it runs).
const FLUSH_AT = 4000;

export class EventBuffer {
  // Each view as its JSON text (one string, about 130 bytes) rather than a row object and
  // its strings: what waits for the flush outlives young-generation collections, and one
  // object a view is less to copy, promote and later collect.
  private events: string[] = [];
  private bots = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private lost = 0;
  private failing = false;
  /** Views dropped because the buffer was full, since the start (the log has them per flush). */
  droppedFull = 0;
  private readonly deps: Deps;

  constructor(deps: Deps, flushMs: number) {
    this.deps = deps;
    this.timer = setInterval(() => void this.flush(), flushMs);
    this.timer.unref();
  }

  add(row: AnalyticsEventTable): void {
    if (this.events.length >= MAX_PENDING) {
      this.lost++;
      this.droppedFull++;
      return;
    }
    this.events.push(eventTuple(row));
    // Not while writes fail: then the timer alone retries, once an interval.
    if (this.events.length >= FLUSH_AT && this.flushing === undefined && !this.failing) void this.flush();
  }

  addBot(hour: string, layer: string): void {
    const key = `${hour}|${layer}`;
    this.bots.set(key, (this.bots.get(key) ?? 0) + 1);
  }

  get pending(): number {
    return this.events.length;
  }

  /** Writes what is waiting; one flush at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
    await this.flush();
  }

  private async write(): Promise<void> {
    if (this.lost > 0) {
      this.deps.log?.warn({ lost: this.lost, reason: 'buffer_full' }, 'analytics buffer full (the database away or slower than the views): page views not counted');
      this.lost = 0;
    }
    if (this.events.length === 0 && this.bots.size === 0) return;
    const events = this.events;
    const bots = this.bots;
    this.events = [];
    this.bots = new Map();
    try {
      await inTransaction(this.deps, async ({ trx }) => {
        await insertEventTuples(trx, events);
        await addBotCounts(
          trx,
          [...bots].map(([key, dropped]) => {
            const [hour, layer] = key.split('|');
            return { hour, layer, dropped };
          }),
        );
      });
      this.failing = false;
    } catch (error) {
      this.failing = true;
      // Kept for the next flush (newest dropped first if over the cap).
      const kept = events.concat(this.events);
      if (kept.length > MAX_PENDING) {
        this.lost += kept.length - MAX_PENDING;
        this.droppedFull += kept.length - MAX_PENDING;
        kept.length = MAX_PENDING;
      }
      this.events = kept;
      for (const [key, n] of bots) this.bots.set(key, (this.bots.get(key) ?? 0) + n);
      this.deps.log?.warn({ err: { code: (error as { code?: unknown }).code }, pending: this.events.length }, 'analytics events could not be written; retrying');
    }
  }
}
