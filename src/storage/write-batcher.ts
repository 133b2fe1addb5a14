// Group commit: submissions that arrive while a transaction is running are written
// together in the next one, so one fsync covers many rows. Every caller is answered only
// after the COMMIT that holds its rows has returned, and one failing job never takes its
// neighbours down.
//
// Jobs in a batch run one after another in the shared transaction, without savepoints:
// a savepoint and its release cost two more statements per job (and on PostgreSQL a
// subtransaction each, which degrades past 64 per transaction), to guard against a
// failure that is rare. When a job does fail, the whole batch is rolled back instead; the
// failed job is run again on its own (its outcome, success or error, is then final) and
// the others are run again as a batch. Work must therefore touch nothing but the
// transaction it is given, so running it twice is the same as running it once.
//
// Work can also hand items to a collector (`batch.collect`): each collector runs once,
// just before COMMIT, with the items of every job in the batch. The audit trail uses this
// to extend its hash chain once per batch instead of once per job. If a collector fails,
// no job can be blamed, so every job of the batch is run again on its own.
//
// `batch.afterCommit` callbacks run only once the COMMIT holding the job has returned;
// those of an attempt that was rolled back are dropped with it.
//
// A job may open with a lead statement (`runLed`): its item goes, with those of every job
// of the batch that opens the same way, into one statement run before any job, and each
// job then starts with its own row of the result. The intake opens every submission with
// the person and inquiry insert: on PostgreSQL one multi-row statement then stands for a
// batch's worth of round trips, the largest cost left beyond the bare insert. A failing
// lead blames no job, so, as with a collector, every job of the batch runs again alone.
//
// On PostgreSQL several batches may be in flight at once (`concurrency`), each on its
// own connection: collectors that take a shared lock (the audit chain head) run last,
// so a batch holds that lock only from its collectors to its COMMIT. A batch that
// PostgreSQL aborts as a deadlock or serialisation failure is nobody's fault: it is
// run again whole, up to three times, before its jobs are blamed.
import type { ControlledTransaction, Kysely, Transaction } from 'kysely';
import type { Database } from './types.ts';

/** Writes the items collected from every job of one batch, inside its transaction. */
export type Collector<T> = (trx: Transaction<Database>, items: T[]) => Promise<void>;

export interface Batch {
  /** Adds an item for `collector`, which runs once with all of them before COMMIT. */
  collect<T>(collector: Collector<T>, item: T): void;
  /** Runs `fn` after the COMMIT that holds this work (never if it is rolled back). */
  afterCommit(fn: () => void): void;
}

export type Work<T> = (trx: Transaction<Database>, batch: Batch) => Promise<T>;

/** One statement for the items of every job in a batch; a result per item, in order. */
export type Lead<I, R> = (trx: Transaction<Database>, items: I[]) => Promise<R[]>;
export type LedWork<R, T> = (trx: Transaction<Database>, batch: Batch, led: R) => Promise<T>;

interface Job {
  work: LedWork<unknown, unknown>;
  lead?: { run: Lead<unknown, unknown>; item: unknown };
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  /** Failed inside a batch: runs in a transaction of its own. */
  alone: boolean;
  /** Times its batch was aborted by the database for a conflict with another batch. */
  conflicts: number;
}

const MAX_CONFLICT_RETRIES = 3;

/** PostgreSQL's deadlock_detected and serialization_failure: retry, nobody's fault. */
function isTransientConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

/** One transaction's shared state: the collected items and the post-commit callbacks. */
class BatchContext implements Batch {
  readonly collected = new Map<Collector<unknown>, unknown[]>();
  readonly callbacks: Array<() => void> = [];

  collect<T>(collector: Collector<T>, item: T): void {
    const items = this.collected.get(collector as Collector<unknown>);
    if (items) items.push(item);
    // Insertion order is kept, so collectors run in the order jobs first used them.
    else this.collected.set(collector as Collector<unknown>, [item]);
  }

  afterCommit(fn: () => void): void {
    this.callbacks.push(fn);
  }

  async runCollectors(trx: Transaction<Database>): Promise<void> {
    for (const [collector, items] of this.collected) await collector(trx, items);
  }

  runCallbacks(): void {
    for (const fn of this.callbacks) {
      try {
        fn();
      } catch {
        // A callback is a nudge (wake a worker); the commit it follows already stands.
      }
    }
  }
}

/**
 * The same unit of work without batching, in a transaction of its own: for work that is
 * long or must not be retried alongside others (CLI commands, jobs).
 */
export async function runInTransaction<T>(db: Kysely<Database>, work: Work<T>): Promise<T> {
  return runLedInTransaction(db, undefined, (trx, batch) => work(trx, batch));
}

/** `runInTransaction` for work that opens with a lead statement (run here for its item alone). */
export async function runLedInTransaction<I, R, T>(db: Kysely<Database>, lead: { run: Lead<I, R>; item: I } | undefined, work: LedWork<R, T>): Promise<T> {
  const context = new BatchContext();
  const value = await db.transaction().execute(async (trx) => {
    const led = lead ? (await lead.run(trx, [lead.item]))[0] : (undefined as R);
    const result = await work(trx, context, led);
    await context.runCollectors(trx);
    return result;
  });
  context.runCallbacks();
  return value;
}

export interface BatcherOptions {
  maxBatch?: number;
  /** Batches in flight at once: 1 for SQLite (one writer), a few for PostgreSQL. */
  concurrency?: number;
}

export class WriteBatcher {
  private queue: Job[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly db: Kysely<Database>;
  private readonly maxBatch: number;
  private readonly concurrency: number;

  constructor(db: Kysely<Database>, options: BatcherOptions = {}) {
    this.db = db;
    this.maxBatch = options.maxBatch ?? 64;
    this.concurrency = options.concurrency ?? 1;
  }

  run<T>(work: Work<T>): Promise<T> {
    return this.enqueue(undefined, work);
  }

  /** Work that opens with `lead` for `item`: see the lead statement above. */
  runLed<I, R, T>(lead: Lead<I, R>, item: I, work: LedWork<R, T>): Promise<T> {
    return this.enqueue({ run: lead as Lead<unknown, unknown>, item }, work as LedWork<unknown, T>);
  }

  private enqueue<T>(lead: Job['lead'], work: LedWork<unknown, T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, lead, resolve: resolve as (v: unknown) => void, reject, alone: false, conflicts: 0 });
      this.kick();
    });
  }

  /** Runs every lead statement of the batch: each job's own result, by index. */
  private async runLeads(trx: Transaction<Database>, batch: Job[]): Promise<unknown[]> {
    const results: unknown[] = new Array(batch.length);
    const groups = new Map<Lead<unknown, unknown>, number[]>();
    batch.forEach((job, i) => {
      if (!job.lead) return;
      const group = groups.get(job.lead.run);
      if (group) group.push(i);
      else groups.set(job.lead.run, [i]);
    });
    for (const [run, indexes] of groups) {
      const rows = await run(trx, indexes.map((i) => batch[i].lead!.item));
      if (rows.length !== indexes.length) throw new Error(`a lead statement returned ${rows.length} results for ${indexes.length} items`);
      indexes.forEach((i, k) => (results[i] = rows[k]));
    }
    return results;
  }

  /** Nothing of this batch is kept and no job can be blamed: each runs again on its own. */
  private async abandon(trx: ControlledTransaction<Database>, batch: Job[], error: unknown): Promise<void> {
    await trx.rollback().execute().catch(() => undefined);
    if (this.retryWhole(batch, error)) return;
    if (batch.length === 1) {
      batch[0].reject(error);
      return;
    }
    for (const job of batch) job.alone = true;
    this.queue.unshift(...batch);
  }

  private kick(): void {
    if (this.scheduled || this.inFlight >= this.concurrency || this.queue.length === 0) return;
    this.scheduled = true;
    // setImmediate lets requests already parsed in this turn join the batch.
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < this.concurrency && this.queue.length > 0) {
        const batch = this.take();
        this.inFlight++;
        void this.flush(batch).finally(() => {
          this.inFlight--;
          this.kick();
        });
      }
    });
  }

  private take(): Job[] {
    if (this.queue[0].alone) return this.queue.splice(0, 1);
    // With batches in flight, share the queue out so a second connection gets work too.
    const share = Math.ceil(this.queue.length / Math.max(1, this.concurrency - this.inFlight));
    const limit = Math.min(this.maxBatch, Math.max(1, share));
    let n = 1;
    while (n < this.queue.length && n < limit && !this.queue[n].alone) n++;
    return this.queue.splice(0, n);
  }

  /** A conflict with another batch: the same jobs go round again, nobody blamed yet. */
  private retryWhole(batch: Job[], error: unknown): boolean {
    if (!isTransientConflict(error) || batch.some((job) => job.conflicts >= MAX_CONFLICT_RETRIES)) return false;
    for (const job of batch) job.conflicts++;
    this.queue.unshift(...batch);
    return true;
  }

  private async flush(batch: Job[]): Promise<void> {
    const values: unknown[] = [];
    const context = new BatchContext();
    let trx;
    try {
      trx = await this.db.startTransaction().execute();
    } catch (error) {
      for (const job of batch) job.reject(error);
      return;
    }
    let led: unknown[];
    try {
      led = await this.runLeads(trx, batch);
    } catch (error) {
      await this.abandon(trx, batch, error);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      try {
        values.push(await batch[i].work(trx, context, led[i]));
      } catch (error) {
        await trx.rollback().execute().catch(() => undefined);
        if (this.retryWhole(batch, error)) return;
        if (batch.length === 1) {
          batch[0].reject(error);
          return;
        }
        // Nothing of this batch is kept: the failed job retries alone, the rest together.
        batch[i].alone = true;
        this.queue.unshift(batch[i], ...batch.slice(0, i), ...batch.slice(i + 1));
        return;
      }
    }
    try {
      await context.runCollectors(trx);
    } catch (error) {
      await this.abandon(trx, batch, error);
      return;
    }
    try {
      await trx.commit().execute();
    } catch (error) {
      await trx.rollback().execute().catch(() => undefined);
      if (this.retryWhole(batch, error)) return;
      for (const job of batch) job.reject(error);
      return;
    }
    batch.forEach((job, i) => job.resolve(values[i]));
    context.runCallbacks();
  }
}
