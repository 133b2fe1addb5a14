// The retention sweep: applies every rule of the policy as of a date, deleting what is
// due in bounded batches, each committed with its deletion-log entry, so a kill loses
// nothing and a rerun carries on without counting anything twice. Holds in force are
// read again in every batch's transaction, and nothing they cover is deleted. Intake is
// not blocked: a batch is kept short (its size adapts to a time budget) and the sweep
// pauses between batches so waiting writers get the database (on SQLite until one has
// committed, briefly). Batches take a rule's due rows in the order they sit on disk, so
// each dirties few pages.
import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps.ts';
import { DATA_CATEGORIES, type CategorySpec } from '../storage/categories.ts';
import { inTransaction } from '../unit-of-work.ts';
import { hashDeletedIds, recordDeletion } from './deletion-log.ts';
import { domainOf } from './holds.ts';
import { cutoffOf, type RetentionRule } from './schedule.ts';
import { activeHolds, finishRun, insertRun, touchRun, type HoldRow } from './store.ts';
import { checkpointBetweenBatches, checkpointSqlite, collect, dataVersion, sqliteSweepSettings, countDue, pick, SOURCES, type Candidate, type Source } from './sweep-store.ts';

export const RETENTION_SWEEP_JOB = 'retention.sweep';

export type SweepDeps = Pick<Deps, 'storage' | 'signer' | 'policy' | 'now' | 'mailQueued'>;

export interface RuleResult {
  rule: string;
  category: string;
  /** False when the rule keeps its data indefinitely, or its data is not stored here (yet). */
  applied: boolean;
  /** Why a rule was not applied. */
  note?: string;
  /** Rows of the rule's own table found due and not held (deleted, unless a dry run). */
  due: number;
  /** Rows due but covered by a hold, and so kept. */
  held: number;
  /** The earliest date counted from among the due rows. */
  oldest: string | null;
  /** Rows deleted per table (a dry run deletes nothing). */
  counts: Record<string, number>;
}

export interface SweepProgress {
  rule(rule: string, total: number): void;
  advance(rule: string, rows: number): void;
  ruleDone(result: RuleResult): void;
}

export interface SweepOptions {
  /** Evaluate the rules as if on this date (default: now). */
  asOf?: Date;
  dryRun?: boolean;
  /** Who started it, for the run row and the audit trail: `job`, `cli`. */
  trigger: string;
  progress?: SweepProgress;
  /** Called between batches (e.g. to renew the job lease). */
  betweenBatches?: () => Promise<void>;
  /** Starting batch size and the time budget a batch aims at. */
  batchSize?: number;
  batchBudgetMs?: number;
  /** Pause between batches, so other writers get the database. */
  pauseMs?: number;
  /** On SQLite, how long to wait after a batch for another connection's commit (default 100 ms, 5 ms while nobody else writes). */
  yieldMs?: number;
}

export interface SweepResult {
  runId: string | null;
  asOf: string;
  dryRun: boolean;
  rules: RuleResult[];
}

interface HeldSets {
  persons: Set<string>;
  inquiries: Set<string>;
  domains: Set<string>;
}

function heldSets(holds: HoldRow[]): HeldSets {
  const sets: HeldSets = { persons: new Set(), inquiries: new Set(), domains: new Set() };
  for (const h of holds) (h.scope === 'person' ? sets.persons : h.scope === 'inquiry' ? sets.inquiries : sets.domains).add(h.scope_id);
  return sets;
}

function isHeld(c: Candidate, held: HeldSets): boolean {
  if (c.person_id && held.persons.has(c.person_id)) return true;
  if (c.inquiry_id && held.inquiries.has(c.inquiry_id)) return true;
  if (held.domains.size > 0 && c.email) {
    const domain = domainOf(c.email);
    if (domain && held.domains.has(domain)) return true;
  }
  return false;
}

/** The rules in the order they run: people last, once nothing else refers to them. */
function ordered(rules: RetentionRule[]): RetentionRule[] {
  return [...rules.filter((r) => r.category !== 'people'), ...rules.filter((r) => r.category === 'people')];
}

function sourceOf(rule: RetentionRule): Source | undefined {
  return SOURCES[rule.category]?.[rule.from];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * On SQLite, between two batches: checkpoint (that holds no lock intake's writes wait
 * for), then wait until another connection has committed, or until `maxMs` from the
 * start. A writer that found the database locked sleeps in its busy handler in steps of
 * up to 25 ms, after a while 50 and then 100 ms; a pause of a few milliseconds mostly
 * misses it, and it would wait behind batch after batch. The checkpoint comes first so
 * that the sweep, not intake's next commit, copies the batch's pages back (a commit that
 * finds the WAL past its threshold checkpoints it before it returns).
 */
async function yieldToWriters(db: SweepDeps['storage']['db'], maxMs: number): Promise<boolean> {
  const until = performance.now() + maxMs;
  const before = await dataVersion(db);
  await checkpointBetweenBatches(db);
  while (performance.now() < until) {
    if ((await dataVersion(db)) !== before) return true;
    await sleep(1);
  }
  return false;
}
/**
 * The wait after each batch: while other writers have committed lately (within 2 s), up
 * to 100 ms, the longest a busy handler sleeps, so even a writer that has waited long
 * gets its turn (the wait ends at its commit); while nobody else writes, 5 ms.
 */
function writerTurns(db: SweepDeps['storage']['db'], maxMs: number): () => Promise<void> {
  let lastSeen = performance.now();
  return async () => {
    const active = performance.now() - lastSeen < WRITERS_ACTIVE_MS;
    if (await yieldToWriters(db, active ? maxMs : MIN_YIELD_MS)) lastSeen = performance.now();
  };
}
const YIELD_MS = 100;
const MIN_YIELD_MS = 5;
const WRITERS_ACTIVE_MS = 2000;
const MIN_BATCH = 20;
/**
 * What a batch aims at. On SQLite it holds the one write lock, and intake waits behind
 * it: 40 ms. On PostgreSQL it locks only the rows it deletes, and a longer batch spends
 * fewer round trips and commits per row.
 */
const BATCH_BUDGET_MS = { sqlite: 40, postgres: 250 };
const MAX_BATCH = { sqlite: 2000, postgres: 5000 };
/** Tries of a batch that found SQLite's write lock taken for longer than the busy timeout. */
const BUSY_TRIES = 5;

/** SQLite's "database is locked" (SQLITE_BUSY, possibly extended) from node:sqlite. */
const isBusy = (error: unknown) => (Number((error as { errcode?: unknown }).errcode) & 0xff) === 5;
/** Due rows a pass holds in memory (rowids or ids): a few megabytes. */
const PASS_LIMIT = 200_000;

export async function runSweep(deps: SweepDeps, options: SweepOptions): Promise<SweepResult> {
  const asOf = options.asOf ?? deps.now();
  const asOfIso = asOf.toISOString();
  const dryRun = options.dryRun ?? false;
  const db = deps.storage.db;
  const runId = dryRun ? null : randomUUID();
  if (runId) await insertRun(db, { id: runId, as_of: asOfIso, started_at: deps.now().toISOString(), finished_at: null, status: 'running', trigger: options.trigger });

  const restore = !dryRun && deps.storage.kind === 'sqlite' ? await sqliteSweepSettings(db) : undefined;
  try {
    return await sweepRules(deps, options, { asOf, asOfIso, dryRun, runId });
  } finally {
    await restore?.();
  }
}

async function sweepRules(deps: SweepDeps, options: SweepOptions, run: { asOf: Date; asOfIso: string; dryRun: boolean; runId: string | null }): Promise<SweepResult> {
  const { asOf, asOfIso, dryRun, runId } = run;
  const db = deps.storage.db;
  const results: RuleResult[] = [];
  const turns = !dryRun && deps.storage.kind === 'sqlite' ? writerTurns(db, options.yieldMs ?? YIELD_MS) : undefined;
  for (const rule of ordered(deps.policy.policy.retention.rules)) {
    const result: RuleResult = { rule: rule.id, category: rule.category, applied: false, due: 0, held: 0, oldest: null, counts: {} };
    const cutoff = cutoffOf(rule, asOf);
    const source = sourceOf(rule);
    const spec: CategorySpec = DATA_CATEGORIES[rule.category];
    if (!cutoff) result.note = 'kept indefinitely';
    else if (!source) result.note = spec.swept ? 'no such data is stored on this installation yet' : 'kept by design';
    else {
      result.applied = true;
      await sweepRule(deps, options, { rule, source, cutoff, asOfIso, runId, dryRun, result, turns });
    }
    options.progress?.ruleDone(result);
    results.push(result);
  }

  if (runId) {
    const totals: Record<string, number> = {};
    for (const r of results) for (const [t, c] of Object.entries(r.counts)) totals[t] = (totals[t] ?? 0) + c;
    await inTransaction(deps, async (uow) => {
      await finishRun(uow.trx, runId, uow.now.toISOString());
      uow.audit({ actor: options.trigger === 'job' ? 'system' : options.trigger, action: 'retention.sweep_finished', entityType: 'retention_run', entityId: runId, details: { as_of: asOfIso, held: results.reduce((s, r) => s + r.held, 0), ...Object.fromEntries(Object.entries(totals).map(([t, c]) => [`deleted_${t}`, c])) } });
    });
    // Freed pages are zeroed as they are freed (secure_delete); the WAL still holds
    // images of the pages as they were until it is checkpointed and emptied.
    if (deps.storage.kind === 'sqlite') await checkpointSqlite(db);
  }
  return { runId, asOf: asOfIso, dryRun, rules: results };
}

async function sweepRule(
  deps: SweepDeps,
  options: SweepOptions,
  job: { rule: RetentionRule; source: Source; cutoff: string; asOfIso: string; runId: string | null; dryRun: boolean; result: RuleResult; turns?: () => Promise<void> },
): Promise<void> {
  const { rule, source, cutoff, asOfIso, runId, dryRun, result, turns } = job;
  const db = deps.storage.db;
  const kind = deps.storage.kind;
  const parts = source.parts(cutoff);
  const pickParts = (kind === 'postgres' && source.lockedPickParts?.(cutoff)) || parts;
  options.progress?.rule(rule.id, await countDue(db, parts));
  const noteOldest = (due: Candidate[]) => {
    for (const c of due) if (c.at && (result.oldest === null || c.at < result.oldest)) result.oldest = c.at;
  };
  const heldAsOf = dryRun ? heldSets(await activeHolds(db, asOfIso)) : undefined;

  let size = options.batchSize ?? 200;
  const budget = options.batchBudgetMs ?? BATCH_BUDGET_MS[kind];
  const maxBatch = MAX_BATCH[kind];
  // Passes over the due rows in the rule's key order; each pass is then worked through in
  // the order its rows sit on disk. A pass is bounded, so memory is too.
  for (let after: string[] | undefined; ; ) {
    const pass = await collect(db, kind, parts, after, PASS_LIMIT);
    for (let i = 0; i < pass.members.length; ) {
      const members = pass.members.slice(i, i + size) as number[] | string[];
      i += members.length;
      if (heldAsOf) {
        const batch = await pick(db, kind, parts, members);
        const due = batch.filter((c) => !isHeld(c, heldAsOf));
        result.due += due.length;
        result.held += batch.length - due.length;
        noteOldest(due);
        options.progress?.advance(rule.id, members.length);
        continue;
      }
      const started = deps.now().toISOString();
      let locked = performance.now();
      // One transaction per batch: the holds, the rows, their deletion and its log entry.
      const attempt = () => inTransaction(deps, async (uow) => {
        // A write first: on SQLite the transaction then waits for the write lock (busy
        // timeout) instead of failing when intake commits between its reads and its deletes.
        if (runId) await touchRun(uow.trx, runId);
        // The batch's own time starts once it holds the lock: waiting for intake is not work.
        locked = performance.now();
        const held = heldSets(await activeHolds(uow.trx, asOfIso));
        // Read again under the lock: a row no longer due (reopened, already deleted) drops out.
        const batch = await pick(uow.trx, kind, pickParts, members);
        const unheld = batch.filter((c) => !isHeld(c, held));
        let due = unheld;
        const removed = await source.remove(uow.trx, due.map((c) => c.id), cutoff);
        // What `remove` found no longer due under its locks was not due after all.
        if (pickParts !== parts && removed.ids.length < due.length) {
          const gone = new Set(removed.ids);
          due = due.filter((c) => gone.has(c.id));
        }
        if (removed.ids.length > 0) {
          await recordDeletion(uow.trx, {
            runId: runId ?? undefined,
            rule: rule.id,
            category: rule.category,
            counts: removed.counts,
            affectedIdHashes: hashDeletedIds(deps.signer, removed.ids),
            startedAt: started,
            finishedAt: deps.now().toISOString(),
          });
        }
        return { held: batch.length - unheld.length, due, removed };
      });
      // Intake busy for longer than the busy timeout is no reason to give up the run:
      // the batch was rolled back whole, and is tried again after a pause.
      let outcome: Awaited<ReturnType<typeof attempt>> | undefined;
      for (let tries = 1; !outcome; tries++) {
        try {
          outcome = await attempt();
        } catch (error) {
          if (!isBusy(error) || tries >= BUSY_TRIES) throw error;
          await sleep(100 * tries);
        }
      }
      const { held, due, removed } = outcome;
      // Aim each batch at the time budget: short enough that intake waits little behind it.
      const took = performance.now() - locked;
      result.due += due.length;
      result.held += held;
      noteOldest(due);
      for (const [t, c] of Object.entries(removed.counts)) result.counts[t] = (result.counts[t] ?? 0) + c;
      options.progress?.advance(rule.id, members.length);
      await turns?.();
      size = Math.max(MIN_BATCH, Math.min(maxBatch, Math.round(size * Math.min(2, Math.max(0.5, budget / Math.max(took, 1))))));
      await options.betweenBatches?.();
      if (options.pauseMs) await sleep(options.pauseMs);
    }
    if (!pass.full) break;
    after = pass.cursor;
  }
}

/** A sweep's outcome as a job's counts: rows deleted per table, and rows kept by holds. */
export function sweepCounts(result: SweepResult): Record<string, number> {
  const counts: Record<string, number> = { held: 0 };
  for (const r of result.rules) {
    counts.held += r.held;
    for (const [t, c] of Object.entries(r.counts)) counts[t] = (counts[t] ?? 0) + c;
  }
  return counts;
}
