// The inquiry inbox for sales and privacy staff: filtered, keyset-paginated list; one
// inquiry with its whole correspondence; replying, closing; triage of mail nobody's
// inquiry holds yet; attachment downloads. Every read and write goes through a use case
// that audits it with the staff member's account and session.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DateTime } from 'luxon';
import type { Deps } from '../deps.ts';
import type { Role } from '../auth/roles.ts';
import { assignTriageThread } from '../correspondence/assign-triage-thread.ts';
import { closeInquiry } from '../correspondence/close-inquiry.ts';
import { getAttachment } from '../correspondence/get-attachment.ts';
import { getThread } from '../correspondence/get-thread.ts';
import { listThreadsForInquiry } from '../correspondence/list-threads-for-inquiry.ts';
import { listTriage } from '../correspondence/list-triage.ts';
import { replyToThread } from '../correspondence/reply-to-thread.ts';
import { CorrespondenceError, type StaffActor } from '../correspondence/staff-actor.ts';
import { startThread } from '../correspondence/start-thread.ts';
import type { MessageView, Sender, ThreadView } from '../correspondence/views.ts';
import { html, type SafeHtml } from '../http/html.ts';
import { countryOptions, isCountryCode } from '../inquiries/countries.ts';
import { listInquiries } from '../inquiries/list-inquiries.ts';
import type { InboxCursor, InboxFilters, InquiryDetail } from '../inquiries/store.ts';
import { viewInquiry } from '../inquiries/view-inquiry.ts';
import type { InquiryStatus } from '../storage/types.ts';
import { findHoldsCovering } from '../retention/holds.ts';
import { inquiryDeletion } from '../retention/schedule.ts';
import { consolePage, csrfField } from './layout.ts';

export const INBOX_ROLES: readonly Role[] = ['sales', 'privacy'];
const STATUSES: Record<InquiryStatus, string> = { new: 'New', in_conversation: 'In conversation', closed: 'Closed' };
const FORMS: Record<string, string> = { demo: 'Demo request', contact: 'Contact' };
const MAX_SEARCH = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const when = (iso: string | null) => (iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : '—');

function actor(req: FastifyRequest): StaffActor {
  return { staffAccountId: req.staff!.accountId, sessionId: req.staff!.sessionId };
}

/** The page position as it travels in a link: opaque to people, checked on the way back. */
export function encodeCursor(cursor: InboxCursor): string {
  return Buffer.from(`${cursor.createdAt}~${cursor.id}`).toString('base64url');
}

export function decodeCursor(text: string): InboxCursor | undefined {
  if (text.length > 200) return undefined;
  const [createdAt, id, extra] = Buffer.from(text, 'base64url').toString('utf8').split('~');
  if (extra !== undefined || !id || !UUID.test(id) || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(createdAt ?? '')) return undefined;
  return { createdAt, id };
}

interface FilterForm {
  values: Record<'status' | 'form' | 'country' | 'from' | 'to' | 'free_mail' | 'q', string>;
  filters: InboxFilters;
  errors: string[];
  after: InboxCursor | undefined;
}

function one(query: Record<string, unknown>, key: string): string {
  const v = query[key];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' ? s.trim() : '';
}

/** Reads the filter form from the query string; a bad value is named and left out. */
export function readFilters(query: Record<string, unknown>, timeZone: string): FilterForm {
  const values = { status: one(query, 'status'), form: one(query, 'form'), country: one(query, 'country').toUpperCase(), from: one(query, 'from'), to: one(query, 'to'), free_mail: one(query, 'free_mail'), q: one(query, 'q') };
  const filters: InboxFilters = {};
  const errors: string[] = [];
  if (values.status) {
    if (values.status in STATUSES) filters.status = values.status as InquiryStatus;
    else errors.push('Choose a status from the list.');
  }
  if (values.form) {
    if (values.form in FORMS) filters.form = values.form;
    else errors.push('Choose a form from the list.');
  }
  if (values.country) {
    if (isCountryCode(values.country)) filters.country = values.country;
    else errors.push('Choose a country from the list.');
  }
  // Dates are days in the business calendar's time zone, both ends included.
  const day = (text: string, label: string) => {
    const d = /^\d{4}-\d{2}-\d{2}$/.test(text) ? DateTime.fromISO(text, { zone: timeZone }) : undefined;
    if (!d?.isValid) errors.push(`${label} must be a date written YYYY-MM-DD.`);
    return d?.isValid ? d : undefined;
  };
  const from = values.from ? day(values.from, 'From') : undefined;
  const to = values.to ? day(values.to, 'To') : undefined;
  if (from) filters.from = from.startOf('day').toUTC().toISO()!;
  if (to) filters.to = to.plus({ days: 1 }).startOf('day').toUTC().toISO()!;
  if (from && to && to < from) errors.push('The end date is before the start date.');
  if (values.free_mail === 'yes' || values.free_mail === 'no') filters.freeMail = values.free_mail === 'yes';
  else if (values.free_mail) errors.push('Choose whether to show free-mail addresses from the list.');
  if (values.q) {
    if ([...values.q].length > MAX_SEARCH) errors.push(`Search for ${MAX_SEARCH} characters or fewer.`);
    // No stored value can hold a NUL (PostgreSQL text refuses it), and FTS5 cannot read one.
    else if (values.q.includes('\u0000')) errors.push('Search text cannot contain a NUL character.');
    else filters.text = values.q;
  }
  const afterText = one(query, 'after');
  const after = afterText ? decodeCursor(afterText) : undefined;
  if (afterText && !after) errors.push('That page link is damaged; showing the first page.');
  return { values, filters, errors, after };
}

function filterQuery(values: FilterForm['values'], after?: InboxCursor): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v) params.set(k, v);
  if (after) params.set('after', encodeCursor(after));
  return params.toString();
}

function senderLabel(from: Sender, inquiry: InquiryDetail | undefined): string {
  if (from.kind === 'staff') return 'Our team';
  if (from.kind === 'person') return inquiry && from.personId === inquiry.person_id ? `${inquiry.name} <${inquiry.email}>` : 'A known contact';
  if (from.kind === 'address') return from.address;
  return 'Unknown sender';
}

function messageBlock(m: MessageView, inquiry: InquiryDetail | undefined): SafeHtml {
  return html`<article class="mail-message mail-${m.direction}">
<header><p><strong>${m.direction === 'in' ? 'From' : 'Sent by'}:</strong> ${senderLabel(m.from, inquiry)} · ${when(m.at)}</p><p><strong>Subject:</strong> ${m.subject}</p>${m.note ? html`<p class="muted">${m.note}</p>` : ''}</header>
<pre class="mail-text">${m.text}</pre>
${m.html ? html`<details><summary>Show the HTML version (sanitised; no scripts, nothing loaded from elsewhere)</summary><iframe class="mail-html" sandbox="" referrerpolicy="no-referrer" title="HTML version of the message" srcdoc="${m.html}"></iframe></details>` : ''}
${m.attachments.length ? html`<ul class="attachments">${m.attachments.map((a) => html`<li><a href="/console/attachments/${a.id}" download>${a.filename}</a> (${a.contentType}, ${Math.ceil(a.size / 1024)} KB)</li>`)}</ul>` : ''}
</article>`;
}

export async function inboxRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const zone = deps.policy.policy.business_calendar.time_zone;

  app.get('/console/inquiries', { config: { access: INBOX_ROLES } }, async (req, reply) => {
    const form = readFilters(req.query as Record<string, unknown>, zone);
    const page = await listInquiries(deps, actor(req), form.filters, form.after);
    const { values } = form;
    const option = (value: string, label: string, current: string) => html`<option value="${value}"${value === current ? html` selected` : ''}>${label}</option>`;
    return consolePage(deps, req, reply, {
      title: form.errors.length ? 'Error: Inquiries' : 'Inquiries',
      status: form.errors.length ? 400 : 200,
      path: '/console/inquiries',
      body: html`<h1>Inquiries</h1>
${form.errors.length ? html`<div class="error-summary" role="alert"><ul>${form.errors.map((e) => html`<li>${e}</li>`)}</ul></div>` : ''}
<form class="filters" method="get" action="/console/inquiries">
<div class="field"><label for="q">Search name, company or email</label><input type="search" id="q" name="q" value="${values.q}" maxlength="${MAX_SEARCH}" spellcheck="false"></div>
<div class="field"><label for="status">Status</label><select id="status" name="status">${option('', 'Any', values.status)}${Object.entries(STATUSES).map(([v, l]) => option(v, l, values.status))}</select></div>
<div class="field"><label for="form">Form</label><select id="form" name="form">${option('', 'Any', values.form)}${Object.entries(FORMS).map(([v, l]) => option(v, l, values.form))}</select></div>
<div class="field"><label for="country">Country</label><select id="country" name="country">${option('', 'Any', values.country)}${countryOptions.map((c) => option(c.code, c.name, values.country))}</select></div>
<div class="field"><label for="from">Received from</label><input type="date" id="from" name="from" value="${values.from}"></div>
<div class="field"><label for="to">Received to</label><input type="date" id="to" name="to" value="${values.to}"></div>
<div class="field"><label for="free_mail">Free-mail address</label><select id="free_mail" name="free_mail">${option('', 'Either', values.free_mail)}${option('yes', 'Only free-mail', values.free_mail)}${option('no', 'Only company domains', values.free_mail)}</select></div>
<button type="submit" class="primary">Show</button> <a href="/console/inquiries">Clear filters</a>
</form>
<div class="table-wrap"><table class="data-table">
<caption>Inquiries, newest first${form.after ? ' (continued)' : ''}</caption>
<thead><tr><th scope="col">Reference</th><th scope="col">Received</th><th scope="col">Name</th><th scope="col">Company</th><th scope="col">Email</th><th scope="col">Country</th><th scope="col">Form</th><th scope="col">Status</th><th scope="col">Last activity</th></tr></thead>
<tbody>
${page.rows.length === 0 ? html`<tr><td colspan="9">No inquiries match these filters.</td></tr>` : ''}
${page.rows.map(
  (r) => html`<tr><th scope="row"><a href="/console/inquiries/${r.id}">${r.reference}</a></th><td>${when(r.created_at)}</td><td>${r.name}</td><td>${r.company}</td><td>${r.email}${r.free_mail ? html` <span class="tag">free-mail</span>` : ''}</td><td>${r.country}</td><td>${FORMS[r.form] ?? r.form}</td><td>${STATUSES[r.status]}</td><td>${when(r.last_activity_at)}</td></tr>`,
)}
</tbody></table></div>
<nav class="pager" aria-label="Pages">${form.after ? html`<a href="/console/inquiries?${filterQuery(values)}">First page</a> ` : ''}${page.next ? html`<a href="/console/inquiries?${filterQuery(values, page.next)}" rel="next">Next page</a>` : html`<span class="muted">End of the list.</span>`}</nav>`,
    });
  });

  const detailPage = async (req: FastifyRequest, reply: FastifyReply, id: string, status = 200, problem?: { message: string; reply?: string; outcome?: string }, notice?: string) => {
    const inquiry = UUID.test(id) ? await viewInquiry(deps, actor(req), id) : undefined;
    if (!inquiry) {
      return consolePage(deps, req, reply, { title: 'Inquiry not found', status: 404, path: '/console/inquiries', body: html`<h1>Inquiry not found</h1><p>There is no inquiry at this address; it may have been deleted under the retention schedule. <a href="/console/inquiries">Back to the inbox</a>.</p>` });
    }
    const summaries = await listThreadsForInquiry(deps, { ...actor(req), inquiryId: inquiry.id });
    const threads: ThreadView[] = [];
    for (const s of summaries) {
      const thread = await getThread(deps, { ...actor(req), threadId: s.id });
      if (thread) threads.push(thread);
    }
    const detail = (label: string, value: SafeHtml | string | null) => html`<div><dt>${label}</dt><dd>${value ?? '—'}</dd></div>`;
    // What the retention sweep will do with it, as it stands: a reply or closing it moves
    // the date, a hold keeps it past the date.
    const deletion = inquiryDeletion(deps.policy.policy.retention.rules, inquiry);
    const holds = await findHoldsCovering(deps.storage.db, { personId: inquiry.person_id, inquiryIds: [inquiry.id], emailDomain: inquiry.email.split('@').pop() }, deps.now().toISOString());
    const deletionText = deletion ? html`${when(deletion.at)} <span class="muted">(rule ${deletion.rule.id})</span>` : 'Kept (no rule deletes it)';
    return consolePage(deps, req, reply, {
      title: `${problem ? 'Error: ' : ''}Inquiry ${inquiry.reference}`,
      status,
      path: '/console/inquiries',
      body: html`<p><a href="/console/inquiries">← Inbox</a></p>
<h1>Inquiry ${inquiry.reference}</h1>
${notice ? html`<div class="notice-banner" role="status"><p>${notice}</p></div>` : ''}
${problem ? html`<div class="error-summary" role="alert"><p>${problem.message}</p></div>` : ''}
<dl class="details">
${detail('Name', inquiry.name)}${detail('Email', html`<a href="mailto:${inquiry.email}">${inquiry.email}</a>${inquiry.free_mail ? html` <span class="tag">free-mail</span>` : ''}`)}
${detail('Company', inquiry.company)}${detail('Role', inquiry.role)}${detail('Country', `${countryOptions.find((c) => c.code === inquiry.country)?.name ?? inquiry.country} (${inquiry.country})`)}
${detail('Form', FORMS[inquiry.form] ?? inquiry.form)}${detail('Received', when(inquiry.created_at))}${detail('Status', STATUSES[inquiry.status])}
${inquiry.status === 'closed' ? html`${detail('Outcome', inquiry.outcome)}${detail('Closed', when(inquiry.closed_at))}` : ''}
${detail('Last activity', when(inquiry.last_activity_at))}${detail('Due for deletion', holds.length ? html`${deletionText}; kept past that while a hold covers it (${holds.length === 1 ? '1 hold' : `${holds.length} holds`})` : deletionText)}
</dl>
<h2>${inquiry.form === 'demo' ? 'About their portfolio' : 'Their message'}</h2>
<pre class="mail-text">${inquiry.context ?? '(Nothing written.)'}</pre>
<h2>Correspondence</h2>
${threads.length === 0 ? html`<p>No email yet. Your reply below starts the conversation; it threads under the confirmation they received.</p>` : ''}
${threads.map((t) => html`<section class="mail-thread" aria-label="Thread: ${t.subject}"><h3>${t.subject}</h3>${t.messageList.map((m) => messageBlock(m, inquiry))}</section>`)}
<h2>Reply</h2>
<form class="inquiry-form" method="post" action="/console/inquiries/${inquiry.id}/reply">
${csrfField(req)}
<input type="hidden" name="thread" value="${threads.at(-1)?.id ?? ''}">
<div class="field"><label for="reply-text">Your reply to ${inquiry.email}</label><textarea id="reply-text" name="text" rows="8" required>${problem?.reply ?? ''}</textarea></div>
<button type="submit" class="primary">Send reply</button>
</form>
${inquiry.status !== 'closed' ? html`<h2>Close</h2>
<form class="inquiry-form" method="post" action="/console/inquiries/${inquiry.id}/close">
${csrfField(req)}
<div class="field"><label for="outcome">Outcome</label><input type="text" id="outcome" name="outcome" maxlength="200" required value="${problem?.outcome ?? ''}"><p class="hint">For example: demo booked, not a fit, no answer. The retention clock uses the closing date.</p></div>
<button type="submit">Close this inquiry</button>
</form>` : ''}`,
    });
  };

  app.get<{ Params: { id: string }; Querystring: { sent?: string } }>('/console/inquiries/:id', { config: { access: INBOX_ROLES } }, async (req, reply) =>
    detailPage(req, reply, req.params.id, 200, undefined, req.query.sent === '1' ? 'Your reply is in the outbox and goes out with the next delivery.' : undefined),
  );

  const bodyText = (req: FastifyRequest, key: string) => {
    const v = (req.body as Record<string, unknown> | undefined)?.[key];
    return typeof v === 'string' ? v : '';
  };

  app.post<{ Params: { id: string } }>('/console/inquiries/:id/reply', { config: { access: INBOX_ROLES } }, async (req, reply) => {
    const text = bodyText(req, 'text');
    if (!UUID.test(req.params.id)) return detailPage(req, reply, req.params.id);
    try {
      let threadId = bodyText(req, 'thread');
      if (!threadId) threadId = (await startThread(deps, { ...actor(req), inquiryId: req.params.id })).threadId;
      else if (!UUID.test(threadId)) throw new CorrespondenceError('invalid', 'the reply form was damaged; reload the page');
      await replyToThread(deps, { threadId, staffAccountId: req.staff!.accountId, sessionId: req.staff!.sessionId, text });
    } catch (error) {
      if (!(error instanceof CorrespondenceError)) throw error;
      return detailPage(req, reply, req.params.id, error.code === 'not_found' ? 404 : 422, { message: `The reply was not sent: ${error.message}.`, reply: text });
    }
    return reply.redirect(`/console/inquiries/${req.params.id}?sent=1`, 303);
  });

  app.post<{ Params: { id: string } }>('/console/inquiries/:id/close', { config: { access: INBOX_ROLES } }, async (req, reply) => {
    const outcome = bodyText(req, 'outcome');
    if (!UUID.test(req.params.id)) return detailPage(req, reply, req.params.id);
    try {
      await closeInquiry(deps, { ...actor(req), inquiryId: req.params.id, outcome });
    } catch (error) {
      if (!(error instanceof CorrespondenceError)) throw error;
      return detailPage(req, reply, req.params.id, error.code === 'not_found' ? 404 : 422, { message: `The inquiry was not closed: ${error.message}.`, outcome });
    }
    return reply.redirect(`/console/inquiries/${req.params.id}`, 303);
  });

  const triagePage = async (req: FastifyRequest, reply: FastifyReply, status = 200, problem?: string) => {
    const page = await listTriage(deps, actor(req));
    return consolePage(deps, req, reply, {
      title: `${problem ? 'Error: ' : ''}Triage`,
      status,
      path: '/console/triage',
      body: html`<h1>Triage</h1>
<p class="lead">Mail to our addresses that no inquiry holds yet. Give a thread to the inquiry it belongs to by its reference.</p>
${problem ? html`<div class="error-summary" role="alert"><p>${problem}</p></div>` : ''}
${page.threads.length === 0 ? html`<p>Nothing waiting.</p>` : ''}
${page.threads.map(
  (t) => html`<section class="mail-thread"><h2>${t.subject}</h2><p>From ${senderLabel(t.firstFrom, undefined)} · ${t.messages} ${t.messages === 1 ? 'message' : 'messages'} · last ${when(t.lastMessageAt)}</p>
<form class="inline-form" method="post" action="/console/triage/${t.id}/assign">${csrfField(req)}<label for="ref-${t.id}">Inquiry reference</label> <input type="text" id="ref-${t.id}" name="reference" placeholder="LT-XXXXXXXX" required maxlength="20"> <button type="submit">Give to this inquiry</button></form></section>`,
)}`,
    });
  };

  app.get('/console/triage', { config: { access: INBOX_ROLES } }, async (req, reply) => triagePage(req, reply));

  app.post<{ Params: { threadId: string } }>('/console/triage/:threadId/assign', { config: { access: INBOX_ROLES } }, async (req, reply) => {
    const reference = bodyText(req, 'reference').trim().toUpperCase();
    const inquiry = /^LT-[A-Z0-9]{1,16}$/.test(reference) ? await deps.storage.db.selectFrom('inquiry').select('id').where('reference', '=', reference).executeTakeFirst() : undefined;
    if (!inquiry) return triagePage(req, reply, 422, `No inquiry has the reference “${reference.slice(0, 20)}”.`);
    if (!UUID.test(req.params.threadId)) return triagePage(req, reply, 404, 'That thread does not exist.');
    try {
      await assignTriageThread(deps, { ...actor(req), threadId: req.params.threadId, inquiryId: inquiry.id });
    } catch (error) {
      if (!(error instanceof CorrespondenceError)) throw error;
      return triagePage(req, reply, error.code === 'not_found' ? 404 : 409, `The thread was not moved: ${error.message}.`);
    }
    return reply.redirect(`/console/inquiries/${inquiry.id}`, 303);
  });

  app.get<{ Params: { id: string } }>('/console/attachments/:id', { config: { access: INBOX_ROLES } }, async (req, reply) => {
    const file = UUID.test(req.params.id) ? await getAttachment(deps, { ...actor(req), role: req.staff!.role, attachmentId: req.params.id }) : undefined;
    if (!file) return consolePage(deps, req, reply, { title: 'Attachment not found', status: 404, path: '/console/inquiries', body: html`<h1>Attachment not found</h1><p><a href="/console/inquiries">Back to the inbox</a></p>` });
    // Always a download, never rendered by the browser in our origin.
    const name = file.filename.replace(/[^\w.\- ]+/g, '_').slice(0, 100) || 'attachment';
    return reply
      .type('application/octet-stream')
      .header('content-disposition', `attachment; filename="${name}"; filename*=UTF-8''${encodeURIComponent(file.filename.slice(0, 200))}`)
      .header('cache-control', 'no-store')
      .send(file.content);
  });
}
