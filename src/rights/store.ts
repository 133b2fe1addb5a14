// SQL for privacy requests and their history. Nothing here decides anything: the use
// cases in this folder do, inside a unit of work.
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, PrivacyRequestEventTable, PrivacyRequestStatus, PrivacyRequestTable } from '../storage/types.ts';

type Db = Kysely<Database> | Transaction<Database>;

export type RequestRow = Selectable<PrivacyRequestTable>;
export type EventRow = Selectable<PrivacyRequestEventTable>;

export const OPEN_STATUSES: readonly PrivacyRequestStatus[] = ['received', 'acknowledged', 'verifying', 'in_progress'];

/**
 * False when a unique key is taken: the form's submission key (the same form sent again),
 * or by rare chance the random reference. DO NOTHING, since a failed statement would
 * abort the whole transaction on PostgreSQL.
 */
export async function insertRequest(db: Db, row: RequestRow): Promise<boolean> {
  const inserted = await db.insertInto('privacy_request').values(row).onConflict((oc) => oc.doNothing()).returning('id').executeTakeFirst();
  return inserted !== undefined;
}

export async function insertEvent(db: Db, event: EventRow): Promise<void> {
  await db.insertInto('privacy_request_event').values(event).execute();
}

export async function findBySubmissionKey(db: Db, key: string): Promise<RequestRow | undefined> {
  return db.selectFrom('privacy_request').selectAll().where('submission_key', '=', key).executeTakeFirst();
}

export async function findRequest(db: Db, id: string): Promise<RequestRow | undefined> {
  return db.selectFrom('privacy_request').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateRequest(db: Db, id: string, set: Partial<RequestRow>): Promise<void> {
  await db.updateTable('privacy_request').set(set).where('id', '=', id).execute();
}

export async function requestOfThread(db: Db, threadId: string): Promise<RequestRow | undefined> {
  return db.selectFrom('privacy_request').selectAll().where('thread_id', '=', threadId).orderBy('received_at', 'desc').limit(1).executeTakeFirst();
}

export async function requestOfAckOutbox(db: Db, outboxId: string): Promise<RequestRow | undefined> {
  return db.selectFrom('privacy_request').selectAll().where('ack_outbox_id', '=', outboxId).executeTakeFirst();
}

export async function findByVerifyHash(db: Db, hash: string): Promise<RequestRow | undefined> {
  return db.selectFrom('privacy_request').selectAll().where('verify_token_hash', '=', hash).executeTakeFirst();
}

export async function eventsOf(db: Db, requestId: string): Promise<EventRow[]> {
  return db.selectFrom('privacy_request_event').selectAll().where('request_id', '=', requestId).orderBy('at').orderBy('id').execute();
}

export interface QueueFilters {
  status?: PrivacyRequestStatus;
  type?: RequestRow['type'];
  channel?: RequestRow['channel'];
  /** Open requests only (the default view). */
  open?: boolean;
}

/** The queue: soonest answer due first. Bounded; the desk handles requests, not millions. */
export async function queue(db: Db, filters: QueueFilters, limit: number): Promise<RequestRow[]> {
  let q = db.selectFrom('privacy_request').selectAll();
  if (filters.status) q = q.where('status', '=', filters.status);
  else if (filters.open) q = q.where('status', 'in', [...OPEN_STATUSES]);
  if (filters.type) q = q.where('type', '=', filters.type);
  if (filters.channel) q = q.where('channel', '=', filters.channel);
  return q.orderBy('respond_by').orderBy('id').limit(limit).execute();
}

/** Open requests whose alerts are not all sent yet (the alert job looks at these). */
export async function openForAlerts(db: Db): Promise<RequestRow[]> {
  return db
    .selectFrom('privacy_request')
    .selectAll()
    .where('status', 'in', [...OPEN_STATUSES])
    .where('alert_breach_at', 'is', null)
    .orderBy('respond_by')
    .execute();
}

/** Verified, open requests of the same requester and type (merge candidates). */
export async function verifiedTwins(db: Db, request: Pick<RequestRow, 'id' | 'requester_key' | 'type'>): Promise<RequestRow[]> {
  return db
    .selectFrom('privacy_request')
    .selectAll()
    .where('requester_key', '=', request.requester_key)
    .where('type', '=', request.type)
    .where('id', '!=', request.id)
    .where('verified_at', 'is not', null)
    .where('merged_into', 'is', null)
    .where('status', 'in', [...OPEN_STATUSES])
    .orderBy('received_at')
    .execute();
}

/** Every request of one requester, by every stored form of their subject key (oldest first). */
export async function requestsOfRequester(db: Db, requesterKeys: string[]): Promise<RequestRow[]> {
  if (requesterKeys.length === 0) return [];
  return db.selectFrom('privacy_request').selectAll().where('requester_key', 'in', requesterKeys).orderBy('received_at').orderBy('id').execute();
}

/** Requests received in [from, to), for the monthly report. */
export async function receivedBetween(db: Db, from: string, to: string): Promise<RequestRow[]> {
  return db.selectFrom('privacy_request').selectAll().where('received_at', '>=', from).where('received_at', '<', to).orderBy('received_at').execute();
}

/** What replaces the requester's address on their requests once they are erased. */
export const ERASED_MARKER = '[erased]';

/**
 * After an erasure: the requester's requests keep the keyed hash, ids, type, states and
 * dates as proof we answered; the address and free text go (the columns are NOT NULL
 * or nullable as the migration made them, hence the marker for the address).
 */
export async function redactRequestsOf(db: Db, requesterKeys: string[], at: string): Promise<number> {
  if (requesterKeys.length === 0) return 0;
  const r = await db
    .updateTable('privacy_request')
    .set({
      requester_email: ERASED_MARKER,
      message: null,
      refusal_reason: sql<string | null>`case when refusal_reason is null then null else ${ERASED_MARKER} end`,
      updated_at: at,
    })
    .where('requester_key', 'in', requesterKeys)
    .where('requester_email', '!=', ERASED_MARKER)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}
