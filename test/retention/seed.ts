// Rows for retention tests, written straight into the tables (as the intake, the mail
// listener and the consent use cases would have left them), with chosen dates.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, InquiryStatus, PrivacyRequestStatus } from '../../src/storage/types.ts';

export const DAY_MS = 86_400_000;
export const iso = (ms: number) => new Date(ms).toISOString();

export async function addPerson(db: Kysely<Database>, opts: { email: string; at: string; name?: string; subjectKey?: string }): Promise<string> {
  const id = randomUUID();
  await db.insertInto('person').values({ id, subject_key: opts.subjectKey ?? `k:${id}`, email: opts.email, name: opts.name ?? 'Test Person', created_at: opts.at, updated_at: opts.at }).execute();
  return id;
}

export interface SeedInquiry {
  personId: string;
  createdAt: string;
  status?: InquiryStatus;
  closedAt?: string | null;
  lastActivityAt?: string | null;
  /** Messages in one thread (with one attachment on the first). */
  messages?: number;
  context?: string;
}

export async function addInquiry(db: Kysely<Database>, s: SeedInquiry): Promise<{ id: string; threadId?: string; messageIds: string[] }> {
  const id = randomUUID();
  await db
    .insertInto('inquiry')
    .values({
      id,
      reference: `R-${id.slice(0, 13)}`,
      form: 'demo',
      person_id: s.personId,
      company: 'Seeded Co',
      role: 'Tester',
      country: 'IE',
      context: s.context ?? null,
      free_mail: 0,
      notice_version: '2026-11-25',
      submission_key: `sk:${id}`,
      created_at: s.createdAt,
      delete_after: s.createdAt,
      status: s.status ?? 'new',
      outcome: s.status === 'closed' ? 'done' : null,
      closed_at: s.closedAt ?? null,
      last_activity_at: s.lastActivityAt ?? s.createdAt,
    })
    .execute();
  const messageIds: string[] = [];
  let threadId: string | undefined;
  if (s.messages) {
    threadId = randomUUID();
    const last = s.lastActivityAt ?? s.createdAt;
    await db.insertInto('mail_thread').values({ id: threadId, inquiry_id: id, person_id: s.personId, subject: 'Re: demo', created_at: s.createdAt, last_message_at: last }).execute();
    for (let i = 0; i < s.messages; i++) {
      const mid = randomUUID();
      messageIds.push(mid);
      await db
        .insertInto('mail_message')
        .values({ id: mid, thread_id: threadId, direction: i % 2 ? 'out' : 'in', message_id: `<${mid}@seed.example>`, in_reply_to: null, reference_ids: null, from_person_id: i % 2 ? null : s.personId, from_address: null, staff_account_id: null, outbox_id: null, source: 'smtp', subject: 'Re: demo', text_body: s.context ?? 'hello', html_body: null, note: null, at: last })
        .execute();
      if (i === 0) await db.insertInto('mail_attachment').values({ id: randomUUID(), message_id: mid, filename: 'a.txt', content_type: 'text/plain', size: 3, content: new Uint8Array([1, 2, 3]) }).execute();
    }
  }
  return { id, threadId, messageIds };
}

import { projectRoot } from '../../src/config.ts';
import { join } from 'node:path';
import { loadPolicy } from '../../src/policy/load.ts';
import { Signer } from '../../src/http/signing.ts';
import type { Storage } from '../../src/storage/db.ts';
import type { SweepDeps } from '../../src/retention/sweep.ts';
import { TEST_SECRET } from '../support/server.ts';

export const policy = loadPolicy(join(projectRoot, 'policy', 'lumetrax.yaml'), { checkProofs: false });
export const testSigner = new Signer(Buffer.from(TEST_SECRET, 'hex'));

/** What the sweep is given in the service, over a test database and clock. */
export function sweepDeps(storage: Storage, now: () => Date = () => new Date()): SweepDeps {
  return { storage, policy, signer: testSigner, now, mailQueued: () => undefined };
}

export async function addConsent(db: Kysely<Database>, personId: string, action: 'granted' | 'withdrawn', at: string): Promise<string> {
  const id = randomUUID();
  await db.insertInto('consent_record').values({ id, person_id: personId, inquiry_id: null, purpose: 'marketing', action, wording: action === 'granted' ? 'Yes, send me news' : null, notice_version: '2026-11-25', channel: 'form', recorded_at: at }).execute();
  return id;
}

export async function addTriageThread(db: Kysely<Database>, opts: { fromAddress: string; at: string; text?: string }): Promise<string> {
  const threadId = randomUUID();
  await db.insertInto('mail_thread').values({ id: threadId, inquiry_id: null, person_id: null, subject: 'Hello', created_at: opts.at, last_message_at: opts.at }).execute();
  const mid = randomUUID();
  await db
    .insertInto('mail_message')
    .values({ id: mid, thread_id: threadId, direction: 'in', message_id: `<${mid}@seed.example>`, in_reply_to: null, reference_ids: null, from_person_id: null, from_address: opts.fromAddress, staff_account_id: null, outbox_id: null, source: 'smtp', subject: 'Hello', text_body: opts.text ?? 'hi', html_body: null, note: null, at: opts.at })
    .execute();
  return threadId;
}

export async function tableCount(db: Kysely<Database>, table: keyof Database): Promise<number> {
  const r = await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

/** A privacy request done (fulfilled) at `at`, with one event, as the desk leaves it. */
export async function addFulfilledRequest(db: Kysely<Database>, opts: { email: string; at: string }): Promise<string> {
  const id = randomUUID();
  await db
    .insertInto('privacy_request')
    .values({ id, reference: `PR-${id.slice(0, 8)}`, requester_email: opts.email, requester_key: `k:${id}`, type: 'access', jurisdiction: 'IE', channel: 'mail', status: 'fulfilled', received_at: opts.at, fulfilled_at: opts.at, acknowledge_by: opts.at, respond_by: opts.at, acknowledge_rule: 'r', acknowledge_citation: 'c', respond_rule: 'r', respond_rule_kind: 'company', respond_citation: 'c', updated_at: opts.at })
    .execute();
  await db.insertInto('privacy_request_event').values({ id: randomUUID(), request_id: id, at: opts.at, actor: 'cli', event: 'fulfilled', detail: null }).execute();
  return id;
}

/** A privacy request in any state (dates as the desk stamps them), with `events` history rows. */
export async function addPrivacyRequest(
  db: Kysely<Database>,
  r: { email: string; requesterKey?: string; personId?: string | null; status: PrivacyRequestStatus; receivedAt: string; fulfilledAt?: string; refusedAt?: string; closedAt?: string; events?: number },
): Promise<string> {
  const id = randomUUID();
  await db
    .insertInto('privacy_request')
    .values({
      id, reference: `PR-${id.slice(0, 8)}`, requester_email: r.email, requester_key: r.requesterKey ?? `k:${id}`, person_id: r.personId ?? null,
      type: 'access', jurisdiction: 'IE', channel: 'form', status: r.status, received_at: r.receivedAt,
      fulfilled_at: r.fulfilledAt ?? null, refused_at: r.refusedAt ?? null, closed_at: r.closedAt ?? null,
      acknowledge_by: r.receivedAt, respond_by: r.receivedAt, acknowledge_rule: 'r', acknowledge_citation: 'c', respond_rule: 'r', respond_rule_kind: 'company', respond_citation: 'c', updated_at: r.receivedAt,
    })
    .execute();
  for (let i = 0; i < (r.events ?? 0); i++) {
    await db.insertInto('privacy_request_event').values({ id: randomUUID(), request_id: id, at: r.receivedAt, actor: 'system', event: 'received', detail: null }).execute();
  }
  return id;
}
