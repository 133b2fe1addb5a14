import type { Kysely } from 'kysely';
import type { Database, JobStateTable } from '../storage/types.ts';

/**
 * Takes the job's lease when it is free or expired (or already ours). One UPDATE with
 * its condition decides, so two instances racing for it cannot both win.
 */
export async function acquireJobLock(db: Kysely<Database>, name: string, holder: string, now: string, until: string): Promise<boolean> {
  await db.insertInto('job_state').values({ name, locked_by: null, locked_until: null, last_started_at: null, last_finished_at: null, last_outcome: null, last_counts: null, last_duration_ms: null }).onConflict((oc) => oc.column('name').doNothing()).execute();
  const result = await db
    .updateTable('job_state')
    .set({ locked_by: holder, locked_until: until, last_started_at: now })
    .where('name', '=', name)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now), eb('locked_by', '=', holder)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function releaseJobLock(
  db: Kysely<Database>,
  name: string,
  holder: string,
  outcome: { finishedAt: string; outcome: string; counts: Record<string, number>; durationMs: number },
): Promise<void> {
  await db
    .updateTable('job_state')
    .set({ locked_by: null, locked_until: null, last_finished_at: outcome.finishedAt, last_outcome: outcome.outcome, last_counts: JSON.stringify(outcome.counts), last_duration_ms: outcome.durationMs })
    .where('name', '=', name)
    .where('locked_by', '=', holder)
    .execute();
}

export async function listJobStates(db: Kysely<Database>): Promise<JobStateTable[]> {
  return db.selectFrom('job_state').selectAll().orderBy('name').execute();
}
