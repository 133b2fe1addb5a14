// Many expired inquiries at once (each with its person, one thread of messages and one
// attachment), in multi-row inserts inside transactions: for the kill test and the
// retention benchmark.
import { randomUUID } from 'node:crypto';
import type { Insertable, Kysely } from 'kysely';
import { insertChunks } from '../../src/storage/insert-chunks.ts';
import type { Database, InquiryTable, MailAttachmentTable, MailMessageTable, MailThreadTable, PersonTable } from '../../src/storage/types.ts';

export interface BulkOptions {
  inquiries: number;
  messagesPer: number;
  /** When each inquiry was closed (and everything else happened). */
  at: string;
  /** Address of the n-th person. */
  email?: (n: number) => string;
  /** Rows per transaction. */
  chunk?: number;
  onProgress?: (done: number) => void;
  /** The subject key of an address (the service re-keys, at start, people not under its key). */
  subjectKey?: (email: string) => string;
}

export async function seedExpired(db: Kysely<Database>, o: BulkOptions): Promise<void> {
  const chunk = o.chunk ?? 5000;
  const email = o.email ?? ((n: number) => `bulk${n}@bulk.example`);
  for (let start = 0; start < o.inquiries; start += chunk) {
    const end = Math.min(o.inquiries, start + chunk);
    const people: Insertable<PersonTable>[] = [];
    const inquiries: Insertable<InquiryTable>[] = [];
    const threads: Insertable<MailThreadTable>[] = [];
    const messages: Insertable<MailMessageTable>[] = [];
    const attachments: Insertable<MailAttachmentTable>[] = [];
    for (let n = start; n < end; n++) {
      const personId = randomUUID();
      const inquiryId = randomUUID();
      const threadId = randomUUID();
      people.push({ id: personId, subject_key: o.subjectKey ? o.subjectKey(email(n)) : `bulk:${personId}`, email: email(n), name: `Bulk Person ${n}`, created_at: o.at, updated_at: o.at });
      inquiries.push({ id: inquiryId, reference: `B-${inquiryId}`, form: 'demo', person_id: personId, company: 'Bulk Co', role: 'Buyer', country: 'IE', context: `About ${n} sites`, free_mail: 0, notice_version: '2026-11-25', submission_key: `bulk:${inquiryId}`, created_at: o.at, delete_after: o.at, status: 'closed' as const, outcome: 'done', closed_at: o.at, last_activity_at: o.at });
      threads.push({ id: threadId, inquiry_id: inquiryId, person_id: personId, subject: 'Re: your demo', created_at: o.at, last_message_at: o.at });
      for (let m = 0; m < o.messagesPer; m++) {
        const id = randomUUID();
        messages.push({ id, thread_id: threadId, direction: m % 2 ? ('out' as const) : ('in' as const), message_id: `<${id}@bulk.example>`, in_reply_to: null, reference_ids: null, from_person_id: m % 2 ? null : personId, from_address: null, staff_account_id: null, outbox_id: null, source: 'smtp' as const, subject: 'Re: your demo', text_body: `Message ${m} from ${email(n)} about our ${n} sites.`, html_body: null, note: null, at: o.at });
        if (m === 0 && n % 10 === 0) attachments.push({ id: randomUUID(), message_id: id, filename: 'plan.txt', content_type: 'text/plain', size: 16, content: new TextEncoder().encode(`plan of ${email(n)}`) });
      }
    }
    await db.transaction().execute(async (trx) => {
      for (const c of insertChunks(people, 6)) await trx.insertInto('person').values(c).execute();
      for (const c of insertChunks(inquiries, 19)) await trx.insertInto('inquiry').values(c).execute();
      for (const c of insertChunks(threads, 6)) await trx.insertInto('mail_thread').values(c).execute();
      for (const c of insertChunks(messages, 17)) await trx.insertInto('mail_message').values(c).execute();
      for (const c of insertChunks(attachments, 6)) await trx.insertInto('mail_attachment').values(c).execute();
    });
    o.onProgress?.(end);
  }
}
