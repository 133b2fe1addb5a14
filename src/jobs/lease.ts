// A job's lease taken outside the scheduler, for CLI commands that do a job's work with
// options of their own (`lumetrax retention run`): the same row in job_state, so the
// command and the service's scheduled run never overlap. A lease left by a process of
// this machine that no longer exists (killed mid-run) is taken over at once rather than
// after it expires; holders are `host:pid:random`, as the scheduler writes them.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../storage/types.ts';
import { acquireJobLock, releaseJobLock } from './store.ts';

function deadLocalHolder(holder: string | null): boolean {
  if (!holder) return false;
  const [host, pid] = holder.split(':');
  if (host !== hostname() || !/^\d+$/.test(pid ?? '') || Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as { code?: string }).code === 'ESRCH';
  }
}

export interface Lease {
  /** Extends the lease (between batches of a long run). */
  renew(): Promise<void>;
  release(outcome: { outcome: string; counts: Record<string, number>; durationMs: number }): Promise<void>;
}

/** Takes the job's lease, or returns undefined when a live holder has it. */
export async function takeJobLease(db: Kysely<Database>, name: string, leaseMs: number, now: () => Date = () => new Date()): Promise<Lease | undefined> {
  const holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const until = () => new Date(now().getTime() + leaseMs).toISOString();
  let ok = await acquireJobLock(db, name, holder, now().toISOString(), until());
  if (!ok) {
    const row = await db.selectFrom('job_state').select('locked_by').where('name', '=', name).executeTakeFirst();
    if (row && deadLocalHolder(row.locked_by)) {
      await db.updateTable('job_state').set({ locked_by: null, locked_until: null }).where('name', '=', name).where('locked_by', '=', row.locked_by).execute();
      ok = await acquireJobLock(db, name, holder, now().toISOString(), until());
    }
  }
  if (!ok) return undefined;
  return {
    renew: async () => {
      await acquireJobLock(db, name, holder, now().toISOString(), until());
    },
    release: (o) => releaseJobLock(db, name, holder, { finishedAt: now().toISOString(), ...o }),
  };
}
