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
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './types.ts';

/** Writes the items collected from every job of one batch, inside its transaction. */
export type Collector<T> = (trx: Transaction<Database>, items: T[]) => Promise<void>;

export interface Batch {
  /** Adds an item for `collector`, which runs once with all of them before COMMIT. */
  collect<T>(collector: Collector<T>, item: T): void;
}

type Work<T> = (trx: Transaction<Database>, batch: Batch) => Promise<T>;
interface Job {
  work: Work<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  /** Failed inside a batch: runs in a transaction of its own. */
  alone: boolean;
}

export class WriteBatcher {
  private queue: Job[] = [];
  private busy = false;
  private readonly db: Kysely<Database>;
  private readonly maxBatch: number;

  constructor(db: Kysely<Database>, maxBatch = 64) {
    this.db = db;
    this.maxBatch = maxBatch;
  }

  run<T>(work: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject, alone: false });
      this.kick();
    });
  }

  private kick(): void {
    if (this.busy || this.queue.length === 0) return;
    this.busy = true;
    // setImmediate lets requests already parsed in this turn join the batch.
    setImmediate(() => {
      void this.flush().finally(() => {
        this.busy = false;
        this.kick();
      });
    });
  }

  private take(): Job[] {
    if (this.queue[0].alone) return this.queue.splice(0, 1);
    let n = 1;
    while (n < this.queue.length && n < this.maxBatch && !this.queue[n].alone) n++;
    return this.queue.splice(0, n);
  }

  private async flush(): Promise<void> {
    const batch = this.take();
    const values: unknown[] = [];
    // Insertion order is kept, so collectors run in the order jobs first used them.
    const collected = new Map<Collector<unknown>, unknown[]>();
    const context: Batch = {
      collect: (collector, item) => {
        const items = collected.get(collector as Collector<unknown>);
        if (items) items.push(item);
        else collected.set(collector as Collector<unknown>, [item]);
      },
    };
    let trx;
    try {
      trx = await this.db.startTransaction().execute();
    } catch (error) {
      for (const job of batch) job.reject(error);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      try {
        values.push(await batch[i].work(trx, context));
      } catch (error) {
        await trx.rollback().execute().catch(() => undefined);
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
      for (const [collector, items] of collected) await collector(trx, items);
    } catch (error) {
      await trx.rollback().execute().catch(() => undefined);
      if (batch.length === 1) {
        batch[0].reject(error);
        return;
      }
      for (const job of batch) job.alone = true;
      this.queue.unshift(...batch);
      return;
    }
    try {
      await trx.commit().execute();
    } catch (error) {
      await trx.rollback().execute().catch(() => undefined);
      for (const job of batch) job.reject(error);
      return;
    }
    batch.forEach((job, i) => job.resolve(values[i]));
  }
}
