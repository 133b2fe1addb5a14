// The shapes the console reads. Addresses appear only for senders who are nobody we know.
import type { AttachmentMeta, MessageRow, ThreadRow } from './store.ts';

export interface AttachmentView {
  id: string;
  filename: string;
  contentType: string;
  size: number;
}

export type Sender = { kind: 'person'; personId: string } | { kind: 'address'; address: string } | { kind: 'staff'; staffAccountId: string } | { kind: 'unknown' };

export interface MessageView {
  id: string;
  direction: 'in' | 'out';
  messageId: string;
  inReplyTo: string | null;
  references: string[];
  from: Sender;
  source: 'smtp' | 'imap' | 'console';
  subject: string;
  text: string;
  /** Already sanitised; render as HTML only inside a sandboxed frame or as is, never unsanitised. */
  html: string | null;
  note: string | null;
  at: string;
  attachments: AttachmentView[];
}

export interface ThreadSummary {
  id: string;
  inquiryId: string | null;
  personId: string | null;
  subject: string;
  createdAt: string;
  lastMessageAt: string;
  messages: number;
}

export interface ThreadView extends ThreadSummary {
  triage: boolean;
  messageList: MessageView[];
}

export function senderOf(m: Pick<MessageRow, 'direction' | 'from_person_id' | 'from_address' | 'staff_account_id'>): Sender {
  if (m.direction === 'out' && m.staff_account_id) return { kind: 'staff', staffAccountId: m.staff_account_id };
  if (m.from_person_id) return { kind: 'person', personId: m.from_person_id };
  if (m.from_address) return { kind: 'address', address: m.from_address };
  return { kind: 'unknown' };
}

export function threadSummary(t: ThreadRow & { messages: number }): ThreadSummary {
  return { id: t.id, inquiryId: t.inquiry_id, personId: t.person_id, subject: t.subject, createdAt: t.created_at, lastMessageAt: t.last_message_at, messages: t.messages };
}

export function messageView(m: MessageRow, attachments: AttachmentMeta[]): MessageView {
  return {
    id: m.id,
    direction: m.direction,
    messageId: m.message_id,
    inReplyTo: m.in_reply_to,
    references: m.reference_ids ? m.reference_ids.split(' ') : [],
    from: senderOf(m),
    source: m.source,
    subject: m.subject,
    text: m.text_body,
    html: m.html_body,
    note: m.note,
    at: m.at,
    attachments: attachments.filter((a) => a.message_id === m.id).map((a) => ({ id: a.id, filename: a.filename, contentType: a.content_type, size: Number(a.size) })),
  };
}
