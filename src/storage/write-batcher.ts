// Group commit: submissions that arrive while a transaction is running are written
// together in the next one, so one fsync covers many rows. Each job runs inside its own
// savepoint, so one failing job never takes its neighbours down, and every caller is
// answered only after the COMMIT that holds its rows has returned.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './types.ts';

type Work<T> = (trx: Transaction<Database>) => Promise<T>;
interface Job {
  work: Work<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
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
      this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
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

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, this.maxBatch);
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    let trx;
    try {
      trx = await this.db.startTransaction().execute();
      if (batch.length === 1) {
        outcomes.push({ ok: true, value: await batch[0].work(trx) });
      } else {
        for (let i = 0; i < batch.length; i++) {
          // Savepoints run one after another, never nested, so one name serves them all
          // and the statement cache stays small.
          const name = 'batch_job';
          const sp = await trx.savepoint(name).execute();
          try {
            const value = await batch[i].work(sp);
            await sp.releaseSavepoint(name).execute();
            outcomes.push({ ok: true, value });
          } catch (error) {
            await sp.rollbackToSavepoint(name).execute();
            outcomes.push({ ok: false, error });
          }
        }
      }
      await trx.commit().execute();
    } catch (error) {
      if (trx) await trx.rollback().execute().catch(() => undefined);
      for (const job of batch) job.reject(error);
      return;
    }
    batch.forEach((job, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.error);
    });
  }
}
