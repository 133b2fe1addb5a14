// The policy file's shape. Every rule here names what is expected, because the error
// text is what an operator reads when the service refuses to start.
import { z } from 'zod';
import countries from 'i18n-iso-countries/index.js';
import { Cron } from 'croner';
import { CATEGORY_IDS, DATA_CATEGORIES, RETENTION_EVENTS, type CategorySpec } from '../storage/categories.ts';

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date written YYYY-MM-DD');
const email = z.email('expected an email address');
const fidesCategory = z
  .string()
  .regex(/^(user|system|account)(\.[a-z_]+)+$/, 'expected a fideslang data category such as user.contact.email');

const timeZone = z.string().refine((tz) => {
  // The zone list first: a DateTimeFormat loads ICU's date-format data (~8 MB of RSS).
  if (tz === 'UTC' || Intl.supportedValuesOf('timeZone').includes(tz)) return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'expected an IANA time zone such as Europe/Dublin');

const countryCode = z
  .string()
  .refine((c) => countries.isValid(c) && c === c.toUpperCase() && c.length === 2, 'expected an ISO 3166-1 alpha-2 country code such as IE');

const formSchema = z.strictObject({
  title: z.string().min(1),
  intro: z.string().min(1),
  context_label: z.string().min(1),
  context_hint: z.string().min(1),
  submit_label: z.string().min(1),
  purpose: z.string().min(1),
});

const fieldSchema = z.strictObject({
  label: z.string().min(1),
  max_length: z.number().int().positive().max(100_000).optional(),
  category: fidesCategory,
});

export const lawfulBases = ['consent', 'contract', 'legal_obligation', 'vital_interests', 'public_task', 'legitimate_interest'] as const;

function validCron(pattern: string): boolean {
  try {
    new Cron(pattern, { paused: true });
    return pattern.trim().split(/\s+/).length === 5;
  } catch {
    return false;
  }
}

// One retention rule: which stored category, how long, from which event, why and on what basis.
const retentionRule = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'expected a lower_snake_case rule id'),
  category: z.enum(CATEGORY_IDS, { error: `expected a stored category: ${CATEGORY_IDS.join(', ')}` }),
  // What the data is, in words for the published schedule.
  data: z.string().min(1),
  keep_days: z.union([z.number().int().min(0).max(36_500), z.literal('indefinitely')], { error: 'expected a number of days, or indefinitely' }),
  from: z.enum(RETENTION_EVENTS, { error: `expected the event the time counts from: ${RETENTION_EVENTS.join(', ')}` }),
  purpose: z.string({ error: 'every retention rule needs a purpose (why the data is kept that long)' }).trim().min(1, 'every retention rule needs a purpose (why the data is kept that long)'),
  legal_basis: z.enum(lawfulBases, { error: `every retention rule needs a legal_basis: one of ${lawfulBases.join(', ')}` }),
});

export const policySchema = z
  .strictObject({
    organisation: z.strictObject({
      name: z.string().min(1),
      legal_name: z.string().min(1),
      website: z.url(),
      // Optional: the notice prints a postal address only when the policy gives one.
      postal_address: z.string().min(1).optional(),
      privacy_address: email,
      privacy_subject: z.string().min(1),
      staff_inbox: email,
      mail_from: z.string().regex(/^[^<>\r\n]+ <[^<>\s@]+@[^<>\s@]+>$|^[^<>\s@]+@[^<>\s@]+$/, 'expected "Name <address>" or an address'),
    }),
    business_calendar: z.strictObject({
      country: countryCode,
      region: z.string().min(1).optional(),
      time_zone: timeZone,
    }),
    forms: z.strictObject({ demo: formSchema, contact: formSchema }),
    fields: z.strictObject({
      name: fieldSchema,
      email: fieldSchema,
      company: fieldSchema,
      role: fieldSchema,
      country: fieldSchema,
      context: fieldSchema,
    }),
    email_rules: z.strictObject({
      refuse_disposable: z.boolean(),
      free_mail: z.enum(['flag', 'refuse']),
    }),
    marketing: z.strictObject({
      purpose: z.string().min(1),
      checkbox_wording: z.string().min(10),
    }),
    purposes: z
      .array(
        z.strictObject({
          id: z.string().regex(/^[a-z_]+$/, 'expected a lower_snake_case id'),
          name: z.string().min(1),
          lawful_basis: z.enum(lawfulBases),
          basis_detail: z.string().min(1),
          categories: z.array(fidesCategory).min(1),
        }),
      )
      .min(1),
    retention: z.strictObject({
      follow_up_window_days: z.number().int().min(1).max(3650),
      // A cron expression, run in business_calendar.time_zone; the pages say it in words.
      sweep_cadence: z.string().refine(validCron, 'expected a cron expression such as "0 3 * * *" (minute hour day-of-month month day-of-week)'),
      // When the backup job snapshots the embedded database into the backup folder (a
      // cron expression like sweep_cadence); unset: no scheduled backups.
      backup_cadence: z.string().refine(validCron, 'expected a cron expression such as "30 2 * * *" (minute hour day-of-month month day-of-week)').optional(),
      // How long backup snapshots are kept; the job destroys older ones in the backup
      // folder. Published on /privacy/retention.
      backup_retention_days: z.number({ error: 'expected the number of days backups are kept, e.g. 35' }).int().min(1).max(3650),
      rules: z.array(retentionRule).min(1),
      legal_hold_note: z.string().min(1),
    }),
    deadlines: z.strictObject({
      acknowledge_business_days: z.number().int().min(1).max(30),
      answer_business_days: z.number().int().min(1).max(90),
      regional_rules_file: z.string().min(1),
    }),
    cookies: z.array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected a cookie name of letters, digits, _ and -'),
        purpose: z.string().min(1),
        category: z.literal('strictly_necessary', {
          error: 'only strictly_necessary cookies may be declared (promise P9)',
        }),
        lifetime_seconds: z.number().int().positive().max(400 * 24 * 3600),
        set_when: z.string().min(1),
        http_only: z.boolean(),
        same_site: z.enum(['strict', 'lax']),
      }),
    ),
    // Email threads: what the inbound listener and poller accept and keep.
    correspondence: z.strictObject({
      // Accepted besides organisation.privacy_address and staff_inbox.
      inbound_addresses: z.array(email).default([]),
      // Where customers' replies to staff go (Reply-To of every staff reply); accepted too.
      reply_address: email,
      message_max_bytes: z
        .number({ error: 'expected the largest inbound message in bytes, e.g. 10485760 (10 MB)' })
        .int()
        .min(10_000, 'must be at least 10000 bytes')
        .max(100 * 1024 * 1024, 'must be at most 104857600 bytes (100 MB)'),
      attachment_max_bytes: z
        .number({ error: 'expected the largest attachment kept, in bytes, e.g. 5242880 (5 MB)' })
        .int()
        .min(0, 'must be 0 (keep no attachments) or more')
        .max(100 * 1024 * 1024, 'must be at most 104857600 bytes (100 MB)'),
      // drop: store the message without the attachment, with a note; refuse: refuse the whole
      // message over SMTP (552). The IMAP poller can only drop.
      oversize_attachment: z.enum(['drop', 'refuse'], { error: 'expected drop or refuse' }),
    }),
    analytics: z.strictObject({
      raw_event_lifetime_hours: z.number().int().min(1).max(24 * 7),
      rollup_cadence: z.enum(['hourly', 'daily']),
      // Counts below this show as "fewer than N" in every view and export.
      small_count_threshold: z.number().int().min(1).max(1000).default(5),
      // Query parameters kept on a counted path; every other one is stripped.
      allowed_query_parameters: z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected a query parameter name such as utm_source')).default(['utm_source', 'utm_medium', 'utm_campaign']),
      // Host names besides PUBLIC_URL's whose pages are counted (e.g. www. and the bare domain).
      hosts: z.array(z.string().regex(/^[a-z0-9.-]+(:\d+)?$/, 'expected a lower-case host name such as www.example.com')).default([]),
      // A public read-only summary at /stats.
      public_summary: z.boolean().default(false),
    }),
    notice: z.strictObject({
      required_review: z.string().min(1),
      current: z.string().min(1),
      versions: z
        .array(
          z.strictObject({
            version: z.string().regex(/^[A-Za-z0-9._-]+$/, 'expected a version id of letters, digits, . _ -'),
            effective: isoDate,
            material: z.boolean(),
            summary: z.string().min(1),
            file: z.string().min(1),
            review: z
              .strictObject({ reviewer: z.string().min(1), role: z.string().min(1), date: isoDate })
              .optional(),
          }),
        )
        .min(1),
    }),
    security_commitments: z
      .array(z.strictObject({ title: z.string().min(1), detail: z.string().min(1), proven_by: z.string().min(1) }))
      .min(1),
  })
  .superRefine((p, ctx) => {
    const purposeIds = new Set(p.purposes.map((x) => x.id));
    for (const [key, form] of Object.entries(p.forms)) {
      if (!purposeIds.has(form.purpose)) {
        ctx.addIssue({ code: 'custom', path: ['forms', key, 'purpose'], message: `names purpose "${form.purpose}", which is not in purposes` });
      }
    }
    const marketing = p.purposes.find((x) => x.id === p.marketing.purpose);
    if (!marketing) {
      ctx.addIssue({ code: 'custom', path: ['marketing', 'purpose'], message: `names purpose "${p.marketing.purpose}", which is not in purposes` });
    } else if (marketing.lawful_basis !== 'consent') {
      ctx.addIssue({ code: 'custom', path: ['marketing', 'purpose'], message: 'the marketing purpose must have lawful_basis consent (promise P4/P6)' });
    }
    const seen = new Set<string>();
    p.notice.versions.forEach((v, i) => {
      if (seen.has(v.version)) ctx.addIssue({ code: 'custom', path: ['notice', 'versions', i, 'version'], message: `duplicate version "${v.version}"` });
      seen.add(v.version);
    });
    const currentIndex = p.notice.versions.findIndex((v) => v.version === p.notice.current);
    if (currentIndex < 0) {
      ctx.addIssue({ code: 'custom', path: ['notice', 'current'], message: `names version "${p.notice.current}", which is not in notice.versions` });
    } else {
      const current = p.notice.versions[currentIndex];
      // P10: a version is published only after the review the policy requires.
      if (!current.review || current.review.role !== p.notice.required_review) {
        ctx.addIssue({
          code: 'custom',
          path: ['notice', 'versions', currentIndex, 'review'],
          message: `the current notice version needs a recorded ${p.notice.required_review} review (reviewer, role: ${p.notice.required_review}, date) before it can be published`,
        });
      } else if (current.review.date > current.effective) {
        ctx.addIssue({ code: 'custom', path: ['notice', 'versions', currentIndex, 'review', 'date'], message: 'the review must be dated on or before the effective date' });
      }
    }
    if (p.correspondence.attachment_max_bytes > p.correspondence.message_max_bytes) {
      ctx.addIssue({ code: 'custom', path: ['correspondence', 'attachment_max_bytes'], message: 'must not be larger than correspondence.message_max_bytes (an attachment travels inside its message)' });
    }
    // Retention: every stored category has a rule, each rule counts from an event its
    // category knows, and a category kept by design has no rule that deletes.
    const ruleIds = new Set<string>();
    p.retention.rules.forEach((r, i) => {
      if (ruleIds.has(r.id)) ctx.addIssue({ code: 'custom', path: ['retention', 'rules', i, 'id'], message: `duplicate rule "${r.id}"` });
      ruleIds.add(r.id);
      const spec: CategorySpec = DATA_CATEGORIES[r.category];
      const known = Object.keys(spec.events);
      if (!known.includes(r.from)) ctx.addIssue({ code: 'custom', path: ['retention', 'rules', i, 'from'], message: `category ${r.category} counts only from ${known.join(' or ')}` });
      if (!spec.swept && r.keep_days !== 'indefinitely') ctx.addIssue({ code: 'custom', path: ['retention', 'rules', i, 'keep_days'], message: `category ${r.category} is kept by design: keep_days must be indefinitely (the sweep does not delete it)` });
    });
    p.retention.rules.forEach((r, i) => {
      if (r.category === 'inquiries' && typeof r.keep_days === 'number' && r.keep_days < p.retention.follow_up_window_days) {
        ctx.addIssue({ code: 'custom', path: ['retention', 'rules', i, 'keep_days'], message: `an inquiries rule keeps at least the follow-up window (${p.retention.follow_up_window_days} days)` });
      }
    });
    const covered = new Set(p.retention.rules.map((r) => r.category));
    for (const category of CATEGORY_IDS) {
      if (!covered.has(category)) ctx.addIssue({ code: 'custom', path: ['retention', 'rules'], message: `no rule covers the stored category ${category} (${Object.values(DATA_CATEGORIES[category].events as Record<string, string>)[0]})` });
    }
    // Raw events wait for the rollup: up to the hour in progress plus one cadence.
    const rawHours = p.analytics.rollup_cadence === 'hourly' ? 2 : 25;
    if (p.analytics.raw_event_lifetime_hours < rawHours) {
      ctx.addIssue({ code: 'custom', path: ['analytics', 'raw_event_lifetime_hours'], message: `must be at least ${rawHours} with rollup_cadence ${p.analytics.rollup_cadence}: raw events wait for the hour to end and then for the next rollup` });
    }
    const cookieNames = new Set<string>();
    p.cookies.forEach((c, i) => {
      if (cookieNames.has(c.name)) ctx.addIssue({ code: 'custom', path: ['cookies', i, 'name'], message: `duplicate cookie "${c.name}"` });
      cookieNames.add(c.name);
    });
  });

export type Policy = z.infer<typeof policySchema>;
export type FormKind = keyof Policy['forms'];
export type NoticeVersion = Policy['notice']['versions'][number];

/**
 * A version is published (listed, readable at its address) once it carries the review the
 * policy requires. One without it is a draft: it can sit in the policy, ready for counsel,
 * and no visitor sees it until the review is recorded.
 */
export function isPublished(policy: Pick<Policy, 'notice'>, version: NoticeVersion): boolean {
  return version.review?.role === policy.notice.required_review;
}

export function publishedVersions(policy: Pick<Policy, 'notice'>): NoticeVersion[] {
  return policy.notice.versions.filter((v) => isPublished(policy, v));
}

// The regional deadline table has its own module; these names are what the loader reads.
export { deadlineTableSchema as regionalRuleSchema, type DeadlineRow as RegionalRule } from './deadline-table.ts';
