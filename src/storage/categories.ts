// Every table, by the category of stored data it holds: the retention policy must have
// a rule for each category (`policy check` refuses one without), and a table added
// without a category here does not compile (`satisfies` below). Tables with no personal
// data say so (null). Each category lists the events its rules may count from, with
// what that event means for it: these are what the sweep knows how to delete.
import type { Database } from './types.ts';

export const RETENTION_EVENTS = ['closed', 'last_activity', 'received', 'withdrawn', 'fulfilled'] as const;
export type RetentionEvent = (typeof RETENTION_EVENTS)[number];

export interface CategorySpec {
  /** Events a rule may count from, and which rows of the category that rule then covers. */
  events: Partial<Record<RetentionEvent, string>>;
  /** False: kept indefinitely by design; a rule must say so (keep_days: indefinitely). */
  swept: boolean;
}

export const DATA_CATEGORIES = {
  inquiries: {
    swept: true,
    events: {
      closed: 'closed inquiries (with their threads, messages and attachments), counted from the closing',
      last_activity: 'answered inquiries not closed (gone quiet), counted from the last message in or out',
      received: 'inquiries never answered, counted from their arrival',
    },
  },
  correspondence: { swept: true, events: { last_activity: 'email threads matched to no inquiry (triage), counted from the last message' } },
  attachments: { swept: true, events: { received: 'email attachments, counted from the arrival of their message' } },
  consent_records: { swept: true, events: { withdrawn: "a person's consent records for a purpose, counted from the withdrawal" } },
  consent_confirmations: { swept: true, events: { received: 'opt-in confirmations never confirmed, counted from the request' } },
  withdrawal_requests: { swept: true, events: { received: '"email me an unsubscribe link" requests and daily mail allowances, counted from the request' } },
  privacy_requests: { swept: true, events: { fulfilled: 'privacy requests, counted from their fulfilment or closing' } },
  outbox: {
    swept: true,
    events: { fulfilled: 'outgoing mail (contents already erased) counted from its sending', received: 'outgoing mail of any state, counted from its queueing' },
  },
  people: { swept: true, events: { last_activity: 'a person no inquiry, thread, consent record or mail refers to any longer, counted from their last update' } },
  suppression: { swept: false, events: { withdrawn: 'suppression entries (keyed hashes), from the unsubscribe' } },
  audit: { swept: false, events: { received: 'audit entries (ids, actions, counts), from their writing' } },
  staff_accounts: { swept: false, events: { received: 'console accounts of staff and their sessions, from the account set-up' } },
  retention_records: { swept: false, events: { received: 'holds and the deletion log (counts and keyed hashes only), from their writing' } },
} as const satisfies Record<string, CategorySpec>;

export type DataCategory = keyof typeof DATA_CATEGORIES;
export const CATEGORY_IDS = Object.keys(DATA_CATEGORIES) as [DataCategory, ...DataCategory[]];

/** Where each table's rows fall. */
export const TABLE_CATEGORIES = {
  person: 'people',
  inquiry: 'inquiries',
  mail_thread: 'correspondence',
  mail_message: 'correspondence',
  mail_attachment: 'attachments',
  consent_record: 'consent_records',
  consent_confirmation: 'consent_confirmations',
  withdrawal_request: 'withdrawal_requests',
  mail_allowance: 'withdrawal_requests',
  suppression: 'suppression',
  // A keyed hash of an erased address with counts only: kept like the suppression list, so
  // an erasure can be proven and re-applied after a restore.
  erasure_proof: 'suppression',
  outbox: 'outbox',
  audit_log: 'audit',
  audit_head: 'audit',
  audit_key: 'audit',
  audit_signature: 'audit',
  staff_account: 'staff_accounts',
  staff_setup_link: 'staff_accounts',
  staff_recovery_code: 'staff_accounts',
  staff_session: 'staff_accounts',
  retention_hold: 'retention_records',
  retention_run: 'retention_records',
  deletion_log: 'retention_records',
  privacy_request: 'privacy_requests',
  privacy_request_event: 'privacy_requests',
  // No personal data: job bookkeeping and the IMAP poller's place in its mailbox.
  job_state: null,
  imap_state: null,
  // Analytics: totals only, and raw page views whose one per-visitor value (a keyed hash
  // under a daily secret) the rollup deletes within hours; their lifetime is the policy's
  // analytics.raw_event_lifetime_hours, kept by the job analytics.rollup, not the sweep.
  analytics_event: null,
  analytics_hourly: null,
  analytics_breakdown: null,
  analytics_breakdown_daily: null,
  analytics_visits: null,
  analytics_bots: null,
} as const satisfies Record<keyof Database, DataCategory | null>;

/**
 * Search indexes over other tables (SQLite's FTS5 tables with their shadow tables and
 * key maps; PostgreSQL indexes are not tables): they hold pieces of the rows they index,
 * are kept by triggers and go with those rows, so they fall in the rows' category.
 */
const SEARCH_INDEX_CATEGORIES: Record<string, DataCategory> = {
  person_search: 'people',
  person_search_key: 'people',
  inquiry_search: 'inquiries',
  inquiry_search_key: 'inquiries',
};
const FTS5_SHADOW_SUFFIX = /_(data|idx|docsize|config|content)$/;

/** The category of a table in the database (undefined: a table nobody has categorised). */
export function categoryOfTable(name: string): DataCategory | null | undefined {
  if (Object.hasOwn(TABLE_CATEGORIES, name)) return TABLE_CATEGORIES[name as keyof typeof TABLE_CATEGORIES];
  return SEARCH_INDEX_CATEGORIES[name] ?? SEARCH_INDEX_CATEGORIES[name.replace(FTS5_SHADOW_SUFFIX, '')];
}
