// Scheduled work has one home. Each job is data ({ name, cadence, run }); the scheduler
// runs it on its cadence inside the service, and sooner when woken (e.g. right after the
// commit that gave it work). Every run holds the job's lease in the database, so with
// several instances over one PostgreSQL a job runs on one of them at a time; a crashed
// holder's lease simply expires. Each run is logged with its duration and counts, and its
// outcome is kept in job_state for `lumetrax jobs list`.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../storage/types.ts';
import { Cron } from 'croner';
import { acquireJobLock, releaseJobLock } from './store.ts';

export interface JobDefinition {
  name: string;
  description: string;
  /** How often it runs when nothing wakes it (jobs with `cron` give 0: they run on the clock only). */
  everyMs: number;
  /**
   * Instead of `everyMs`: a cron expression and its time zone. Such a job runs at the
   * times it names (not at start), e.g. the retention sweep at 03:00 business time.
   */
  cron?: { pattern: string; timeZone: string };
  /** How long one run may hold the lease before another instance may take over. */
  leaseMs?: number;
  run(): Promise<Record<string, number>>;
}

export type JobRun =
  | { status: 'done'; counts: Record<string, number>; durationMs: number }
  | { status: 'failed'; error: string; durationMs: number }
  | { status: 'busy' };

const DEFAULT_LEASE_MS = 10 * 60_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Slot {
  job: JobDefinition;
  timer?: NodeJS.Timeout;
  running?: Promise<JobRun>;
  again: boolean;
}

export class JobScheduler {
  private readonly slots = new Map<string, Slot>();
  private readonly holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private stopped = true;
  private readonly db: Kysely<Database>;
  private readonly now: () => Date;
  private readonly log: Pick<FastifyBaseLogger, 'info' | 'debug' | 'error'> | undefined;

  constructor(db: Kysely<Database>, jobs: JobDefinition[], options: { now?: () => Date; log?: Pick<FastifyBaseLogger, 'info' | 'debug' | 'error'> } = {}) {
    this.db = db;
    this.now = options.now ?? (() => new Date());
    this.log = options.log;
    for (const job of jobs) {
      if (this.slots.has(job.name)) throw new Error(`job "${job.name}" is declared twice`);
      this.slots.set(job.name, { job, again: false });
    }
  }

  get jobs(): JobDefinition[] {
    return [...this.slots.values()].map((s) => s.job);
  }

  /** Each job runs once now, then on its cadence; a cron job first at its next time. */
  start(): void {
    this.stopped = false;
    for (const slot of this.slots.values()) this.schedule(slot, slot.job.cron ? this.untilNextCron(slot.job.cron) : 0);
  }

  private schedule(slot: Slot, delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(slot.timer);
    // A timer cannot wait longer than about 24.8 days; a cron job further off re-plans then.
    const wait = Math.min(delayMs, MAX_TIMER_MS);
    slot.timer = setTimeout(() => (slot.job.cron && wait < delayMs ? this.schedule(slot, this.untilNextCron(slot.job.cron)) : this.wake(slot.job.name)), wait);
    slot.timer.unref?.();
  }

  /** Milliseconds from now to the cron expression's next time in its zone. */
  private untilNextCron(cron: { pattern: string; timeZone: string }): number {
    const next = new Cron(cron.pattern, { timezone: cron.timeZone, paused: true }).nextRun();
    return next ? Math.max(0, next.getTime() - Date.now()) : MAX_TIMER_MS;
  }

  /** Runs the job soon: now, or right after the run in progress. */
  wake(name: string): void {
    const slot = this.slots.get(name);
    if (!slot || this.stopped) return;
    if (slot.running) {
      slot.again = true;
      return;
    }
    clearTimeout(slot.timer);
    slot.running = this.runLocked(slot).finally(() => {
      slot.running = undefined;
      if (slot.again) {
        slot.again = false;
        this.wake(name);
      } else this.schedule(slot, slot.job.cron ? this.untilNextCron(slot.job.cron) : slot.job.everyMs);
    });
  }

  /** Runs one job now under its lease (the CLI's `jobs run`, tests). */
  async runNow(name: string): Promise<JobRun> {
    const slot = this.slots.get(name);
    if (!slot) throw new Error(`unknown job "${name}"`);
    while (slot.running) await slot.running;
    slot.running = this.runLocked(slot);
    try {
      return await slot.running;
    } finally {
      slot.running = undefined;
    }
  }

  private async runLocked(slot: Slot): Promise<JobRun> {
    const { job } = slot;
    const started = this.now();
    const startedMs = performance.now();
    try {
      const until = new Date(started.getTime() + (job.leaseMs ?? DEFAULT_LEASE_MS)).toISOString();
      if (!(await acquireJobLock(this.db, job.name, this.holder, started.toISOString(), until))) {
        this.log?.debug({ job: job.name }, 'job is running on another instance');
        return { status: 'busy' };
      }
    } catch (error) {
      const code = String((error as { code?: unknown }).code ?? (error as Error).name);
      this.log?.error({ job: job.name, err: { code } }, 'job lease could not be taken');
      return { status: 'failed', error: code, durationMs: Math.round(performance.now() - startedMs) };
    }
    let result: JobRun;
    try {
      const counts = await job.run();
      result = { status: 'done', counts, durationMs: Math.round(performance.now() - startedMs) };
      const busy = Object.values(counts).some((n) => n > 0);
      this.log?.[busy ? 'info' : 'debug']({ job: job.name, durationMs: result.durationMs, counts }, 'job ran');
    } catch (error) {
      // Only a code is kept in job_state: a driver's message may quote a value.
      const code = (error as { code?: unknown }).code;
      result = { status: 'failed', error: typeof code === 'string' ? code : (error as Error).name, durationMs: Math.round(performance.now() - startedMs) };
      // The stack's frames say where; its first line (the message) is left out.
      this.log?.error({ job: job.name, durationMs: result.durationMs, err: { code: result.error, frames: String((error as Error).stack ?? '').split('\n').slice(1).join('\n') } }, 'job failed');
    }
    await releaseJobLock(this.db, job.name, this.holder, {
      finishedAt: this.now().toISOString(),
      outcome: result.status === 'done' ? 'ok' : `failed (${result.status === 'failed' ? result.error : ''})`,
      counts: result.status === 'done' ? result.counts : {},
      durationMs: result.durationMs,
    }).catch((error: unknown) => this.log?.error({ job: job.name, err: { code: (error as { code?: unknown }).code } }, 'job lease could not be released; it expires by itself'));
    return result;
  }

  /** Resolves when no job is running (tests and shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.slots.values()].map((s) => s.running).filter(Boolean);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const slot of this.slots.values()) clearTimeout(slot.timer);
    await this.idle();
  }
}
