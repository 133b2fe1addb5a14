// The access package: everything held about one address, as JSON for machines and as a
// readable HTML page, built from the same object so the two never disagree.
//
// Decisions:
// - Attachments are in the JSON whole: metadata plus the bytes as base64 (`contentBase64`).
//   The policy caps one attachment at `correspondence.attachment_max_bytes` (5 MB) and a
//   message at `message_max_bytes` (10 MB), so a package stays a file one can download;
//   one download is simpler to deliver behind one expiring link than a file per
//   attachment. The HTML page lists each attachment's name, type and size and says the
//   bytes are in the JSON.
// - Field names are camelCase and stable (`format` and `version` name the shape); a field
//   is added, never renamed. Times are ISO-8601 UTC.
// - Mail written by someone else in the person's threads is left out (find-person-data.ts).
// - The HTML page is one self-contained document: every value escaped by html``, no
//   script, no stylesheet, image or font, so it loads nothing and passes a strict CSP.
//
// The desk serves both behind an expiring, audited link; building a package is itself
// audited here (person id and counts per table).
import type { Deps } from '../deps.ts';
import { html, type SafeHtml } from '../http/html.ts';
import { inBatch } from '../unit-of-work.ts';
import { checkedAddress, collectPersonData, countsOf, type PersonData, type StaffActorInput } from './find-person-data.ts';
import { attachmentsWithContent } from './person-data-store.ts';
import { inquiryDeletion, type RetentionRule } from '../retention/schedule.ts';

export const ACCESS_PACKAGE_FORMAT = 'lumetrax-access-package';
export const ACCESS_PACKAGE_VERSION = 1;

export interface PackagedAttachment {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  contentBase64: string;
}

export interface PackagedMessage {
  id: string;
  threadId: string;
  direction: 'in' | 'out';
  /** `you`, `staff` or, for mail whose sender could not be read, `unknown`. */
  from: 'you' | 'staff' | 'unknown';
  at: string;
  subject: string;
  text: string;
  html: string | null;
  note: string | null;
  messageId: string;
  attachments: PackagedAttachment[];
}

export interface AccessPackage {
  format: typeof ACCESS_PACKAGE_FORMAT;
  version: typeof ACCESS_PACKAGE_VERSION;
  generatedAt: string;
  organisation: { name: string; privacyAddress: string };
  /** The address the package was built for, normalised. */
  address: string;
  person: { id: string; email: string; name: string; createdAt: string; updatedAt: string } | null;
  inquiries: Array<{
    id: string;
    reference: string;
    form: string;
    company: string;
    role: string;
    country: string;
    context: string | null;
    freeMail: boolean;
    noticeVersion: string;
    status: string;
    outcome: string | null;
    createdAt: string;
    closedAt: string | null;
    lastActivityAt: string | null;
    /** When the retention rules delete it if nothing about it changes (null: kept indefinitely). */
    deleteAfter: string | null;
  }>;
  consentRecords: Array<{ id: string; inquiryId: string | null; purpose: string; action: string; wording: string | null; noticeVersion: string | null; channel: string; recordedAt: string }>;
  pendingConsentConfirmations: Array<{ id: string; inquiryId: string | null; purpose: string; wording: string; noticeVersion: string; channel: string; requestedAt: string; expiresAt: string }>;
  correspondence: {
    threads: Array<{ id: string; inquiryId: string | null; subject: string; createdAt: string; lastMessageAt: string; messages: PackagedMessage[] }>;
    /** Mail the person sent into conversations that are about someone else (without the rest). */
    messagesElsewhere: PackagedMessage[];
  };
  outbox: Array<{ id: string; kind: string; inquiryId: string | null; status: string; to: string; subject: string; text: string; createdAt: string; sentAt: string | null; note: string }>;
  marketing: {
    /** On the suppression list (held as a keyed hash of the address, never the address). */
    suppressed: boolean;
    suppressionSince: string | null;
    withdrawalLinkRequests: Array<{ requestedAt: string }>;
    withdrawalLinkMailsSent: Array<{ day: string; sent: number }>;
  };
  earlierErasures: Array<{ id: string; erasedAt: string; erased: Record<string, number> }>;
  /** Their privacy requests, this one included: what was asked, how, and when each step came. */
  privacyRequests: Array<{
    id: string;
    reference: string;
    type: string;
    channel: string;
    status: string;
    receivedAt: string;
    verifiedAt: string | null;
    fulfilledAt: string | null;
    refusedAt: string | null;
    closedAt: string | null;
    respondBy: string;
  }>;
  counts: Record<string, number>;
}

const SENT_NOTE = 'Sent: the contents of sent mail are erased once the mail server accepts it.';

function packageMessage(m: PersonData['messages'][number], attachments: Map<string, PackagedAttachment[]>, personId: string | undefined): PackagedMessage {
  // Someone else's mail never reaches the package, so a sender we can read is the person.
  const theirs = (personId !== undefined && m.from_person_id === personId) || m.from_address !== null;
  return {
    id: m.id,
    threadId: m.thread_id,
    direction: m.direction,
    from: m.direction === 'out' ? 'staff' : theirs ? 'you' : 'unknown',
    at: m.at,
    subject: m.subject,
    text: m.text_body,
    html: m.html_body,
    note: m.note,
    messageId: m.message_id,
    attachments: attachments.get(m.id) ?? [],
  };
}

/** Shapes what was found into the package (pure; the attachment bytes are passed in). */
export function toAccessPackage(data: PersonData, bytes: Map<string, Uint8Array>, meta: { generatedAt: string; organisation: string; privacyAddress: string; retentionRules: readonly RetentionRule[] }): AccessPackage {
  const personId = data.person?.id;
  const attachments = new Map<string, PackagedAttachment[]>();
  for (const a of data.attachments) {
    const list = attachments.get(a.message_id) ?? [];
    list.push({ id: a.id, filename: a.filename, contentType: a.content_type, size: Number(a.size), contentBase64: Buffer.from(bytes.get(a.id) ?? new Uint8Array()).toString('base64') });
    attachments.set(a.message_id, list);
  }
  const threadIds = new Set(data.threads.map((t) => t.id));
  const suppression = data.suppression.map((s) => s.created_at).sort();
  return {
    format: ACCESS_PACKAGE_FORMAT,
    version: ACCESS_PACKAGE_VERSION,
    generatedAt: meta.generatedAt,
    organisation: { name: meta.organisation, privacyAddress: meta.privacyAddress },
    address: data.address,
    person: data.person
      ? { id: data.person.id, email: data.person.email, name: data.person.name, createdAt: data.person.created_at, updatedAt: data.person.updated_at }
      : null,
    inquiries: data.inquiries.map((i) => ({
      id: i.id,
      reference: i.reference,
      form: i.form,
      company: i.company,
      role: i.role,
      country: i.country,
      context: i.context,
      freeMail: Boolean(Number(i.free_mail)),
      noticeVersion: i.notice_version,
      status: i.status,
      outcome: i.outcome,
      createdAt: i.created_at,
      closedAt: i.closed_at,
      lastActivityAt: i.last_activity_at,
      deleteAfter: inquiryDeletion(meta.retentionRules, i)?.at ?? null,
    })),
    consentRecords: data.consentRecords.map((c) => ({
      id: c.id,
      inquiryId: c.inquiry_id,
      purpose: c.purpose,
      action: c.action,
      wording: c.wording,
      noticeVersion: c.notice_version,
      channel: c.channel,
      recordedAt: c.recorded_at,
    })),
    pendingConsentConfirmations: data.consentConfirmations.map((c) => ({
      id: c.id,
      inquiryId: c.inquiry_id,
      purpose: c.purpose,
      wording: c.wording,
      noticeVersion: c.notice_version,
      channel: c.channel,
      requestedAt: c.requested_at,
      expiresAt: c.expires_at,
    })),
    correspondence: {
      threads: data.threads.map((t) => ({
        id: t.id,
        inquiryId: t.inquiry_id,
        subject: t.subject,
        createdAt: t.created_at,
        lastMessageAt: t.last_message_at,
        messages: data.messages.filter((m) => m.thread_id === t.id).map((m) => packageMessage(m, attachments, personId)),
      })),
      messagesElsewhere: data.messages.filter((m) => !threadIds.has(m.thread_id)).map((m) => packageMessage(m, attachments, personId)),
    },
    outbox: data.outbox.map((o) => ({
      id: o.id,
      kind: o.kind,
      inquiryId: o.inquiry_id,
      status: o.status,
      to: o.to_address,
      subject: o.subject,
      text: o.text_body,
      createdAt: o.created_at,
      sentAt: o.sent_at,
      note: o.status === 'sent' ? SENT_NOTE : 'Waiting to be sent.',
    })),
    marketing: {
      suppressed: suppression.length > 0,
      suppressionSince: suppression[0] ?? null,
      withdrawalLinkRequests: data.withdrawalRequests.map((w) => ({ requestedAt: w.requested_at })),
      withdrawalLinkMailsSent: data.mailAllowances.map((a) => ({ day: a.day, sent: Number(a.sent) })),
    },
    earlierErasures: data.erasureProofs.map((p) => ({ id: p.id, erasedAt: p.erased_at, erased: JSON.parse(p.erased) as Record<string, number> })),
    privacyRequests: data.privacyRequests.map((r) => ({
      id: r.id,
      reference: r.reference,
      type: r.type,
      channel: r.channel,
      status: r.status,
      receivedAt: r.received_at,
      verifiedAt: r.verified_at,
      fulfilledAt: r.fulfilled_at,
      refusedAt: r.refused_at,
      closedAt: r.closed_at,
      respondBy: r.respond_by,
    })),
    counts: countsOf(data),
  };
}

/**
 * Builds the package for an address: one audited staff read (person id, counts; no
 * values). The desk calls this after the requester is verified and serves the result as
 * `accessPackageJson` and `accessPackageHtml` behind its expiring link.
 */
export async function buildAccessPackage(deps: Pick<Deps, 'storage' | 'now' | 'mailQueued' | 'signer' | 'policy'>, input: StaffActorInput & { email: string }): Promise<AccessPackage> {
  checkedAddress(input.email);
  return inBatch(deps, async (uow) => {
    const data = await collectPersonData(uow.trx, deps.signer, input.email);
    const withBytes = await attachmentsWithContent(uow.trx, data.messages.map((m) => m.id));
    const bytes = new Map(withBytes.map((a) => [a.id, a.content]));
    uow.audit({
      actor: input.actor,
      action: 'rights.access_package_built',
      entityType: 'person',
      entityId: data.person?.id ?? '',
      details: { ...countsOf(data), ...(input.requestId ? { request: input.requestId } : {}) },
    });
    const org = deps.policy.policy.organisation;
    return toAccessPackage(data, bytes, { generatedAt: uow.now.toISOString(), organisation: org.name, privacyAddress: org.privacy_address, retentionRules: deps.policy.policy.retention.rules });
  });
}

export function accessPackageJson(pkg: AccessPackage): string {
  return JSON.stringify(pkg, null, 2) + '\n';
}

function dl(rows: Array<[string, string | number | boolean | null | undefined]>): SafeHtml {
  return html`<dl>${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v === null || v === undefined || v === '' ? '(none)' : String(v)}</dd>`)}</dl>`;
}

function messageHtml(m: PackagedMessage): SafeHtml {
  const who = { you: 'You', staff: 'Our staff', unknown: 'Sender not readable' }[m.from];
  return html`<article>
<h4>${m.subject || '(no subject)'}</h4>
${dl([['From', who], ['Sent or received', m.at], ['Message-ID', m.messageId], ['Note', m.note]])}
<pre>${m.text}</pre>
${m.attachments.length > 0
  ? html`<p>Attachments (their contents are in the JSON package, field <code>contentBase64</code>):</p>
<ul>${m.attachments.map((a) => html`<li>${a.filename} (${a.contentType}, ${a.size} bytes)</li>`)}</ul>`
  : ''}
</article>`;
}

function section(title: string, count: number, body: SafeHtml): SafeHtml {
  return html`<section>
<h2>${title} (${count})</h2>
${count === 0 ? html`<p>Nothing held.</p>` : body}
</section>`;
}

/** The readable page: a complete HTML document that loads nothing. */
export function accessPackageHtml(pkg: AccessPackage): string {
  const threadsCount = pkg.correspondence.threads.length + (pkg.correspondence.messagesElsewhere.length > 0 ? 1 : 0);
  return (
    '<!doctype html>\n' +
    html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Your data held by ${pkg.organisation.name}</title>
</head>
<body>
<main>
<h1>Your data held by ${pkg.organisation.name}</h1>
<p>Everything we hold about ${pkg.address}, as of ${pkg.generatedAt}. The same data, machine-readable and with attachment contents, is in the JSON file of this package. Questions: ${pkg.organisation.privacyAddress}.</p>
${section('Your contact details', pkg.person ? 1 : 0, pkg.person ? dl([['Name', pkg.person.name], ['Email', pkg.person.email], ['First recorded', pkg.person.createdAt], ['Last updated', pkg.person.updatedAt]]) : html``)}
${section('Your inquiries', pkg.inquiries.length, html`${pkg.inquiries.map((i) => html`<h3>Inquiry ${i.reference}</h3>
${dl([['Form', i.form], ['Company', i.company], ['Role', i.role], ['Country', i.country], ['Message', i.context], ['Sent', i.createdAt], ['Status', i.status], ['Outcome', i.outcome], ['Closed', i.closedAt], ['Last activity', i.lastActivityAt], ['Privacy notice version', i.noticeVersion], ['To be deleted after (if nothing changes)', i.deleteAfter ?? 'kept']])}`)}`)}
${section('Marketing consent', pkg.consentRecords.length + pkg.pendingConsentConfirmations.length, html`${pkg.consentRecords.length > 0 ? html`<table>
<caption>Consent records</caption>
<thead><tr><th scope="col">When</th><th scope="col">Purpose</th><th scope="col">Action</th><th scope="col">Wording shown</th><th scope="col">Notice version</th><th scope="col">Channel</th></tr></thead>
<tbody>${pkg.consentRecords.map((c) => html`<tr><td>${c.recordedAt}</td><td>${c.purpose}</td><td>${c.action}</td><td>${c.wording ?? ''}</td><td>${c.noticeVersion ?? ''}</td><td>${c.channel}</td></tr>`)}</tbody>
</table>` : ''}
${pkg.pendingConsentConfirmations.map((c) => html`<p>Waiting for your confirmation since ${c.requestedAt} (until ${c.expiresAt}): ${c.purpose}, "${c.wording}".</p>`)}`)}
${section('Correspondence', threadsCount, html`${pkg.correspondence.threads.map((t) => html`<section>
<h3>Conversation: ${t.subject || '(no subject)'}</h3>
${dl([['Started', t.createdAt], ['Last message', t.lastMessageAt]])}
${t.messages.map(messageHtml)}
</section>`)}
${pkg.correspondence.messagesElsewhere.length > 0 ? html`<section>
<h3>Your messages in other conversations</h3>
${pkg.correspondence.messagesElsewhere.map(messageHtml)}
</section>` : ''}`)}
${section('Email we sent or are about to send you', pkg.outbox.length, html`<table>
<caption>Outgoing mail</caption>
<thead><tr><th scope="col">Queued</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Subject</th><th scope="col">Note</th></tr></thead>
<tbody>${pkg.outbox.map((o) => html`<tr><td>${o.createdAt}</td><td>${o.kind}</td><td>${o.status}</td><td>${o.subject || '(erased after sending)'}</td><td>${o.note}</td></tr>`)}</tbody>
</table>
${pkg.outbox.filter((o) => o.text !== '').map((o) => html`<h3>Waiting to be sent: ${o.subject}</h3><pre>${o.text}</pre>`)}`)}
<section>
<h2>Marketing preferences</h2>
${dl([
  ['On our do-not-contact list', pkg.marketing.suppressed ? `yes, since ${pkg.marketing.suppressionSince}` : 'no'],
  ['Unsubscribe links you asked for', pkg.marketing.withdrawalLinkRequests.length],
  ['Unsubscribe-link mails sent (by day)', pkg.marketing.withdrawalLinkMailsSent.map((a) => `${a.day}: ${a.sent}`).join(', ')],
])}
<p>The do-not-contact list holds a keyed hash of your address, never the address itself.</p>
</section>
${section('Your privacy requests', pkg.privacyRequests.length, html`<table>
<caption>Requests about your data</caption>
<thead><tr><th scope="col">Reference</th><th scope="col">Type</th><th scope="col">Sent by</th><th scope="col">Status</th><th scope="col">Received</th><th scope="col">Verified</th><th scope="col">Answer due</th><th scope="col">Fulfilled</th><th scope="col">Refused</th><th scope="col">Closed</th></tr></thead>
<tbody>${pkg.privacyRequests.map((r) => html`<tr><td>${r.reference}</td><td>${r.type}</td><td>${r.channel}</td><td>${r.status.replace('_', ' ')}</td><td>${r.receivedAt}</td><td>${r.verifiedAt ?? ''}</td><td>${r.respondBy}</td><td>${r.fulfilledAt ?? ''}</td><td>${r.refusedAt ?? ''}</td><td>${r.closedAt ?? ''}</td></tr>`)}</tbody>
</table>`)}
${pkg.earlierErasures.length > 0 ? html`<section>
<h2>Earlier erasures</h2>
<ul>${pkg.earlierErasures.map((e) => html`<li>${e.erasedAt}: ${Object.entries(e.erased).filter(([, n]) => n > 0).map(([t, n]) => `${t} ${n}`).join(', ') || 'nothing was held'}</li>`)}</ul>
</section>` : ''}
</main>
</body>
</html>
`.value
  );
}
