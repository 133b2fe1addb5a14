// The privacy-request clock (promise P8; exact semantics in the design notes, section 4).
// Plain functions, no I/O: given when a request arrived, from where and of what type, it
// says when the acknowledgement and the answer are due and which rule set each date.
//
// - "Within N business days" of T: take T's date in the business calendar's zone; day 1
//   is the first business day after that date; due at 23:59:59.999 local of day N.
// - A legal deadline in calendar days: end of (receipt date + N); in months: the same day
//   of the month N months later, or that month's last day; in business days: as above but
//   on the requester's country calendar (its national public holidays: a region's extra
//   holidays could only move the date later). All dates are in the business calendar's
//   zone, so every due date is an end of day there.
// - The answer is due at the earlier of the company and the legal deadline; on a tie the
//   company rule is reported (the law is met at the same instant).
// - The table's roll-forward rules (a deadline falling on a holiday moves to the next
//   working day, as in Reg. 1182/71) are deliberately not applied: leaving them out can
//   only make a date earlier.
import { DateTime, IANAZone } from 'luxon';
import { describePeriod, isKnownCountry, JURISDICTION, requestTypes, type DeadlineRow, type Period, type RequestType } from '../policy/deadline-table.ts';
import type { LoadedPolicy } from '../policy/load.ts';
import { addCalendarDays, addMonths, BusinessCalendar, hasHolidayData, holidayRegions, type PlainDate } from './business-calendar.ts';

export type { RequestType } from '../policy/deadline-table.ts';

export interface ClockCalendar {
  country: string;
  region?: string;
  timeZone: string;
}

/** What the clock needs from the policy: the company's own deadlines, calendar and the regional table. */
export interface DeadlineRules {
  acknowledgeBusinessDays: number;
  answerBusinessDays: number;
  calendar: ClockCalendar;
  table: readonly DeadlineRow[];
  /** Where the company deadlines are promised, e.g. the notice version. */
  companyCitation: string;
}

export interface RuleRef {
  id: string;
  kind: 'company' | 'legal';
  description: string;
  citation: string;
}

export interface DueDates {
  /** ISO instant with the calendar zone's offset, e.g. 2026-12-02T23:59:59.999+00:00. */
  acknowledgeBy: string;
  respondBy: string;
  /** The rule that set respondBy. */
  rule: RuleRef;
  acknowledgeRule: RuleRef;
}

export interface ClockInput {
  receivedAt: Date;
  jurisdiction: string;
  type: RequestType;
  /** Defaults to the policy's business calendar. */
  calendar?: ClockCalendar;
}

export type ClockInputField = 'receivedAt' | 'jurisdiction' | 'type' | 'calendar' | 'timeZone';

/** Bad input to the clock: which field, and a message fit to show the person who typed it. */
export class ClockInputError extends Error {
  readonly code = 'clock_input';
  readonly field: ClockInputField;
  constructor(field: ClockInputField, message: string) {
    super(message);
    this.name = 'ClockInputError';
    this.field = field;
  }
}

export function deadlineRulesFrom(loaded: LoadedPolicy): DeadlineRules {
  const { policy } = loaded;
  return {
    acknowledgeBusinessDays: policy.deadlines.acknowledge_business_days,
    answerBusinessDays: policy.deadlines.answer_business_days,
    calendar: { country: policy.business_calendar.country, region: policy.business_calendar.region, timeZone: policy.business_calendar.time_zone },
    table: loaded.regionalRules,
    companyCitation: `${policy.organisation.name} privacy notice, version ${loaded.current.version} (deadlines in ${loaded.file.split(/[\\/]/).pop()}: deadlines.acknowledge_business_days, deadlines.answer_business_days)`,
  };
}

const shown = (text: string) => JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text);

/** 'de-by' -> 'DE-BY', checked: a known country, and a subdivision written as ISO 3166-2 does. */
export function parseJurisdiction(text: string): { code: string; country: string; subdivision?: string } {
  const code = text.trim().toUpperCase();
  const match = JURISDICTION.exec(code);
  if (!match) throw new ClockInputError('jurisdiction', `jurisdiction ${shown(text)} is not CC or CC-SUB (an ISO 3166-1 country code such as IE, optionally with an ISO 3166-2 subdivision such as US-CA)`);
  if (!isKnownCountry(match[1])) throw new ClockInputError('jurisdiction', `jurisdiction ${shown(text)}: ${match[1]} is not an ISO 3166-1 alpha-2 country code`);
  return { code, country: match[1], subdivision: match[2] };
}

/** A business calendar named CC or CC-SUB, checked against the holiday data there is. */
export function parseCalendar(text: string, timeZone: string): ClockCalendar {
  const code = text.trim().toUpperCase();
  const match = JURISDICTION.exec(code);
  if (!match) throw new ClockInputError('calendar', `calendar ${shown(text)} is not CC or CC-SUB (e.g. IE, DE-BY, GB-SCT)`);
  return checkCalendar({ country: match[1], region: match[2], timeZone });
}

function checkCalendar(calendar: ClockCalendar): ClockCalendar {
  const { country, region, timeZone } = calendar;
  if (!isKnownCountry(country)) throw new ClockInputError('calendar', `calendar country ${shown(country)} is not an ISO 3166-1 alpha-2 country code`);
  if (!hasHolidayData(country)) throw new ClockInputError('calendar', `calendar country ${country} has no public-holiday data in date-holidays, so its business days are unknown`);
  if (region !== undefined) {
    const regions = holidayRegions(country);
    if (!regions.includes(region)) {
      throw new ClockInputError('calendar', `calendar region ${shown(`${country}-${region}`)} is unknown${regions.length ? ` (${country} has: ${regions.join(', ')})` : ` (${country} has no regional holidays)`}`);
    }
  }
  if (timeZone !== 'UTC' && !IANAZone.isValidZone(timeZone)) throw new ClockInputError('timeZone', `time zone ${shown(timeZone)} is not an IANA time zone such as Europe/Dublin`);
  return calendar;
}

function endOfDay(date: PlainDate, zone: string): DateTime {
  const [year, month, day] = date.split('-').map(Number);
  return DateTime.fromObject({ year, month, day, hour: 23, minute: 59, second: 59, millisecond: 999 }, { zone });
}

// Always a numeric offset (luxon would write Z for UTC), so every date reads the same way.
const iso = (t: DateTime) => t.toFormat("yyyy-MM-dd'T'HH:mm:ss.SSSZZ");

function periodEnd(received: PlainDate, period: Period, calendar: BusinessCalendar): PlainDate {
  switch (period.unit) {
    case 'calendar_days':
      return addCalendarDays(received, period.amount);
    case 'months':
      return addMonths(received, period.amount);
    case 'business_days':
      return calendar.addBusinessDays(received, period.amount);
  }
}

const placeText = (c: { country: string; region?: string }) => (c.region ? `${c.country}-${c.region}` : c.country);

/** The row in force on the receipt date for the jurisdiction, else for its country. */
export function findLegalRow(table: readonly DeadlineRow[], jurisdiction: string, type: RequestType, receivedOn: PlainDate): DeadlineRow | undefined {
  const inForce = (code: string) =>
    table.find((r) => r.jurisdiction === code && r.requestType === type && (!r.effectiveFrom || r.effectiveFrom <= receivedOn) && (!r.effectiveUntil || receivedOn <= r.effectiveUntil));
  return inForce(jurisdiction) ?? (jurisdiction.length > 2 ? inForce(jurisdiction.slice(0, 2)) : undefined);
}

function legalId(row: DeadlineRow, what: 'answer' | 'acknowledge'): string {
  return `legal:${row.jurisdiction}:${row.requestType}:${what}${row.effectiveFrom ? `:from-${row.effectiveFrom}` : ''}`;
}

function caveat(row: DeadlineRow): string {
  return row.confidence === 'high' ? '' : ` (table row confidence: ${row.confidence}, ${row.verification}; see policy/dsr-deadlines.json)`;
}

export function computeDeadlines(input: ClockInput, rules: DeadlineRules): DueDates {
  if (!(input.receivedAt instanceof Date) || Number.isNaN(input.receivedAt.getTime())) throw new ClockInputError('receivedAt', 'the receipt time is not a valid instant');
  if (!(requestTypes as readonly string[]).includes(input.type)) throw new ClockInputError('type', `request type ${shown(String(input.type))} is unknown (expected ${requestTypes.join(', ')})`);
  const where = parseJurisdiction(input.jurisdiction);
  const cal = checkCalendar(input.calendar ?? rules.calendar);
  const zone = cal.timeZone;
  const business = BusinessCalendar.for(cal);
  const receivedOn = DateTime.fromJSDate(input.receivedAt, { zone }).toISODate()!;
  const calName = `${placeText(cal)} business calendar, ${zone}`;

  const companyAnswer = endOfDay(business.addBusinessDays(receivedOn, rules.answerBusinessDays), zone);
  const companyAck = endOfDay(business.addBusinessDays(receivedOn, rules.acknowledgeBusinessDays), zone);

  const row = findLegalRow(rules.table, where.code, input.type, receivedOn);
  const fallback = row && row.jurisdiction !== where.code ? ` (no row of its own for ${where.code}; its country's row applies)` : '';
  // Legal business days run on the requester's country calendar; without holiday data
  // there, weekends alone are skipped, which can only make the date earlier.
  const requesterCalendar = () => BusinessCalendar.for({ country: where.country });

  const companyRule = (days: number, what: string, legalNote: string): RuleRef => ({
    id: `company:${what}:${days}-business-day${days === 1 ? '' : 's'}`,
    kind: 'company',
    description: `${what === 'answer' ? 'Answer' : 'Acknowledge'} within ${days} business day${days === 1 ? '' : 's'} on the ${calName} (company deadline)${legalNote}`,
    citation: rules.companyCitation,
  });

  let respondBy = companyAnswer;
  let rule: RuleRef;
  if (!row) {
    rule = companyRule(rules.answerBusinessDays, 'answer', `; the regional table has no legal deadline for ${where.code} ${input.type} requests, so the company deadline applies alone`);
  } else if (!row.deadline) {
    const why = row.noStatutoryRight ? 'gives no statutory right for this request type' : `sets no fixed period ("${row.deadlineAsWritten}")`;
    rule = companyRule(rules.answerBusinessDays, 'answer', `; the law of ${row.jurisdiction}${fallback} ${why} (${row.citation}), so the company deadline applies`);
  } else {
    const cal2 = row.deadline.unit === 'business_days' ? requesterCalendar() : business;
    const legal = endOfDay(periodEnd(receivedOn, row.deadline, cal2), zone);
    const onWhich = row.deadline.unit === 'business_days' ? ` on the ${cal2.place.country} business calendar` : '';
    if (legal.toMillis() < companyAnswer.toMillis()) {
      respondBy = legal;
      rule = {
        id: legalId(row, 'answer'),
        kind: 'legal',
        description: `${row.name}: answer within ${describePeriod(row.deadline)}${onWhich} of receipt (legal deadline${fallback}), earlier than the company's ${rules.answerBusinessDays} business days${caveat(row)}`,
        citation: row.citation,
      };
    } else {
      rule = companyRule(rules.answerBusinessDays, 'answer', `; earlier than or equal to the legal deadline for ${row.jurisdiction}${fallback} (${describePeriod(row.deadline)}${onWhich}, ${row.citation})`);
    }
  }

  let acknowledgeBy = companyAck;
  let acknowledgeRule = companyRule(rules.acknowledgeBusinessDays, 'acknowledge', '');
  if (row?.acknowledgeDeadline) {
    const cal2 = row.acknowledgeDeadline.unit === 'business_days' ? requesterCalendar() : business;
    const legal = endOfDay(periodEnd(receivedOn, row.acknowledgeDeadline, cal2), zone);
    if (legal.toMillis() < companyAck.toMillis()) {
      acknowledgeBy = legal;
      acknowledgeRule = { id: legalId(row, 'acknowledge'), kind: 'legal', description: `${row.name}: acknowledge within ${describePeriod(row.acknowledgeDeadline)} (legal deadline${fallback})${caveat(row)}`, citation: row.citation };
    }
  }
  // An answer also acknowledges: the acknowledgement is never due after the answer.
  if (respondBy.toMillis() < acknowledgeBy.toMillis()) {
    acknowledgeBy = respondBy;
    acknowledgeRule = { ...rule, description: `${rule.description}; the acknowledgement is due no later than the answer` };
  }
  return { acknowledgeBy: iso(acknowledgeBy), respondBy: iso(respondBy), rule, acknowledgeRule };
}

/**
 * How much of the time between receipt and a due date has passed at `now`: 0 at receipt,
 * 0.5 halfway, 1 at the due instant, above 1 once overdue. For the 50%, 80% and breach alerts.
 */
export function elapsedFraction(receivedAt: Date | string, dueAt: Date | string, now: Date | string = new Date()): number {
  const [start, end, at] = [receivedAt, dueAt, now].map((t) => (t instanceof Date ? t.getTime() : Date.parse(t)));
  if ([start, end, at].some(Number.isNaN)) throw new ClockInputError('receivedAt', 'elapsedFraction needs valid instants');
  if (end <= start) return at >= end ? 1 : 0;
  return Math.max(0, (at - start) / (end - start));
}
