// Rows for retention tests, written straight into the tables (as the intake, the mail
// listener and the consent use cases would have left them), with chosen dates.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, InquiryStatus } from '../../src/storage/types.ts';

export const DAY_MS = 86_400_000;
export const iso = (ms: number) => new Date(ms).toISOString();

export async function addPerson(db: Kysely<Database>, opts: { email: string; at: string; name?: string }): Promise<string> {
  const id = randomUUID();
  await db.insertInto('person').values({ id, subject_key: `k:${id}`, email: opts.email, name: opts.name ?? 'Test Person', created_at: opts.at, updated_at: opts.at }).execute();
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
      last_activity_at: s.lastActivityAt ?? null,
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
