// The job that keeps the privacy role aware of the clock: for every open request it
// mails each active privacy account once when the request has used 50% of its time,
// once at 80%, and once when its answer is overdue. What was sent is remembered on the
// request (alert_50_at, alert_80_at, alert_breach_at), set in the same unit of work as
// the outbox rows, so a crash never sends twice and never forgets. A request that passed
// several marks since the last run (the service was down) gets one mail, for the
// highest mark, and the lower ones are recorded as passed. With no active privacy
// account nothing is recorded, so the alert goes out once someone can receive it.
import type { Deps } from '../deps.ts';
import { listAccounts } from '../auth/accounts.ts';
import { inTransaction } from '../unit-of-work.ts';
import { riskOf } from './list-requests.ts';
import { alertMail, type AlertLevel } from './mail.ts';
import { recordEvent } from './request-events.ts';
import { findRequest, openForAlerts, updateRequest, type RequestRow } from './store.ts';

export const ALERT_JOB = 'rights.deadline-alerts';

function due(request: RequestRow, now: Date): { level: AlertLevel; marks: Array<'alert_50_at' | 'alert_80_at' | 'alert_breach_at'> } | undefined {
  const { elapsed, msLeft } = riskOf(request, now);
  const passed: Array<['alert_50_at' | 'alert_80_at' | 'alert_breach_at', AlertLevel, boolean]> = [
    ['alert_50_at', '50', elapsed >= 0.5],
    ['alert_80_at', '80', elapsed >= 0.8],
    ['alert_breach_at', 'breach', msLeft < 0],
  ];
  const marks = passed.filter(([column, , reached]) => reached && request[column] === null).map(([column]) => column);
  if (marks.length === 0) return undefined;
  const highest = [...passed].reverse().find(([column]) => marks.includes(column))!;
  return { level: highest[1], marks };
}

export async function sendDeadlineAlerts(deps: Pick<Deps, 'storage' | 'now' | 'mailQueued' | 'policy' | 'config'>): Promise<{ requests: number; alerts: number; mails: number; no_recipients: number }> {
  const counts = { requests: 0, alerts: 0, mails: 0, no_recipients: 0 };
  const recipients = (await listAccounts(deps)).filter((a) => a.role === 'privacy' && a.status === 'active').map((a) => a.email);
  const now = deps.now();
  for (const candidate of await openForAlerts(deps.storage.db)) {
    counts.requests++;
    if (!due(candidate, now)) continue;
    if (recipients.length === 0) {
      counts.no_recipients++;
      continue;
    }
    await inTransaction(deps, async (uow) => {
      // Read again under the transaction: another instance may have sent it meanwhile.
      const request = await findRequest(uow.trx, candidate.id);
      const next = request ? due(request, uow.now) : undefined;
      if (!request || !next || !['received', 'acknowledged', 'verifying', 'in_progress'].includes(request.status)) return;
      const at = uow.now.toISOString();
      await updateRequest(uow.trx, request.id, Object.fromEntries(next.marks.map((m) => [m, at])));
      for (const to of recipients) uow.queueMail('privacy-request-alert', alertMail(deps, to, request, next.level));
      await recordEvent(uow, request.id, { actor: 'system' }, `alert_${next.level}`, { recipients: recipients.length, marks: next.marks.length });
      counts.alerts++;
      counts.mails += recipients.length;
    });
  }
  return counts;
}
