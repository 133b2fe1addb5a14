// Table types for Kysely. Timestamps are ISO-8601 UTC strings on both databases so that
// comparisons and sorting behave the same on SQLite and PostgreSQL.
import type { Generated, Insertable, Selectable } from 'kysely';

/** One row per data subject: the only place their address and name are kept. */
export interface PersonTable {
  id: string;
  /** Keyed hash of the normalised address, prefixed with the id of the key: `kid:hex`. */
  subject_key: string;
  email: string;
  name: string;
  created_at: string;
  updated_at: string;
}

export interface InquiryTable {
  id: string;
  reference: string;
  form: string;
  person_id: string;
  company: string;
  role: string;
  country: string;
  context: string | null;
  free_mail: number;
  notice_version: string;
  submission_key: string;
  created_at: string;
  /** Submission + the follow-up window, as first written; the retention rules decide deletion (retention/schedule.ts inquiryDeletion). */
  delete_after: string;
  /** new | in_conversation (from the first staff reply) | closed; the database fills in new. */
  status: Generated<InquiryStatus>;
  outcome: string | null;
  closed_at: string | null;
  /** The last message in or out; null until the first (created_at stands for it). */
  last_activity_at: string | null;
}

export type InquiryStatus = 'new' | 'in_conversation' | 'closed';

/** A conversation by email: an inquiry's (and its person's), or in triage while inquiry_id is null. */
export interface MailThreadTable {
  id: string;
  inquiry_id: string | null;
  person_id: string | null;
  subject: string;
  created_at: string;
  last_message_at: string;
}

export interface MailMessageTable {
  id: string;
  thread_id: string;
  direction: 'in' | 'out';
  /** With its angle brackets; unique, so a message delivered twice is stored once. */
  message_id: string;
  in_reply_to: string | null;
  /** Space-separated Message-IDs, as in the References header. */
  reference_ids: string | null;
  from_person_id: string | null;
  /** Only for a sender who is no known person (triage). */
  from_address: string | null;
  staff_account_id: string | null;
  outbox_id: string | null;
  source: 'smtp' | 'imap' | 'console';
  subject: string;
  text_body: string;
  /** Sanitised: no script, no event handlers, nothing remote. */
  html_body: string | null;
  note: string | null;
  /** Received (in) or queued (out). */
  at: string;
}

export interface MailAttachmentTable {
  id: string;
  message_id: string;
  filename: string;
  content_type: string;
  size: number;
  content: Uint8Array;
}

export interface ImapStateTable {
  mailbox: string;
  uid_validity: string;
  last_uid: number;
  updated_at: string;
}

/** Proof of consent: who (the person), what wording, which notice, when, by which channel. */
export interface ConsentRecordTable {
  id: string;
  person_id: string;
  inquiry_id: string | null;
  purpose: string;
  action: 'granted' | 'withdrawn';
  wording: string | null;
  notice_version: string | null;
  channel: string;
  recorded_at: string;
}

/** A fresh opt-in after a withdrawal waits here until the emailed link is followed. */
export interface ConsentConfirmationTable {
  id: string;
  person_id: string;
  inquiry_id: string | null;
  purpose: string;
  wording: string;
  notice_version: string;
  channel: string;
  requested_at: string;
  expires_at: string;
}

export interface WithdrawalRequestTable {
  id: string;
  subject_key: string;
  requested_at: string;
}

export interface MailAllowanceTable {
  subject_key: string;
  /** UTC date, YYYY-MM-DD. */
  day: string;
  sent: number;
}

export interface JobStateTable {
  name: string;
  locked_by: string | null;
  locked_until: string | null;
  last_started_at: string | null;
  last_finished_at: string | null;
  last_outcome: string | null;
  last_counts: string | null;
  last_duration_ms: number | null;
}

export interface SuppressionTable {
  subject_key: string;
  reason: string;
  created_at: string;
}

export interface OutboxTable {
  id: string;
  kind: string;
  inquiry_id: string | null;
  person_id: string | null;
  to_address: string;
  subject: string;
  text_body: string;
  headers: string;
  status: 'pending' | 'sent';
  attempts: number;
  next_attempt_at: string;
  locked_until: string | null;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

export interface AuditLogTable {
  seq: number;
  at: string;
  actor: string;
  action: string;
  entity_type: string;
  entity_id: string;
  details: string;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}

/** A public key that signed the chain head; each is vouched for by the key that replaced it. */
export interface AuditKeyTable {
  key_id: string;
  /** SPKI PEM. */
  public_key: string;
  created_at: string;
  endorsed_by: string | null;
  /** base64 Ed25519 signature by `endorsed_by` over (key_id, public_key). */
  endorsement: string | null;
}

/** A signature over (seq, hash of the head at seq, signed_at, key_id). */
export interface AuditSignatureTable {
  seq: number;
  key_id: string;
  hash: string;
  signed_at: string;
  /** base64 Ed25519 signature. */
  signature: string;
}

/** A console user. Email lower-cased; secrets only as hashes (the TOTP secret must be usable, so it is kept). */
export interface StaffAccountTable {
  id: string;
  email: string;
  role: 'admin' | 'privacy' | 'sales';
  status: 'pending' | 'active' | 'disabled';
  password_hash: string | null;
  totp_secret: string | null;
  totp_last_step: number | null;
  created_at: string;
  updated_at: string;
}

export interface StaffSetupLinkTable {
  token_hash: string;
  account_id: string;
  totp_secret: string | null;
  created_at: string;
  expires_at: string;
}

export interface StaffRecoveryCodeTable {
  code_hash: string;
  account_id: string;
  created_at: string;
}

export interface StaffSessionTable {
  id: string;
  token_hash: string;
  account_id: string;
  csrf_token: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
}

/** A legal hold or contractual obligation: nothing it covers is deleted while it applies. */
export interface RetentionHoldTable {
  id: string;
  kind: 'legal_hold' | 'contract';
  scope: 'person' | 'inquiry' | 'domain';
  /** A person or inquiry id, or a lower-case email domain. */
  scope_id: string;
  reason: string;
  /** A contract's end (ISO); null until lifted. */
  until: string | null;
  placed_by: string;
  placed_at: string;
  lifted_by: string | null;
  lifted_at: string | null;
}

export interface RetentionRunTable {
  id: string;
  as_of: string;
  started_at: string;
  finished_at: string | null;
  status: 'running' | 'done';
  trigger: string;
}

/** One committed batch of deletions: counts and keyed hashes of ids, never a personal value. */
export interface DeletionLogTable {
  id: string;
  run_id: string | null;
  rule: string;
  category: string;
  /** JSON: table -> rows deleted. */
  counts: string;
  /** JSON array of keyed hashes (`kid:hex`) of the deleted ids. */
  affected_id_hashes: string;
  started_at: string;
  finished_at: string;
}

/** Proof of an erasure: the keyed hash of the address, never the address; counts only. */
export interface ErasureProofTable {
  id: string;
  subject_key: string;
  erased_at: string;
  actor: string;
  /** JSON { table: count }. */
  erased: string;
  /** JSON [{ table, count, holdId, kind }]. */
  kept: string;
}

/** A data-subject request (src/rights/). Dates are ISO-8601 UTC; null until the state is reached. */
export interface PrivacyRequestTable {
  id: string;
  reference: string;
  requester_email: string;
  requester_key: string;
  person_id: string | null;
  type: 'access' | 'correction' | 'deletion' | 'unspecified';
  jurisdiction: string;
  channel: 'mail' | 'form' | 'triage';
  status: PrivacyRequestStatus;
  refusal_reason: string | null;
  message: string | null;
  submission_key: string | null;
  received_at: string;
  acknowledged_at: string | null;
  verifying_at: string | null;
  in_progress_at: string | null;
  fulfilled_at: string | null;
  refused_at: string | null;
  closed_at: string | null;
  acknowledge_by: string;
  respond_by: string;
  acknowledge_rule: string;
  acknowledge_citation: string;
  respond_rule: string;
  respond_rule_kind: string;
  respond_citation: string;
  verify_token_hash: string | null;
  verify_expires_at: string | null;
  verified_at: string | null;
  package_token_hash: string | null;
  package_expires_at: string | null;
  thread_id: string | null;
  ack_outbox_id: string | null;
  merged_into: string | null;
  alert_50_at: string | null;
  alert_80_at: string | null;
  alert_breach_at: string | null;
  updated_at: string;
}

export type PrivacyRequestStatus = 'received' | 'acknowledged' | 'verifying' | 'in_progress' | 'fulfilled' | 'refused' | 'closed';

export interface PrivacyRequestEventTable {
  id: string;
  request_id: string;
  at: string;
  actor: string;
  event: string;
  detail: string | null;
}

export interface Database {
  staff_account: StaffAccountTable;
  staff_setup_link: StaffSetupLinkTable;
  staff_recovery_code: StaffRecoveryCodeTable;
  staff_session: StaffSessionTable;
  person: PersonTable;
  inquiry: InquiryTable;
  consent_confirmation: ConsentConfirmationTable;
  mail_allowance: MailAllowanceTable;
  withdrawal_request: WithdrawalRequestTable;
  job_state: JobStateTable;
  consent_record: ConsentRecordTable;
  suppression: SuppressionTable;
  outbox: OutboxTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  audit_key: AuditKeyTable;
  audit_signature: AuditSignatureTable;
  mail_thread: MailThreadTable;
  mail_message: MailMessageTable;
  mail_attachment: MailAttachmentTable;
  imap_state: ImapStateTable;
  retention_hold: RetentionHoldTable;
  retention_run: RetentionRunTable;
  deletion_log: DeletionLogTable;
  privacy_request: PrivacyRequestTable;
  privacy_request_event: PrivacyRequestEventTable;
  erasure_proof: ErasureProofTable;
  analytics_event: AnalyticsEventTable;
  analytics_hourly: AnalyticsHourlyTable;
  analytics_visits: AnalyticsVisitsTable;
  analytics_breakdown: AnalyticsBreakdownTable;
  analytics_breakdown_daily: AnalyticsBreakdownDailyTable;
  analytics_bots: AnalyticsBotsTable;
}

/** The dimensions of a page view ('' for none). `hour` is UTC, YYYY-MM-DDTHH. */
export interface AnalyticsDimensions {
  hour: string;
  path: string;
  source: string;
  referrer_host: string;
  campaign: string;
  device: string;
  country: string;
}

/** A raw page view, kept only until the next rollup. `visitor` is an HMAC under the day's secret. */
export interface AnalyticsEventTable extends AnalyticsDimensions {
  visitor: string;
}

export interface AnalyticsHourlyTable extends AnalyticsDimensions {
  visitors: number;
  pageviews: number;
}

export interface AnalyticsBreakdownTable {
  hour: string;
  dimension: string;
  value: string;
  visitors: number;
  pageviews: number;
}

/** analytics_breakdown summed per UTC day (`day` is YYYY-MM-DD), for the dashboard's whole-day ranges. */
export interface AnalyticsBreakdownDailyTable {
  day: string;
  dimension: string;
  value: string;
  visitors: number;
  pageviews: number;
}

export interface AnalyticsVisitsTable {
  hour: string;
  visits: number;
  pageviews: number;
  bounces: number;
}

export interface AnalyticsBotsTable {
  hour: string;
  layer: string;
  dropped: number;
}

export type Person = Selectable<PersonTable>;
export type Inquiry = Selectable<InquiryTable>;
export type NewInquiry = Insertable<InquiryTable>;
export type ConsentRecord = Selectable<ConsentRecordTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type AuditEntry = Selectable<AuditLogTable>;
export type { Generated };
