// The regional table of legal deadlines for privacy requests (policy/dsr-deadlines.json).
// One row per jurisdiction and request type; each row carries its legal citation and
// source, because every due date the clock computes names the row that produced it.
import { z } from 'zod';
import countries from 'i18n-iso-countries/index.js';

export const requestTypes = ['access', 'correction', 'deletion'] as const;
export type RequestType = (typeof requestTypes)[number];

export const deadlineUnits = ['calendar_days', 'business_days', 'months'] as const;
export type DeadlineUnit = (typeof deadlineUnits)[number];

/** CC (ISO 3166-1 alpha-2) or CC-SUB (an ISO 3166-2 subdivision code such as US-CA, DE-BY). */
export const JURISDICTION = /^([A-Z]{2})(?:-([A-Z0-9]{1,3}))?$/;

export function isKnownCountry(code: string): boolean {
  return code.length === 2 && code === code.toUpperCase() && countries.isValid(code);
}

const jurisdiction = z
  .string()
  .regex(JURISDICTION, 'expected CC or CC-SUB: an ISO 3166-1 alpha-2 country code, optionally with an ISO 3166-2 subdivision (e.g. IE, US-CA)')
  .refine((code) => !JURISDICTION.test(code) || isKnownCountry(code.slice(0, 2)), 'the first two letters are not an ISO 3166-1 alpha-2 country code');

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date written YYYY-MM-DD');

const period = z.strictObject({
  amount: z.number().int('expected a whole number of days or months').positive('expected a positive number'),
  unit: z.enum(deadlineUnits, { error: 'expected one of "calendar_days", "business_days", "months"' }),
});
export type Period = z.infer<typeof period>;

const unitWords: Record<DeadlineUnit, [string, string]> = {
  calendar_days: ['calendar day', 'calendar days'],
  business_days: ['business day', 'business days'],
  months: ['month', 'months'],
};
/** { amount: 10, unit: 'calendar_days' } -> "10 calendar days". */
export const describePeriod = (p: Period) => `${p.amount} ${unitWords[p.unit][p.amount === 1 ? 0 : 1]}`;

export const deadlineRowSchema = z
  .strictObject({
    jurisdiction,
    name: z.string().min(1),
    requestType: z.enum(requestTypes, { error: 'expected one of "access", "correction", "deletion"' }),
    // null: the law sets no fixed period ("without undue delay") or gives no such right;
    // the company deadline then stands alone, and the row still supplies the citation.
    deadline: period.nullable(),
    /** The first and last receipt dates (in the business calendar's zone) the row applies to. */
    effectiveFrom: isoDate.optional(),
    effectiveUntil: isoDate.optional(),
    noStatutoryRight: z.literal(true).optional(),
    /** A legal deadline for acknowledging receipt, where the law sets one. */
    acknowledgeDeadline: period.optional(),
    deadlineAsWritten: z.string().min(1, 'say what the law says, in its words'),
    clockStart: z.string().min(1),
    extension: z.string().min(1),
    ackDeadline: z.string().min(1).nullable(),
    citation: z.string({ error: 'every row needs its legal citation' }).min(1, 'every row needs its legal citation'),
    source: z.string({ error: 'every row needs its source' }).min(1, 'every row needs its source'),
    confidence: z.enum(['high', 'medium', 'low']),
    confidenceDetail: z.string().min(1).optional(),
    verification: z.enum(['verified', 'partly verified', 'unverified', 'not re-checked']),
    verificationNote: z.string().min(1),
    shorterThan10BusinessDays: z.enum(['always', 'sometimes', 'never', 'indeterminate', 'n/a']),
    notes: z.string(),
  })
  .superRefine((row, ctx) => {
    if (row.effectiveFrom && row.effectiveUntil && row.effectiveFrom > row.effectiveUntil) {
      ctx.addIssue({ code: 'custom', path: ['effectiveUntil'], message: 'must not be before effectiveFrom' });
    }
  });

export const deadlineTableSchema = z.array(deadlineRowSchema).superRefine((rows, ctx) => {
  // Two rows for the same jurisdiction and type must not both apply on one day, or the
  // clock could not say which one it used.
  rows.forEach((a, i) => {
    for (let j = 0; j < i; j++) {
      const b = rows[j];
      if (a.jurisdiction !== b.jurisdiction || a.requestType !== b.requestType) continue;
      const overlap = (a.effectiveFrom ?? '0000-00-00') <= (b.effectiveUntil ?? '9999-99-99') && (b.effectiveFrom ?? '0000-00-00') <= (a.effectiveUntil ?? '9999-99-99');
      if (overlap) ctx.addIssue({ code: 'custom', path: [i, 'jurisdiction'], message: `${a.jurisdiction} ${a.requestType} is also row [${j}] for the same dates; give the rows effectiveFrom/effectiveUntil that do not overlap` });
    }
  });
});

export type DeadlineRow = z.infer<typeof deadlineRowSchema>;
