// What the retention page publishes about the last sweep: when it ran and how many rows
// of each kind it deleted (counts only, from the deletion log).
import type { Kysely } from 'kysely';
import type { Database } from '../storage/types.ts';
import { lastFinishedRun, logEntriesOfRun } from './store.ts';

export interface SweepSummary {
  runId: string;
  startedAt: string;
  finishedAt: string;
  /** Rows deleted per table. */
  counts: Record<string, number>;
}

export async function lastSweep(db: Kysely<Database>): Promise<SweepSummary | undefined> {
  const run = await lastFinishedRun(db);
  if (!run || !run.finished_at) return undefined;
  const counts: Record<string, number> = {};
  for (const entry of await logEntriesOfRun(db, run.id)) {
    for (const [table, n] of Object.entries(JSON.parse(entry.counts) as Record<string, number>)) counts[table] = (counts[table] ?? 0) + n;
  }
  return { runId: run.id, startedAt: run.started_at, finishedAt: run.finished_at, counts };
}

const TABLE_WORDS: Record<string, [string, string]> = {
  inquiry: ['request', 'requests'],
  mail_thread: ['email thread', 'email threads'],
  mail_message: ['email', 'emails'],
  mail_attachment: ['attachment', 'attachments'],
  consent_record: ['consent record', 'consent records'],
  consent_confirmation: ['unconfirmed opt-in', 'unconfirmed opt-ins'],
  withdrawal_request: ['unsubscribe-link request', 'unsubscribe-link requests'],
  mail_allowance: ['daily mail allowance', 'daily mail allowances'],
  outbox: ['outgoing email record', 'outgoing email records'],
  person: ['person', 'people'],
};

/** { inquiry: 2, person: 1 } -> "2 requests, 1 person"; nothing -> "nothing was due". */
export function countsInWords(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([table, n]) => {
      const [one, many] = TABLE_WORDS[table] ?? [table.replace(/_/g, ' '), `${table.replace(/_/g, ' ')} rows`];
      return `${n.toLocaleString('en-GB')} ${n === 1 ? one : many}`;
    });
  return parts.length ? parts.join(', ') : 'nothing was due';
}
