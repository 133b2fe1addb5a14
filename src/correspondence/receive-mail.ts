// One inbound message, however it came (SMTP listener or IMAP poller): parsed with
// mailparser, its HTML sanitised, its attachments kept up to the policy's limit, and
// threaded: by In-Reply-To/References against messages we hold (ours out, theirs in) and
// our outbox Message-IDs, then by sender (their latest open inquiry); otherwise it waits
// in triage. Mail for the privacy desk goes first: a reply to a privacy request's thread
// or acknowledgement joins that request, and mail to the privacy address whose subject
// means "Privacy question" opens one (src/rights/mail-intake.ts), in a thread of its own
// and in the same transaction. A Message-ID already stored is not stored again. A message that cannot be
// read is kept in triage with a note, never an error: only a message over the size
// limit (or, when the policy says so, with an attachment over it) is refused, and only
// to the SMTP client, which can be told.
import { createHash, randomUUID } from 'node:crypto';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { Deps } from '../deps.ts';
import { oneLine } from '../mail/draft.ts';
import { isSingleAddress } from '../mail/queue-mail.ts';
import { findPersonBySubjectKey } from '../people/store.ts';
import { subjectKey } from '../people/subject.ts';
import { inTransaction, type UnitOfWork } from '../unit-of-work.ts';
import { idsIn, oneId, outboxIdOf } from './message-ids.ts';
import { sanitiseHtml } from './sanitise.ts';
import { inboundSettings } from './settings.ts';
import { isPrivacyRequestMail, linkThread, noteFollowUp, openRequestFromMail, requestForMail } from '../rights/mail-intake.ts';
import {
  findInquiry,
  insertAttachment,
  insertMessage,
  insertThread,
  latestOpenInquiryOf,
  latestThreadOfInquiry,
  messageExists,
  outboxRefs,
  threadOfMessages,
  touchInquiry,
  touchThread,
} from './store.ts';

export type InboundSource = 'smtp' | 'imap';

/** The message is refused as a whole; `code` is the SMTP reply to give. */
export class MailRefused extends Error {
  readonly responseCode: number;
  constructor(responseCode: number, message: string) {
    super(message);
    this.responseCode = responseCode;
  }
}

export type ReceiveResult =
  | { status: 'stored'; messageRowId: string; threadId: string; inquiryId: string | null; triage: boolean; attachments: number; droppedAttachments: number; matchedBy: MatchedBy; requestId: string | null; requestOpened: boolean }
  | { status: 'duplicate' };

export type MatchedBy = 'reference' | 'outbox-reference' | 'sender' | 'triage' | 'privacy-request';

const MAX_SUBJECT = 998;
const MAX_TEXT = 2_000_000;

interface Attachment {
  filename: string;
  contentType: string;
  content: Uint8Array;
}

interface Prepared {
  messageId: string;
  inReplyTo: string | null;
  references: string[];
  fromAddress: string | null;
  /** To and Cc addresses, lower-cased (which of our addresses it was written to). */
  recipients: string[];
  subject: string;
  text: string;
  html: string | null;
  attachments: Attachment[];
  dropped: number;
  notes: string[];
}

class Duplicate extends Error {}

// PostgreSQL's text cannot hold NUL; mail may carry it anywhere.
function noNul(value: string): string {
  return value.includes('\u0000') ? value.replace(/\u0000/g, '\uFFFD') : value;
}

function safeFilename(name: string | undefined, index: number): string {
  const cleaned = (name ?? '').replace(/[\p{Cc}\u2028\u2029/\\]+/gu, '_').trim().slice(0, 200);
  return cleaned || `attachment-${index + 1}`;
}

function safeContentType(type: string | undefined): string {
  return typeof type === 'string' && /^[a-z0-9!#$&^_.+-]{1,64}\/[a-z0-9!#$&^_.+-]{1,64}$/i.test(type) ? type.toLowerCase() : 'application/octet-stream';
}

function syntheticId(raw: Buffer): string {
  // A stable id for a message without a usable one, so a second delivery is still one.
  return `<${createHash('sha256').update(raw).digest('hex')}@no-message-id.invalid>`;
}

function prepare(raw: Buffer, parsed: ParsedMail | undefined, settings: ReturnType<typeof inboundSettings>, source: InboundSource, extraNote?: string): Prepared {
  const notes: string[] = extraNote ? [extraNote] : [];
  if (!parsed) {
    notes.push('the message could not be read; kept without its content');
    return { messageId: syntheticId(raw), inReplyTo: null, references: [], fromAddress: null, recipients: [], subject: '', text: '', html: null, attachments: [], dropped: 0, notes };
  }
  const messageId = oneId(parsed.messageId) ?? syntheticId(raw);
  const inReplyTo = idsIn(parsed.inReplyTo)[0] ?? null;
  const references = idsIn(parsed.references);
  const from = parsed.from?.value?.[0]?.address;
  const fromAddress = typeof from === 'string' && isSingleAddress(from.trim()) ? from.trim() : null;
  if (!fromAddress) notes.push('no usable sender address');
  const recipients = [parsed.to, parsed.cc]
    .flatMap((a) => (a === undefined ? [] : Array.isArray(a) ? a : [a]))
    .flatMap((a) => a.value ?? [])
    .map((v) => (typeof v.address === 'string' ? v.address.trim().toLowerCase() : ''))
    .filter(Boolean);
  let text = typeof parsed.text === 'string' ? noNul(parsed.text) : '';
  if (text.length > MAX_TEXT) {
    text = text.slice(0, MAX_TEXT);
    notes.push('text shortened');
  }
  let html: string | null = null;
  if (typeof parsed.html === 'string' && parsed.html.length > 0) {
    try {
      html = noNul(sanitiseHtml(parsed.html));
    } catch {
      notes.push('HTML part could not be sanitised and was left out');
    }
  }
  const attachments: Attachment[] = [];
  let dropped = 0;
  (parsed.attachments ?? []).forEach((a, i) => {
    const content = a.content instanceof Uint8Array ? a.content : new Uint8Array(0);
    if (content.byteLength > settings.attachmentMaxBytes) {
      if (settings.oversizeAttachment === 'refuse' && source === 'smtp') {
        throw new MailRefused(552, `attachment larger than ${settings.attachmentMaxBytes} bytes`);
      }
      dropped++;
      return;
    }
    attachments.push({ filename: safeFilename(a.filename, i), contentType: safeContentType(a.contentType), content });
  });
  if (dropped > 0) notes.push(`${dropped} attachment${dropped === 1 ? '' : 's'} over the limit of ${settings.attachmentMaxBytes} bytes dropped`);
  return { messageId, inReplyTo, references, fromAddress, recipients, subject: noNul(oneLine(parsed.subject ?? '')).slice(0, MAX_SUBJECT), text, html, attachments, dropped, notes };
}

async function parse(raw: Buffer): Promise<ParsedMail | undefined> {
  try {
    return await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
  } catch {
    return undefined;
  }
}

/**
 * Stores one raw message (RFC 5322 bytes). `note` records what the caller already did to
 * it (e.g. the IMAP poller fetched only the headers of a message over the size limit).
 */
export async function receiveMail(
  deps: Pick<Deps, 'storage' | 'policy' | 'signer' | 'now' | 'mailQueued' | 'config'>,
  raw: Buffer,
  options: { source: InboundSource; note?: string },
): Promise<ReceiveResult> {
  const settings = inboundSettings(deps.policy.policy);
  if (raw.byteLength > settings.messageMaxBytes && !options.note) {
    if (options.source === 'smtp') throw new MailRefused(552, `message larger than ${settings.messageMaxBytes} bytes`);
    // From a mailbox there is nobody to refuse to: keep the headers, with a note.
    const end = raw.indexOf('\r\n\r\n');
    const headers = raw.subarray(0, end >= 0 ? end + 4 : Math.min(raw.byteLength, 64 * 1024));
    return receiveMail(deps, Buffer.from(headers), { source: options.source, note: `message of ${raw.byteLength} bytes is over the limit of ${settings.messageMaxBytes}: only its headers were kept` });
  }
  const mail = prepare(raw, await parse(raw), settings, options.source, options.note);
  if (await messageExists(deps.storage.db, mail.messageId)) return { status: 'duplicate' };
  try {
    return await inTransaction(deps, (uow) => store(uow, deps, mail, options.source));
  } catch (error) {
    if (error instanceof Duplicate) return { status: 'duplicate' };
    throw error;
  }
}

async function store(uow: UnitOfWork, deps: Pick<Deps, 'policy' | 'signer' | 'config'>, mail: Prepared, source: InboundSource): Promise<ReceiveResult> {
  const at = uow.now.toISOString();
  const sender = mail.fromAddress ? await findPersonBySubjectKey(uow.trx, subjectKey(deps.signer, mail.fromAddress)) : undefined;

  let threadId: string | undefined;
  let inquiryId: string | null = null;
  let matchedBy: MatchedBy = 'triage';
  const refs = [...(mail.inReplyTo ? [mail.inReplyTo] : []), ...mail.references.slice().reverse()];
  // 1. A message we hold (a staff reply, or an earlier message of theirs).
  threadId = await threadOfMessages(uow.trx, refs);
  if (threadId) matchedBy = 'reference';
  // Privacy requests before inquiries: a reply in a request's thread, or to its acknowledgement.
  const ourOutboxIds = refs.map((ref) => outboxIdOf(deps.policy.policy, ref)).filter((id): id is string => id !== undefined);
  const request = await requestForMail(uow, threadId, threadId ? [] : ourOutboxIds);
  if (request) {
    matchedBy = 'privacy-request';
    threadId ??= request.thread_id ?? undefined;
  }
  const opensRequest = !request && !threadId && isPrivacyRequestMail(deps, mail);
  if (opensRequest) matchedBy = 'privacy-request';
  // 2. One of our outbox mails (the confirmation of their inquiry, say).
  if (!threadId && !request && !opensRequest) {
    for (const ref of refs) {
      const outboxId = outboxIdOf(deps.policy.policy, ref);
      const about = outboxId ? await outboxRefs(uow.trx, outboxId) : undefined;
      if (about?.inquiry_id) {
        inquiryId = about.inquiry_id;
        matchedBy = 'outbox-reference';
        break;
      }
    }
  }
  // 3. The sender's latest open inquiry.
  if (!threadId && !inquiryId && sender && !request && !opensRequest) {
    const open = await latestOpenInquiryOf(uow.trx, sender.id);
    if (open) {
      inquiryId = open;
      matchedBy = 'sender';
    }
  }

  let thread: { id: string; inquiryId: string | null };
  if (threadId) {
    const row = await uow.trx.selectFrom('mail_thread').select(['id', 'inquiry_id']).where('id', '=', threadId).executeTakeFirstOrThrow();
    thread = { id: row.id, inquiryId: row.inquiry_id };
  } else if (inquiryId) {
    const inquiry = await findInquiry(uow.trx, inquiryId);
    const existing = inquiry ? await latestThreadOfInquiry(uow.trx, inquiryId) : undefined;
    if (existing) thread = { id: existing, inquiryId };
    else if (inquiry) {
      thread = { id: randomUUID(), inquiryId };
      await insertThread(uow.trx, { id: thread.id, inquiry_id: inquiryId, person_id: inquiry.person_id, subject: mail.subject, created_at: at, last_message_at: at });
    } else {
      thread = { id: randomUUID(), inquiryId: null };
      matchedBy = 'triage';
      await insertThread(uow.trx, { id: thread.id, inquiry_id: null, person_id: sender?.id ?? null, subject: mail.subject, created_at: at, last_message_at: at });
    }
  } else {
    thread = { id: randomUUID(), inquiryId: null };
    await insertThread(uow.trx, { id: thread.id, inquiry_id: null, person_id: sender?.id ?? null, subject: mail.subject, created_at: at, last_message_at: at });
    // A follow-up to a request answered so far only by mail from us (a form request): its thread starts here.
    if (request) await linkThread(uow, request.id, thread.id);
  }

  const rowId = randomUUID();
  const inserted = await insertMessage(uow.trx, {
    id: rowId,
    thread_id: thread.id,
    direction: 'in',
    message_id: mail.messageId,
    in_reply_to: mail.inReplyTo,
    reference_ids: mail.references.length > 0 ? mail.references.join(' ') : null,
    from_person_id: sender?.id ?? null,
    from_address: sender ? null : mail.fromAddress,
    staff_account_id: null,
    outbox_id: null,
    source,
    subject: mail.subject,
    text_body: mail.text,
    html_body: mail.html,
    note: mail.notes.length > 0 ? mail.notes.join('; ') : null,
    at,
  });
  // Another delivery of it won the race: undo the thread this one may have opened.
  if (!inserted) throw new Duplicate();
  for (const a of mail.attachments) {
    await insertAttachment(uow.trx, { id: randomUUID(), message_id: rowId, filename: a.filename, content_type: a.contentType, size: a.content.byteLength, content: a.content });
  }
  await touchThread(uow.trx, thread.id, at);
  if (thread.inquiryId) await touchInquiry(uow.trx, thread.inquiryId, at, false);
  let requestId = request?.id ?? null;
  if (request) await noteFollowUp(uow, request, source, rowId);
  if (opensRequest && mail.fromAddress) {
    requestId = (await openRequestFromMail(uow, deps, { fromAddress: mail.fromAddress, personId: sender?.id ?? null, threadId: thread.id, messageId: mail.messageId, messageRowId: rowId, source })).requestId;
  }
  const triage = thread.inquiryId === null && requestId === null;
  const dropped = mail.dropped;
  uow.audit({
    actor: `mail:${source}`,
    action: 'correspondence.received',
    entityType: 'mail_message',
    entityId: rowId,
    details: { thread: thread.id, inquiry: thread.inquiryId ?? '', ...(requestId ? { privacy_request: requestId } : {}), triage, matched_by: matchedBy, attachments: mail.attachments.length, dropped_attachments: dropped },
  });
  return { status: 'stored', messageRowId: rowId, threadId: thread.id, inquiryId: thread.inquiryId, triage, attachments: mail.attachments.length, droppedAttachments: dropped, matchedBy, requestId, requestOpened: opensRequest };
}
