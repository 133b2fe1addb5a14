// The privacy-request clock against dates worked out by hand. Each case says how its
// expected dates were counted (weekdays, the holidays in the window, the zone), so a
// wrong answer from the code cannot quietly become the expectation.
//
// Rules used by hand (design notes section 4): the receipt date is taken in the calendar's
// zone; business day 1 is the first business day AFTER it; a deadline ends at
// 23:59:59.999 local. Business days skip Saturdays, Sundays and public holidays only (a
// "bank" or "observance" day such as Ireland's Good Friday is a working day).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { projectRoot } from '../../src/config.ts';
import { loadPolicy } from '../../src/policy/load.ts';
import type { DeadlineRow } from '../../src/policy/deadline-table.ts';
import { ClockInputError, computeDeadlines, deadlineRulesFrom, elapsedFraction, type ClockCalendar, type DeadlineRules, type RequestType } from '../../src/rights/clock.ts';

const loaded = loadPolicy(join(projectRoot, 'policy', 'lumetrax.yaml'), { checkProofs: false });
const rules = deadlineRulesFrom(loaded);

const IE: ClockCalendar = { country: 'IE', timeZone: 'Europe/Dublin' };
const cal = (code: string, timeZone: string): ClockCalendar => {
  const [country, region] = code.split('-');
  return { country, region, timeZone };
};

function due(received: string, jurisdiction: string, type: RequestType, calendar?: ClockCalendar, r: DeadlineRules = rules) {
  return computeDeadlines({ receivedAt: new Date(received), jurisdiction, type, calendar }, r);
}

function assertCompany(result: ReturnType<typeof due>) {
  assert.equal(result.rule.kind, 'company');
  assert.equal(result.rule.id, 'company:answer:10-business-days');
  assert.match(result.rule.citation, /privacy notice, version 2026-11-25/);
}

describe('the shipped policy', () => {
  test('the business calendar is Ireland on Europe/Dublin, 1 and 10 business days', () => {
    assert.deepEqual(rules.calendar, { country: 'IE', region: undefined, timeZone: 'Europe/Dublin' });
    assert.equal(rules.acknowledgeBusinessDays, 1);
    assert.equal(rules.answerBusinessDays, 10);
  });
});

describe('weekends and public holidays', () => {
  test('IE: a Friday request skips the weekend', () => {
    // Fri 27 Nov 2026, 16:05 in Dublin (GMT, +00:00). Business days after it: Mon 30 Nov (1),
    // Tue 1 .. Fri 4 Dec (2-5), Mon 7 .. Fri 11 Dec (6-10); no Irish public holiday in between.
    const r = due('2026-11-27T16:05:00Z', 'IE', 'access');
    assert.equal(r.acknowledgeBy, '2026-11-30T23:59:59.999+00:00');
    assert.equal(r.respondBy, '2026-12-11T23:59:59.999+00:00');
    assertCompany(r);
    assert.equal(r.acknowledgeRule.kind, 'company');
    assert.equal(r.acknowledgeRule.id, 'company:acknowledge:1-business-day');
  });

  test('IE: Christmas and New Year; the substitute St Stephen\'s Day (a bank holiday) is worked', () => {
    // Wed 23 Dec 2026. Thu 24 Dec (1); Fri 25 Dec Christmas Day (public); Sat 26 St Stephen's
    // Day, Sun 27; Mon 28 Dec is only a bank holiday (the substitute), so a business day (2);
    // Tue 29 (3), Wed 30 (4), Thu 31 (5); Fri 1 Jan 2027 New Year's Day (public);
    // Mon 4 .. Fri 8 Jan (6-10).
    const r = due('2026-12-23T10:00:00Z', 'IE', 'deletion');
    assert.equal(r.acknowledgeBy, '2026-12-24T23:59:59.999+00:00');
    assert.equal(r.respondBy, '2027-01-08T23:59:59.999+00:00');
  });

  test('IE: Good Friday is worked (bank holiday), Easter Monday is not; the answer falls in summer time', () => {
    // Thu 25 Mar 2027, 10:00 GMT. Fri 26 Mar Good Friday: a bank holiday in Ireland, not a
    // public one, so business day 1. Sat 27, Sun 28 (clocks go forward: IST, +01:00);
    // Mon 29 Easter Monday (public). Tue 30 (2), Wed 31 (3), Thu 1 Apr (4), Fri 2 (5),
    // Mon 5 .. Fri 9 Apr (6-10).
    const r = due('2027-03-25T10:00:00Z', 'IE', 'correction');
    assert.equal(r.acknowledgeBy, '2027-03-26T23:59:59.999+00:00');
    assert.equal(r.respondBy, '2027-04-09T23:59:59.999+01:00');
  });

  test('US: Thanksgiving is a holiday, the day after it is not', () => {
    // Wed 25 Nov 2026, 10:00 in New York (EST, -05:00). Thu 26 Nov Thanksgiving (public);
    // Fri 27 Nov (an observance only) is business day 1; Mon 30 Nov (2), Tue 1 .. Fri 4 Dec
    // (3-6), Mon 7 .. Thu 10 Dec (7-10).
    const r = due('2026-11-25T15:00:00Z', 'US-NY', 'access', cal('US', 'America/New_York'));
    assert.equal(r.acknowledgeBy, '2026-11-27T23:59:59.999-05:00');
    assert.equal(r.respondBy, '2026-12-10T23:59:59.999-05:00');
  });

  test('FR: Armistice Day (Wed 11 Nov 2026)', () => {
    // Tue 10 Nov 2026, 11:00 in Paris (+01:00). Wed 11 Nov is a public holiday; Thu 12 (1),
    // Fri 13 (2), Mon 16 .. Fri 20 (3-7), Mon 23 (8), Tue 24 (9), Wed 25 (10).
    const r = due('2026-11-10T10:00:00Z', 'FR', 'access', cal('FR', 'Europe/Paris'));
    assert.equal(r.acknowledgeBy, '2026-11-12T23:59:59.999+01:00');
    assert.equal(r.respondBy, '2026-11-25T23:59:59.999+01:00');
  });
});

describe('regional holidays', () => {
  test('DE-BY keeps Epiphany, DE-BE does not', () => {
    // Tue 5 Jan 2027, 13:00 in Berlin (+01:00). Bavaria: Wed 6 Jan Heilige Drei Könige is a
    // public holiday; Thu 7 (1), Fri 8 (2), Mon 11 .. Fri 15 (3-7), Mon 18 (8), Tue 19 (9),
    // Wed 20 (10). Berlin: Wed 6 (1), Thu 7 (2), Fri 8 (3), Mon 11 .. Fri 15 (4-8),
    // Mon 18 (9), Tue 19 (10).
    const by = due('2027-01-05T12:00:00Z', 'DE', 'access', cal('DE-BY', 'Europe/Berlin'));
    assert.equal(by.acknowledgeBy, '2027-01-07T23:59:59.999+01:00');
    assert.equal(by.respondBy, '2027-01-20T23:59:59.999+01:00');
    const be = due('2027-01-05T12:00:00Z', 'DE', 'access', cal('DE-BE', 'Europe/Berlin'));
    assert.equal(be.acknowledgeBy, '2027-01-06T23:59:59.999+01:00');
    assert.equal(be.respondBy, '2027-01-19T23:59:59.999+01:00');
    assert.match(by.rule.description, /DE-BY business calendar, Europe\/Berlin/);
  });

  test('ES-CT keeps the Diada (Fri 11 Sep 2026), the rest of Spain does not', () => {
    // Thu 10 Sep 2026, 12:00 in Madrid (CEST, +02:00). Catalonia: Fri 11 Sep is a holiday;
    // Mon 14 (1) .. Fri 18 (5), Mon 21 .. Fri 25 (6-10). Spain as a whole: Fri 11 (1),
    // Mon 14 .. Fri 18 (2-6), Mon 21 .. Thu 24 (7-10).
    const ct = due('2026-09-10T10:00:00Z', 'ES', 'deletion', cal('ES-CT', 'Europe/Madrid'));
    assert.equal(ct.acknowledgeBy, '2026-09-14T23:59:59.999+02:00');
    assert.equal(ct.respondBy, '2026-09-25T23:59:59.999+02:00');
    const es = due('2026-09-10T10:00:00Z', 'ES', 'deletion', cal('ES', 'Europe/Madrid'));
    assert.equal(es.acknowledgeBy, '2026-09-11T23:59:59.999+02:00');
    assert.equal(es.respondBy, '2026-09-24T23:59:59.999+02:00');
  });

  test('GB-SCT keeps St Andrew\'s Day (Mon 30 Nov 2026), GB as a whole does not', () => {
    // Fri 27 Nov 2026, 12:00 in London (GMT). Scotland: Mon 30 Nov is a holiday; Tue 1 (1),
    // Wed 2 .. Fri 4 Dec (2-4), Mon 7 .. Fri 11 (5-9), Mon 14 Dec (10). GB: Mon 30 Nov (1),
    // Tue 1 .. Fri 4 (2-5), Mon 7 .. Fri 11 Dec (6-10).
    const sct = due('2026-11-27T12:00:00Z', 'GB-SCT', 'access', cal('GB-SCT', 'Europe/London'));
    assert.equal(sct.acknowledgeBy, '2026-12-01T23:59:59.999+00:00');
    assert.equal(sct.respondBy, '2026-12-14T23:59:59.999+00:00');
    const gb = due('2026-11-27T12:00:00Z', 'GB', 'access', cal('GB', 'Europe/London'));
    assert.equal(gb.acknowledgeBy, '2026-11-30T23:59:59.999+00:00');
    assert.equal(gb.respondBy, '2026-12-11T23:59:59.999+00:00');
  });
});

describe('midnight and time zones', () => {
  test('23:30 UTC on Thursday is still Thursday in Dublin but already Friday in Berlin', () => {
    // Thu 26 Nov 2026 23:30Z. Dublin (GMT): receipt date Thu 26; Fri 27 (1), Mon 30 (2),
    // Tue 1 .. Fri 4 Dec (3-6), Mon 7 .. Thu 10 Dec (7-10).
    const dublin = due('2026-11-26T23:30:00Z', 'IE', 'access', IE);
    assert.equal(dublin.acknowledgeBy, '2026-11-27T23:59:59.999+00:00');
    assert.equal(dublin.respondBy, '2026-12-10T23:59:59.999+00:00');
    // Berlin (+01:00): 00:30 on Fri 27; Mon 30 (1), Tue 1 .. Fri 4 Dec (2-5), Mon 7 .. Fri 11 (6-10).
    const berlin = due('2026-11-26T23:30:00Z', 'DE', 'access', cal('DE', 'Europe/Berlin'));
    assert.equal(berlin.acknowledgeBy, '2026-11-30T23:59:59.999+01:00');
    assert.equal(berlin.respondBy, '2026-12-11T23:59:59.999+01:00');
  });

  test('the last millisecond of a Berlin day and the first of the next', () => {
    // 22:59:59.999Z is 23:59:59.999 on Thu 26 Nov in Berlin: day 1 is Fri 27.
    assert.equal(due('2026-11-26T22:59:59.999Z', 'DE', 'access', cal('DE', 'Europe/Berlin')).acknowledgeBy, '2026-11-27T23:59:59.999+01:00');
    // 23:00:00.000Z is midnight, Fri 27: day 1 is Mon 30.
    assert.equal(due('2026-11-26T23:00:00.000Z', 'DE', 'access', cal('DE', 'Europe/Berlin')).acknowledgeBy, '2026-11-30T23:59:59.999+01:00');
  });

  test('an instant written with an offset is the same instant', () => {
    // 00:30+01:00 on Fri 27 Nov is 23:30Z on Thu 26: in Dublin, still Thursday (as above).
    const r = computeDeadlines({ receivedAt: new Date('2026-11-27T00:30:00+01:00'), jurisdiction: 'IE', type: 'access' }, rules);
    assert.equal(r.acknowledgeBy, '2026-11-27T23:59:59.999+00:00');
  });

  test('Auckland is a day ahead: a Friday-evening UTC request is a Saturday there', () => {
    // Fri 27 Nov 2026 12:00Z is Sat 28 Nov 01:00 in Auckland (NZDT, +13:00). NZ has no
    // public holiday in the window: Mon 30 Nov (1), Tue 1 .. Fri 4 Dec (2-5), Mon 7 .. Fri 11 (6-10).
    const r = due('2026-11-27T12:00:00Z', 'NZ', 'access', cal('NZ', 'Pacific/Auckland'));
    assert.equal(r.acknowledgeBy, '2026-11-30T23:59:59.999+13:00');
    assert.equal(r.respondBy, '2026-12-11T23:59:59.999+13:00');
  });
});

describe('daylight saving time', () => {
  test('received in Irish summer time, due in winter time', () => {
    // Fri 23 Oct 2026, 13:00 IST (+01:00). Clocks go back on Sun 25 Oct. Mon 26 Oct is the
    // October bank holiday (a public holiday in Ireland); Tue 27 (1), Wed 28 .. Fri 30 (2-4),
    // Mon 2 .. Fri 6 Nov (5-9), Mon 9 Nov (10).
    const r = due('2026-10-23T12:00:00Z', 'IE', 'access');
    assert.equal(r.acknowledgeBy, '2026-10-27T23:59:59.999+00:00');
    assert.equal(r.respondBy, '2026-11-09T23:59:59.999+00:00');
  });

  test('New York: received in daylight time, due in standard time', () => {
    // Thu 29 Oct 2026, 12:00 EDT (-04:00). Clocks go back on Sun 1 Nov. Fri 30 Oct (1),
    // Mon 2 .. Fri 6 Nov (2-6), Mon 9, Tue 10 (7, 8), Wed 11 Nov Veterans Day (public),
    // Thu 12 (9), Fri 13 Nov (10).
    const r = due('2026-10-29T16:00:00Z', 'US-NY', 'access', cal('US', 'America/New_York'));
    assert.equal(r.acknowledgeBy, '2026-10-30T23:59:59.999-04:00');
    assert.equal(r.respondBy, '2026-11-13T23:59:59.999-05:00');
  });
});

describe('legal deadlines shorter than the company\'s', () => {
  test('AR access: 10 calendar days', () => {
    // Fri 27 Nov 2026 in Dublin: receipt date 27 Nov + 10 = Mon 7 Dec. The company's 10
    // business days end Fri 11 Dec, so the law wins.
    const r = due('2026-11-27T16:05:00Z', 'AR', 'access');
    assert.equal(r.respondBy, '2026-12-07T23:59:59.999+00:00');
    assert.equal(r.rule.kind, 'legal');
    assert.equal(r.rule.id, 'legal:AR:access:answer');
    assert.match(r.rule.citation, /Law 25,326 Art\. 14\(2\)/);
    assert.match(r.rule.description, /10 calendar days/);
    assert.equal(r.acknowledgeBy, '2026-11-30T23:59:59.999+00:00');
  });

  test('AR correction: 5 business days on the Argentine calendar, not the Irish one', () => {
    // Thu 3 Dec 2026. Argentina: Fri 4 Dec (1); Mon 7 Dec is a "non-working day for
    // tourism" (optional, so worked) (2); Tue 8 Dec Immaculate Conception (public);
    // Wed 9 (3), Thu 10 (4), Fri 11 Dec (5). Ireland's 10 business days: Fri 4, Mon 7 ..
    // Fri 11 (2-6), Mon 14 .. Thu 17 Dec (7-10). The day ends in Dublin (the clock's zone).
    const r = due('2026-12-03T12:00:00Z', 'AR', 'correction');
    assert.equal(r.respondBy, '2026-12-11T23:59:59.999+00:00');
    assert.equal(r.rule.id, 'legal:AR:correction:answer');
    assert.match(r.rule.description, /5 business days on the AR business calendar/);
    assert.match(r.rule.citation, /Law 25,326 Art\. 16/);
  });

  test('KE deletion: 7 calendar days (the table\'s conservative value)', () => {
    // Fri 27 Nov 2026 + 7 = Fri 4 Dec; the row is unverified, which the rule says.
    const r = due('2026-11-27T16:05:00Z', 'KE', 'deletion');
    assert.equal(r.respondBy, '2026-12-04T23:59:59.999+00:00');
    assert.equal(r.rule.kind, 'legal');
    assert.match(r.rule.description, /confidence: low, unverified/);
  });

  test('KR: 10 calendar days', () => {
    // Fri 27 Nov 2026 + 10 = Mon 7 Dec (company: Fri 11 Dec).
    const r = due('2026-11-27T16:05:00Z', 'KR', 'correction');
    assert.equal(r.respondBy, '2026-12-07T23:59:59.999+00:00');
    assert.match(r.rule.citation, /Enforcement Decree|PIPA/);
  });

  test('CL: the 2-business-day rule applies to requests received up to 30 Nov 2026, Law 21,719 from 1 Dec', () => {
    // Mon 30 Nov 2026 in Dublin: Law 19,628 Art. 16, 2 business days on the Chilean
    // calendar: Tue 1 Dec (1), Wed 2 Dec (2).
    const before = due('2026-11-30T12:00:00Z', 'CL', 'access');
    assert.equal(before.respondBy, '2026-12-02T23:59:59.999+00:00');
    assert.equal(before.rule.id, 'legal:CL:access:answer');
    assert.match(before.rule.citation, /Law 19,628 Art\. 12/);
    // Tue 1 Dec: 30 calendar days (31 Dec) is later than the company's Wed 2 .. Fri 4 (1-3),
    // Mon 7 .. Fri 11 (4-8), Mon 14, Tue 15 Dec (9, 10).
    const after = due('2026-12-01T12:00:00Z', 'CL', 'access');
    assert.equal(after.respondBy, '2026-12-15T23:59:59.999+00:00');
    assertCompany(after);
    assert.match(after.rule.description, /CL \(30 calendar days, New Art\. 11 of Law 19,628/);
    // The receipt date is taken in the calendar's zone: 12:00Z on 30 Nov is already 1 Dec in Auckland.
    const auckland = due('2026-11-30T12:00:00Z', 'CL', 'access', cal('IE', 'Pacific/Auckland'));
    assert.equal(auckland.rule.kind, 'company');
  });

  test('a tie goes to the company rule', () => {
    // CO access: 10 business days on the Colombian calendar. Fri 15 Jan 2027: Mon 18 ..
    // Fri 22 (1-5), Mon 25 .. Fri 29 Jan (6-10) in both Colombia and Ireland (no holiday
    // in either between them), so both end on Fri 29 Jan and the company rule is reported.
    const r = due('2027-01-15T12:00:00Z', 'CO', 'access');
    assert.equal(r.respondBy, '2027-01-29T23:59:59.999+00:00');
    assertCompany(r);
    assert.match(r.rule.description, /legal deadline for CO \(10 business days on the CO business calendar/);
  });

  test('a legal deadline later than the company\'s is only mentioned', () => {
    // GB: one month from Fri 27 Nov 2026 is 27 Dec; the company's Fri 11 Dec is earlier.
    const r = due('2026-11-27T16:05:00Z', 'GB', 'access');
    assertCompany(r);
    assert.equal(r.respondBy, '2026-12-11T23:59:59.999+00:00');
    assert.match(r.rule.description, /legal deadline for GB \(1 month, UK GDPR Art\. 12\(3\)/);
  });
});

describe('months', () => {
  // With a 30-business-day company deadline, the GDPR's one month is the earlier one.
  const long: DeadlineRules = { ...rules, answerBusinessDays: 30 };

  test('31 January + 1 month is 28 February, or 29 February in a leap year', () => {
    // 2027 is not a leap year: Sun 31 Jan 2027 -> Sun 28 Feb 2027.
    const r = due('2027-01-31T10:00:00Z', 'DE', 'access', IE, long);
    assert.equal(r.respondBy, '2027-02-28T23:59:59.999+00:00');
    assert.equal(r.rule.id, 'legal:DE:access:answer');
    assert.match(r.rule.citation, /GDPR Art\. 12\(3\)/);
    // 2028 is: Mon 31 Jan 2028 -> Tue 29 Feb 2028.
    assert.equal(due('2028-01-31T10:00:00Z', 'DE', 'access', IE, long).respondBy, '2028-02-29T23:59:59.999+00:00');
  });

  test('the same day of the month when it exists; a month end into a shorter month', () => {
    // Mon 15 Mar 2027 -> Thu 15 Apr 2027, in Irish summer time.
    assert.equal(due('2027-03-15T10:00:00Z', 'FR', 'deletion', IE, long).respondBy, '2027-04-15T23:59:59.999+01:00');
    // Wed 31 Mar 2027 -> 30 Apr 2027 (April has no 31st).
    assert.equal(due('2027-03-31T10:00:00Z', 'FR', 'deletion', IE, long).respondBy, '2027-04-30T23:59:59.999+01:00');
  });

  test('a receipt just before midnight UTC in summer is the next day in Dublin', () => {
    // 30 Apr 2027 23:30Z is 00:30 IST on Sat 1 May: one month later is Tue 1 Jun.
    assert.equal(due('2027-04-30T23:30:00Z', 'IT', 'access', IE, long).respondBy, '2027-06-01T23:59:59.999+01:00');
  });
});

describe('which row applies', () => {
  test('a subdivision without a row of its own falls back to its country\'s row', () => {
    // AR-C (Buenos Aires city) has no row: Argentina's 10 calendar days apply (27 Nov + 10 = 7 Dec).
    const r = due('2026-11-27T16:05:00Z', 'AR-C', 'access');
    assert.equal(r.respondBy, '2026-12-07T23:59:59.999+00:00');
    assert.equal(r.rule.id, 'legal:AR:access:answer');
    assert.match(r.rule.description, /no row of its own for AR-C; its country's row applies/);
  });

  test('a subdivision with its own row uses it (US-CA, 45 days: the company deadline is earlier)', () => {
    const r = due('2026-11-27T16:05:00Z', 'us-ca', 'deletion');
    assertCompany(r);
    assert.match(r.rule.description, /legal deadline for US-CA \(45 calendar days, Cal\. Civ\. Code/);
  });

  test('no row at all: the company deadline alone, and the rule says so', () => {
    const r = due('2026-11-27T16:05:00Z', 'US-NY', 'access');
    assertCompany(r);
    assert.equal(r.respondBy, '2026-12-11T23:59:59.999+00:00');
    assert.match(r.rule.description, /no legal deadline for US-NY access requests, so the company deadline applies alone/);
  });

  test('a row without a fixed period: the company deadline, citing the law', () => {
    const r = due('2026-11-27T16:05:00Z', 'JP', 'access');
    assertCompany(r);
    assert.match(r.rule.description, /the law of JP sets no fixed period/);
  });

  test('the acknowledgement is never due after the answer', () => {
    // A made-up one-calendar-day rule: Fri 27 Nov + 1 = Sat 28 Nov, before Monday's acknowledgement.
    const oneDay: DeadlineRow = { ...rules.table.find((x) => x.jurisdiction === 'KR' && x.requestType === 'access')!, deadline: { amount: 1, unit: 'calendar_days' } };
    const r = due('2026-11-27T16:05:00Z', 'KR', 'access', IE, { ...rules, table: [oneDay] });
    assert.equal(r.respondBy, '2026-11-28T23:59:59.999+00:00');
    assert.equal(r.acknowledgeBy, '2026-11-28T23:59:59.999+00:00');
    assert.equal(r.acknowledgeRule.kind, 'legal');
  });
});

describe('bad input', () => {
  const bad: Array<[string, () => unknown, string, RegExp]> = [
    ['unknown country', () => due('2026-11-27T16:05:00Z', 'XX', 'access'), 'jurisdiction', /XX is not an ISO 3166-1 alpha-2 country code/],
    ['EU is not a country', () => due('2026-11-27T16:05:00Z', 'EU', 'access'), 'jurisdiction', /EU is not an ISO 3166-1/],
    ['malformed jurisdiction', () => due('2026-11-27T16:05:00Z', 'Germany', 'access'), 'jurisdiction', /is not CC or CC-SUB/],
    ['unknown type', () => due('2026-11-27T16:05:00Z', 'IE', 'erasure' as RequestType), 'type', /request type "erasure" is unknown/],
    ['invalid instant', () => due('not a date', 'IE', 'access'), 'receivedAt', /not a valid instant/],
    ['unknown region', () => due('2026-11-27T16:05:00Z', 'DE', 'access', cal('DE-XX', 'Europe/Berlin')), 'calendar', /calendar region "DE-XX" is unknown \(DE has: .*BY/],
    ['no holiday data', () => due('2026-11-27T16:05:00Z', 'IE', 'access', cal('AQ', 'UTC')), 'calendar', /AQ has no public-holiday data/],
    ['unknown zone', () => due('2026-11-27T16:05:00Z', 'IE', 'access', cal('IE', 'Mars/Olympus')), 'timeZone', /"Mars\/Olympus" is not an IANA time zone/],
  ];
  for (const [name, run, field, message] of bad) {
    test(name, () => {
      assert.throws(run, (error: unknown) => {
        assert.ok(error instanceof ClockInputError, String(error));
        assert.equal(error.field, field);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});

describe('elapsedFraction', () => {
  // Received 1 Dec 00:00Z, due 11 Dec 00:00Z: ten days.
  const from = '2026-12-01T00:00:00Z';
  const to = '2026-12-11T00:00:00Z';
  test('0 at receipt, 0.5 and 0.8 on the way, 1 at the due instant, more once overdue', () => {
    assert.equal(elapsedFraction(from, to, '2026-11-30T00:00:00Z'), 0);
    assert.equal(elapsedFraction(from, to, from), 0);
    assert.equal(elapsedFraction(from, to, '2026-12-06T00:00:00Z'), 0.5);
    assert.equal(elapsedFraction(new Date(from), new Date(to), new Date('2026-12-09T00:00:00Z')), 0.8);
    assert.equal(elapsedFraction(from, to, to), 1);
    assert.equal(elapsedFraction(from, to, '2026-12-12T00:00:00Z'), 1.1);
  });
  test('takes the due dates the clock writes', () => {
    // Received 27 Nov 16:05Z, due 11 Dec 23:59:59.999Z: 14 days 7 h 55 min minus 1 ms; at the due instant, 1.
    const r = due('2026-11-27T16:05:00Z', 'IE', 'access');
    assert.equal(elapsedFraction('2026-11-27T16:05:00Z', r.respondBy, '2026-12-11T23:59:59.999Z'), 1);
    assert.ok(elapsedFraction('2026-11-27T16:05:00Z', r.respondBy, '2026-12-12T00:00:00Z') > 1);
  });
  test('bad instants are refused', () => {
    assert.throws(() => elapsedFraction('nonsense', to, from), ClockInputError);
  });
});
