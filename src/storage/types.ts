// Table types for Kysely. Timestamps are ISO-8601 UTC strings on both databases so that
// comparisons and sorting behave the same on SQLite and PostgreSQL.
import type { Generated, Insertable, Selectable } from 'kysely';

export interface InquiryTable {
  id: string;
  reference: string;
  form: string;
  name: string;
  email: string;
  company: string;
  role: string;
  country: string;
  context: string | null;
  free_mail: number;
  notice_version: string;
  submission_key: string;
  created_at: string;
  delete_after: string;
}

export interface ConsentRecordTable {
  id: string;
  subject_key: string;
  email: string;
  name: string;
  company: string;
  country: string;
  inquiry_id: string | null;
  purpose: string;
  action: 'granted' | 'withdrawn';
  wording: string | null;
  notice_version: string | null;
  channel: string;
  recorded_at: string;
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

export interface Database {
  inquiry: InquiryTable;
  consent_record: ConsentRecordTable;
  suppression: SuppressionTable;
  outbox: OutboxTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
}

export type Inquiry = Selectable<InquiryTable>;
export type NewInquiry = Insertable<InquiryTable>;
export type ConsentRecord = Selectable<ConsentRecordTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type AuditEntry = Selectable<AuditLogTable>;
export type { Generated };
