// `lumetrax hold ...`: the same use cases as the console's holds page, with `cli` as the
// actor in the audit trail. Refusals are one line and exit 1.
import type { Config } from '../config.ts';
import type { Storage } from '../storage/db.ts';
import cliProgress from 'cli-progress';
import { sql } from 'kysely';
import { takeJobLease } from '../jobs/lease.ts';
import { liftHold, listHolds, placeHold, RetentionError, type HoldRecord } from './holds.ts';
import { RETENTION_SWEEP_JOB, runSweep, sweepCounts, type RuleResult, type SweepDeps, type SweepProgress, type SweepResult } from './sweep.ts';

const { SingleBar, Presets } = cliProgress;

export type WithStorage = <T>(fn: (storage: Storage, config: Config) => Promise<T>) => Promise<T>;

const depsOf = (storage: Storage) => ({ storage, now: () => new Date(), mailQueued: () => undefined });
// Reasons are typed by staff; control characters are shown escaped so they cannot rewrite the screen.
const printable = (text: string) => text.replace(/[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

async function refusalsAsExit1(fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof RetentionError) {
      console.error(`lumetrax: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

export function formatHold(h: HoldRecord): string {
  const state = h.liftedAt ? `lifted ${h.liftedAt} by ${h.liftedBy}` : h.until ? `until ${h.until}` : 'until lifted';
  return `${h.id}  ${h.kind}  ${h.scope} ${h.scopeId}  placed ${h.placedAt} by ${h.placedBy}  ${state}\n    ${printable(h.reason)}`;
}

export function holdAdd(withStorage: WithStorage, input: { kind: string; scope: string; target: string; reason: string; until?: string }): Promise<number> {
  return refusalsAsExit1(() =>
    withStorage(async (storage) => {
      const hold = await placeHold(depsOf(storage), { actor: 'cli', ...input });
      console.log(`Hold ${hold.id} placed: ${hold.kind} on ${hold.scope} ${hold.scopeId}${hold.until ? ` until ${hold.until}` : ', until lifted'}.`);
      return 0;
    }),
  );
}

export function holdList(withStorage: WithStorage, includeLifted: boolean): Promise<number> {
  return withStorage(async (storage) => {
    const holds = await listHolds(depsOf(storage), { actor: 'cli', includeLifted });
    if (holds.length === 0) console.log(includeLifted ? 'No holds have been placed.' : 'No holds are in place.');
    for (const h of holds) console.log(formatHold(h));
    return 0;
  });
}

export function holdLift(withStorage: WithStorage, id: string): Promise<number> {
  return refusalsAsExit1(() =>
    withStorage(async (storage) => {
      const hold = await liftHold(depsOf(storage), { actor: 'cli', holdId: id });
      console.log(`Hold ${hold.id} lifted; what it covered follows the retention rules again.`);
      return 0;
    }),
  );
}

// `lumetrax retention run [--dry-run] [--as-of DATE]`: the sweep on demand, under the
// same lease as the scheduled job. On a terminal a progress bar; otherwise plain lines.
export async function retentionRun(deps: SweepDeps, options: { dryRun: boolean; asOf?: Date }, out: { isTTY: boolean } = { isTTY: Boolean(process.stderr.isTTY) }): Promise<number> {
  const lease = options.dryRun ? undefined : await takeJobLease(deps.storage.db, RETENTION_SWEEP_JOB, 10 * 60_000);
  if (!options.dryRun && !lease) {
    console.error(`lumetrax: the retention sweep is running elsewhere right now (job ${RETENTION_SWEEP_JOB}); nothing was done. Try again when it has finished.`);
    return 1;
  }
  // The command has a connection of its own. A batch's deletions (and their log entry)
  // need not wait for the disk: a power cut can only roll back the last batches, which
  // the next run deletes again; a killed process loses nothing (WAL).
  if (!options.dryRun && deps.storage.kind === 'sqlite') await sql`PRAGMA synchronous = NORMAL`.execute(deps.storage.db);
  const started = performance.now();
  const progress = out.isTTY ? barProgress(options.dryRun) : lineProgress(options.dryRun);
  let result: SweepResult;
  try {
    result = await runSweep(deps, { trigger: 'cli', dryRun: options.dryRun, asOf: options.asOf, progress, betweenBatches: lease?.renew, pauseMs: 2 });
  } catch (error) {
    progress.stop();
    await lease?.release({ outcome: `failed (${String((error as { code?: unknown }).code ?? (error as Error).name)})`, counts: {}, durationMs: Math.round(performance.now() - started) });
    throw error;
  }
  progress.stop();
  await lease?.release({ outcome: 'ok', counts: sweepCounts(result), durationMs: Math.round(performance.now() - started) });
  console.log(options.dryRun ? `Dry run as of ${result.asOf}: nothing was deleted. Due by rule:` : `Sweep as of ${result.asOf} finished in ${((performance.now() - started) / 1000).toFixed(1)} s:`);
  for (const r of result.rules) console.log(ruleLine(r, options.dryRun));
  return 0;
}

function ruleLine(r: RuleResult, dryRun: boolean): string {
  const head = `  ${r.rule.padEnd(22)} ${r.category.padEnd(22)}`;
  if (!r.applied) return `${head} not swept: ${r.note}`;
  const held = r.held ? `, ${r.held} kept by holds` : '';
  if (dryRun) return `${head} ${r.due} due${r.oldest ? `, oldest from ${r.oldest}` : ''}${held}`;
  const counts = Object.entries(r.counts).filter(([, n]) => n > 0).map(([t, n]) => `${t}=${n}`).join(' ');
  return `${head} deleted ${r.due}${counts ? ` (${counts})` : ''}${held}`;
}

interface Progress extends SweepProgress {
  stop(): void;
}

function barProgress(dryRun: boolean): Progress {
  const bar = new SingleBar({ format: `{rule} [{bar}] {value}/{total} ${dryRun ? 'checked' : 'rows'} | {eta_formatted} left`, stream: process.stderr, hideCursor: true, clearOnComplete: false }, Presets.shades_classic);
  let active = false;
  return {
    rule: (rule, total) => {
      if (active) bar.stop();
      bar.start(total, 0, { rule: rule.padEnd(22) });
      active = true;
    },
    advance: (_rule, rows) => bar.increment(rows),
    ruleDone: () => {
      if (active) bar.stop();
      active = false;
    },
    stop: () => {
      if (active) bar.stop();
      active = false;
    },
  };
}

function lineProgress(dryRun: boolean): Progress {
  let done = 0;
  let total = 0;
  let last = 0;
  return {
    rule: (rule, n) => {
      done = 0;
      total = n;
      last = performance.now();
      if (n > 0) console.error(`${rule}: ${n} rows to ${dryRun ? 'check' : 'sweep'}`);
    },
    advance: (rule, rows) => {
      done += rows;
      if (performance.now() - last > 2000) {
        last = performance.now();
        console.error(`${rule}: ${done} of ${total}`);
      }
    },
    ruleDone: () => undefined,
    stop: () => undefined,
  };
}
