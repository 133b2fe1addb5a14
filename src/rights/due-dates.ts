// The one place the desk asks the clock (./clock.ts) for a request's due dates, and the
// words the requester reads them in. The desk does no date arithmetic of its own.
// Mail says neither the request type nor where the requester lives. Until staff set
// them, the request is timed on the company deadline and the law of the business
// calendar's own country (the controller's law, which binds it for every requester;
// for an Irish controller its one month never comes before our 10 business days), with
// the type taken as access (the company deadline is the same for every type). Once set,
// the dates are worked out again from the same receipt instant, and the requester's
// own legal deadline applies when it is earlier.
import { DateTime } from 'luxon';
import type { Deps } from '../deps.ts';
import { computeDeadlines, deadlineRulesFrom } from './clock.ts';
import type { RequestRow } from './store.ts';

export type RequestType = RequestRow['type'];
export const REQUEST_TYPES = ['access', 'correction', 'deletion'] as const;
export const UNSPECIFIED = 'unspecified';

export interface DueDates {
  acknowledgeBy: string;
  respondBy: string;
  acknowledgeRule: { id: string; citation: string };
  respondRule: { id: string; kind: string; citation: string };
}

export function dueDatesFor(deps: Pick<Deps, 'policy'>, input: { receivedAt: Date; type: RequestType; jurisdiction: string }): DueDates {
  const rules = deadlineRulesFrom(deps.policy);
  const result = computeDeadlines(
    {
      receivedAt: input.receivedAt,
      jurisdiction: input.jurisdiction === UNSPECIFIED ? rules.calendar.country : input.jurisdiction,
      type: input.type === UNSPECIFIED ? 'access' : input.type,
    },
    rules,
  );
  return {
    acknowledgeBy: result.acknowledgeBy,
    respondBy: result.respondBy,
    acknowledgeRule: { id: result.acknowledgeRule.id, citation: result.acknowledgeRule.citation },
    respondRule: { id: result.rule.id, kind: result.rule.kind, citation: result.rule.citation },
  };
}

/** Stored form of a due instant: UTC ISO, so it sorts and compares as text on both databases. */
export function toUtcIso(instant: string): string {
  return DateTime.fromISO(instant, { setZone: true }).toUTC().toISO()!;
}

/** "Wednesday 16 December 2026", the date in the business calendar's time zone. */
export function localDate(deps: Pick<Deps, 'policy'>, instantIso: string): string {
  return DateTime.fromISO(instantIso, { zone: deps.policy.policy.business_calendar.time_zone }).setLocale('en-GB').toFormat('cccc d LLLL yyyy');
}

/** "16 Dec 2026 23:59" in the business calendar's zone, for staff. */
export function localDateTime(deps: Pick<Deps, 'policy'>, instantIso: string | null): string {
  if (!instantIso) return '—';
  return DateTime.fromISO(instantIso, { zone: deps.policy.policy.business_calendar.time_zone }).setLocale('en-GB').toFormat('d LLL yyyy HH:mm');
}
