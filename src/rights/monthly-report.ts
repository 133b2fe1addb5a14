// The monthly report: requests received in a month (of the business calendar's time
// zone), by type; how long acknowledgement and answer took (median and worst); how many
// answers met their due date, missed it, or are still open (and whether already late).
// An answer is the request being fulfilled or refused; a merged duplicate is left out
// (its twin counts). Reading it is a staff read: audited with the count, as is the CSV.
import { DateTime } from 'luxon';
import type { Deps } from '../deps.ts';
import { inBatch } from '../unit-of-work.ts';
import { receivedBetween, type RequestRow } from './store.ts';
import type { StaffActor } from './staff-actor.ts';

export type Outcome = 'met' | 'missed' | 'open' | 'open_late';

export interface ReportRow {
  request: Pick<RequestRow, 'id' | 'reference' | 'type' | 'jurisdiction' | 'channel' | 'status' | 'received_at' | 'acknowledged_at' | 'respond_by' | 'respond_rule'>;
  answeredAt: string | null;
  ackMs: number | null;
  answerMs: number | null;
  outcome: Outcome;
}

export interface Stat {
  count: number;
  medianMs: number | null;
  worstMs: number | null;
}

export interface MonthlyReport {
  month: string;
  from: string;
  to: string;
  rows: ReportRow[];
  byType: Record<RequestRow['type'], Record<Outcome, number>>;
  acknowledgement: Stat;
  answer: Stat;
  totals: Record<Outcome, number> & { all: number };
}

export function monthBounds(month: string, zone: string): { from: string; to: string } | undefined {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) return undefined;
  const start = DateTime.fromISO(`${month}-01`, { zone });
  if (!start.isValid) return undefined;
  return { from: start.toUTC().toISO()!, to: start.plus({ months: 1 }).toUTC().toISO()! };
}

export function currentMonth(now: Date, zone: string): string {
  return DateTime.fromJSDate(now, { zone }).toFormat('yyyy-LL');
}

export function stat(values: number[]): Stat {
  if (values.length === 0) return { count: 0, medianMs: null, worstMs: null };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const medianMs = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { count: sorted.length, medianMs, worstMs: sorted.at(-1)! };
}

function outcomeOf(r: RequestRow, answeredAt: string | null, now: Date): Outcome {
  if (answeredAt) return answeredAt <= r.respond_by ? 'met' : 'missed';
  return now.toISOString() > r.respond_by ? 'open_late' : 'open';
}

const empty = (): Record<Outcome, number> => ({ met: 0, missed: 0, open: 0, open_late: 0 });

export async function monthlyReport(deps: Pick<Deps, 'storage' | 'now' | 'mailQueued' | 'policy'>, actor: StaffActor, month: string, purpose: 'viewed' | 'exported'): Promise<MonthlyReport | undefined> {
  const zone = deps.policy.policy.business_calendar.time_zone;
  const bounds = monthBounds(month, zone);
  if (!bounds) return undefined;
  return inBatch(deps, async (uow) => {
    const all = await receivedBetween(uow.trx, bounds.from, bounds.to);
    const rows: ReportRow[] = all
      .filter((r) => r.merged_into === null)
      .map((r) => {
        const answeredAt = r.fulfilled_at ?? r.refused_at ?? null;
        return {
          request: { id: r.id, reference: r.reference, type: r.type, jurisdiction: r.jurisdiction, channel: r.channel, status: r.status, received_at: r.received_at, acknowledged_at: r.acknowledged_at, respond_by: r.respond_by, respond_rule: r.respond_rule },
          answeredAt,
          ackMs: r.acknowledged_at ? Date.parse(r.acknowledged_at) - Date.parse(r.received_at) : null,
          answerMs: answeredAt ? Date.parse(answeredAt) - Date.parse(r.received_at) : null,
          outcome: outcomeOf(r, answeredAt, uow.now),
        };
      });
    const byType = { access: empty(), correction: empty(), deletion: empty(), unspecified: empty() };
    const totals = { ...empty(), all: rows.length };
    for (const row of rows) {
      byType[row.request.type][row.outcome]++;
      totals[row.outcome]++;
    }
    uow.audit({ actor: `staff:${actor.staffAccountId}`, action: `privacy_request.report_${purpose}`, entityType: 'privacy_request', entityId: '*', details: { session: actor.sessionId, month, count: rows.length } });
    return {
      month,
      ...bounds,
      rows,
      byType,
      totals,
      acknowledgement: stat(rows.flatMap((r) => (r.ackMs === null ? [] : [r.ackMs]))),
      answer: stat(rows.flatMap((r) => (r.answerMs === null ? [] : [r.answerMs]))),
    };
  });
}
