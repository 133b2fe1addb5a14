// Frozen: never edit a migration that has shipped; add a new one.
//
// Data-subject requests (the privacy desk). One row per request, however it arrived
// (mail to the privacy address, the /privacy/request form, or a triage thread a privacy
// user turned into one). The requester's address is kept here because we must answer
// it; it is personal data and goes with the person's erasure. The verification link is
// kept only as a keyed hash, with its expiry, and is cleared when used (single use).
// Type and jurisdiction may be 'unspecified' (mail says neither) until staff set them.
// Each state has its own timestamp; every change also adds a privacy_request_event row
// (ids and state names only) for the request's history, beside the audit entry.
// The alert job remembers which of its mails (50%, 80%, breach) it sent, once each.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('privacy_request')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // What the requester quotes back to us (PR-XXXXXXXX).
    .addColumn('reference', 'text', (c) => c.notNull().unique())
    .addColumn('requester_email', 'text', (c) => c.notNull())
    // Keyed hash of the normalised address: duplicates are found by it, never by the address.
    .addColumn('requester_key', 'text', (c) => c.notNull())
    .addColumn('person_id', 'text', (c) => c.references('person.id').onDelete('set null'))
    // access | correction | deletion | unspecified
    .addColumn('type', 'text', (c) => c.notNull())
    // A code of the regional table (EU, GB, US-CA, ...) or unspecified
    .addColumn('jurisdiction', 'text', (c) => c.notNull())
    // mail | form | triage
    .addColumn('channel', 'text', (c) => c.notNull())
    // received | acknowledged | verifying | in_progress | fulfilled | refused | closed
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('refusal_reason', 'text')
    // What the requester wrote on the form (mail keeps its text in its thread).
    .addColumn('message', 'text')
    // The form's signed-token hash: the same form sent twice opens one request.
    .addColumn('submission_key', 'text', (c) => c.unique())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('acknowledged_at', 'text')
    .addColumn('verifying_at', 'text')
    .addColumn('in_progress_at', 'text')
    .addColumn('fulfilled_at', 'text')
    .addColumn('refused_at', 'text')
    .addColumn('closed_at', 'text')
    .addColumn('acknowledge_by', 'text', (c) => c.notNull())
    .addColumn('respond_by', 'text', (c) => c.notNull())
    // Which rule set each date, with its citation (the clock's answer, kept as given).
    .addColumn('acknowledge_rule', 'text', (c) => c.notNull())
    .addColumn('acknowledge_citation', 'text', (c) => c.notNull())
    .addColumn('respond_rule', 'text', (c) => c.notNull())
    .addColumn('respond_rule_kind', 'text', (c) => c.notNull())
    .addColumn('respond_citation', 'text', (c) => c.notNull())
    .addColumn('verify_token_hash', 'text')
    .addColumn('verify_expires_at', 'text')
    .addColumn('verified_at', 'text')
    // The access package's download link (keyed hash, expiry), once fulfilled.
    .addColumn('package_token_hash', 'text')
    .addColumn('package_expires_at', 'text')
    .addColumn('thread_id', 'text', (c) => c.references('mail_thread.id').onDelete('set null'))
    // Our acknowledgement's outbox id: a reply to it joins this request.
    .addColumn('ack_outbox_id', 'text')
    .addColumn('merged_into', 'text')
    .addColumn('alert_50_at', 'text')
    .addColumn('alert_80_at', 'text')
    .addColumn('alert_breach_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('privacy_request_due').on('privacy_request').columns(['status', 'respond_by']).execute();
  await db.schema.createIndex('privacy_request_received').on('privacy_request').columns(['received_at', 'id']).execute();
  await db.schema.createIndex('privacy_request_requester').on('privacy_request').column('requester_key').execute();
  await db.schema.createIndex('privacy_request_thread').on('privacy_request').column('thread_id').execute();
  await db.schema.createIndex('privacy_request_ack').on('privacy_request').column('ack_outbox_id').execute();
  await db.schema.createIndex('privacy_request_person').on('privacy_request').column('person_id').execute();

  await db.schema
    .createTable('privacy_request_event')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('request_id', 'text', (c) => c.notNull().references('privacy_request.id').onDelete('cascade'))
    .addColumn('at', 'text', (c) => c.notNull())
    // system | mail:smtp | requester | staff:ACCOUNT_ID
    .addColumn('actor', 'text', (c) => c.notNull())
    // A state name or an action (type_set, merged, alert_50, ...); never a personal value.
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .execute();
  await db.schema.createIndex('privacy_request_event_request').on('privacy_request_event').columns(['request_id', 'at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('privacy_request_event').execute();
  await db.schema.dropTable('privacy_request').execute();
}
