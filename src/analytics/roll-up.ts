// The rollup job: raw events of every finished UTC hour become aggregates and are deleted
// in the same transaction, so a crash mid-rollup leaves the raw rows for the next run
// (nothing lost, nothing counted twice). The hour in progress is left alone so that its
// visits are counted whole; events of a past hour written late (the buffer's last second)
// are added to that hour by the next run. After it, no visitor key remains in the database.
import type { Deps } from '../deps.ts';
import { inTransaction } from '../unit-of-work.ts';
import { hourOf } from './collect.ts';
import { rollUpEvents } from './store.ts';
import { clearWriteAheadLog } from '../storage/wal.ts';
import { lockAgainstWrites } from '../storage/table-lock.ts';

export const ANALYTICS_ROLLUP_JOB = 'analytics.rollup';

export async function rollUp(deps: Pick<Deps, 'storage' | 'now' | 'mailQueued'>, options: { beforeHour?: string } = {}): Promise<{ events: number; aggregates: number; breakdowns: number; hours: number }> {
  const beforeHour = options.beforeHour ?? hourOf(deps.now());
  const result = await inTransaction(deps, async ({ trx }) => {
    // Events written meanwhile (a late flush for a past hour) wait for the COMMIT, so the
    // delete removes exactly the rows the aggregates counted.
    await lockAgainstWrites(deps.storage.kind, trx, 'analytics_event');
    return rollUpEvents(trx, beforeHour);
  });
  // The deleted rows' visitor keys must not survive in SQLite's WAL either.
  if (result.events > 0) await clearWriteAheadLog(deps.storage);
  return result;
}

export function rollupEveryMs(cadence: 'hourly' | 'daily'): number {
  return cadence === 'hourly' ? 3600_000 : 24 * 3600_000;
}
