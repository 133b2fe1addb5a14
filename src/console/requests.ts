// The privacy desk in the console (privacy role only: src/auth/roles.ts gives requests
// to privacy; admin manages accounts): the queue soonest-due first with the time left
// and what is at risk or overdue, one request with its history and mail, the staff
// actions (set type and jurisdiction, start, refuse with reasons, fulfil, close), and
// turning a triage thread into a request. Each read and action goes through a use case
// in src/rights/ that audits it with the account and session.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import type { Role } from '../auth/roles.ts';
import { getThread } from '../correspondence/get-thread.ts';
import { listTriage } from '../correspondence/list-triage.ts';
import { html, type SafeHtml } from '../http/html.ts';
import type { PrivacyRequestStatus } from '../storage/types.ts';
import { allowedMoves, changeStatus, REASON_MAX, type StaffMove } from '../rights/change-status.ts';
import { classifyRequest } from '../rights/classify-request.ts';
import { CorrectionError, INQUIRY_FIELDS, PERSON_FIELDS, type InquiryField, type PersonField } from '../rights/correct-person.ts';
import { AnsweredElsewhereError, correctRequest, recordsToCorrect, type CorrectRequestInput } from '../rights/correct-request.ts';
import { fulfilRequest } from '../rights/fulfil-request.ts';
import { localDateTime, REQUEST_TYPES } from '../rights/due-dates.ts';
import { jurisdictionName, jurisdictionOptions } from '../rights/jurisdictions.ts';
import { listRequests, type Risk } from '../rights/list-requests.ts';
import { TYPE_LABELS } from '../rights/mail.ts';
import { openRequestFromTriage } from '../rights/open-from-triage.ts';
import { MAX_REPLY, replyToRequester } from '../rights/reply-to-requester.ts';
import { RequestError, type StaffActor } from '../rights/staff-actor.ts';
import { ERASED_MARKER, type QueueFilters, type RequestRow } from '../rights/store.ts';
import { viewRequest } from '../rights/view-request.ts';
import { consolePage, csrfField } from './layout.ts';

export const REQUEST_ROLES: readonly Role[] = ['privacy'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const STATUS_LABELS: Record<PrivacyRequestStatus, string> = {
  received: 'Received',
  acknowledged: 'Acknowledged',
  verifying: 'Waiting for the requester to verify',
  in_progress: 'In progress',
  fulfilled: 'Fulfilled',
  refused: 'Refused',
  closed: 'Closed',
};
const CHANNELS: Record<RequestRow['channel'], string> = { mail: 'Email', form: 'Web form', triage: 'From triage' };
const RISK_LABELS: Record<Risk, string> = { overdue: 'Overdue', at_risk_80: 'At risk: 80% of the time used', at_risk_50: 'At risk: 50% of the time used', on_track: 'On track', done: '' };

function actor(req: FastifyRequest): StaffActor {
  return { staffAccountId: req.staff!.accountId, sessionId: req.staff!.sessionId };
}

function one(query: Record<string, unknown>, key: string): string {
  const v = query[key];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' ? s.trim() : '';
}

function bodyText(req: FastifyRequest, key: string): string {
  const v = (req.body as Record<string, unknown> | undefined)?.[key];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' ? s : '';
}

/** "3 days 4 h left", "overdue by 2 h": whole hours are enough at this scale. */
export function timeLeft(ms: number): string {
  const hours = Math.floor(Math.abs(ms) / 3_600_000);
  const days = Math.floor(hours / 24);
  const text = days > 0 ? `${days} ${days === 1 ? 'day' : 'days'}${hours % 24 ? ` ${hours % 24} h` : ''}` : hours > 0 ? `${hours} h` : 'less than an hour';
  return ms < 0 ? `overdue by ${text}` : `${text} left`;
}

function riskTag(risk: Risk): SafeHtml | '' {
  return risk === 'done' || risk === 'on_track' ? '' : html` <span class="tag risk-${risk}">${RISK_LABELS[risk]}</span>`;
}

export async function requestRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const options = jurisdictionOptions(deps.policy);
  const opt = (value: string, label: string, current: string) => html`<option value="${value}"${value === current ? html` selected` : ''}>${label}</option>`;
  const typeSelect = (id: string, current: string) =>
    html`<select id="${id}" name="type">${[...REQUEST_TYPES, 'unspecified'].map((t) => opt(t, TYPE_LABELS[t as RequestRow['type']], current))}</select>`;
  const jurisdictionSelect = (id: string, current: string) =>
    html`<select id="${id}" name="jurisdiction">${opt('unspecified', 'Not yet known (company deadline)', current)}${options.map((j) => opt(j.code, `${j.name} (${j.code})`, current))}</select>`;

  app.get('/console/requests', { config: { access: REQUEST_ROLES } }, async (req, reply) => {
    const query = req.query as Record<string, unknown>;
    const values = { status: one(query, 'status') || 'open', type: one(query, 'type'), channel: one(query, 'channel') };
    const errors: string[] = [];
    const filters: QueueFilters = {};
    if (values.status === 'open') filters.open = true;
    else if (values.status in STATUS_LABELS) filters.status = values.status as PrivacyRequestStatus;
    else if (values.status !== 'all') errors.push('Choose a status from the list.');
    if (values.type) {
      if (values.type in TYPE_LABELS) filters.type = values.type as RequestRow['type'];
      else errors.push('Choose a type from the list.');
    }
    if (values.channel) {
      if (values.channel in CHANNELS) filters.channel = values.channel as RequestRow['channel'];
      else errors.push('Choose a channel from the list.');
    }
    const rows = await listRequests(deps, actor(req), filters);
    return consolePage(deps, req, reply, {
      title: errors.length ? 'Error: Privacy requests' : 'Privacy requests',
      status: errors.length ? 400 : 200,
      path: '/console/requests',
      body: html`<h1>Privacy requests</h1>
<p><a href="/console/requests/triage">Turn triage mail into a request</a> · <a href="/console/requests/report">Monthly report</a></p>
${errors.length ? html`<div class="error-summary" role="alert"><ul>${errors.map((e) => html`<li>${e}</li>`)}</ul></div>` : ''}
<form class="filters" method="get" action="/console/requests">
<div class="field"><label for="status">Status</label><select id="status" name="status">${opt('open', 'Open (not yet answered)', values.status)}${opt('all', 'Any', values.status)}${Object.entries(STATUS_LABELS).map(([v, l]) => opt(v, l, values.status))}</select></div>
<div class="field"><label for="type">Type</label><select id="type" name="type">${opt('', 'Any', values.type)}${Object.entries(TYPE_LABELS).map(([v, l]) => opt(v, l, values.type))}</select></div>
<div class="field"><label for="channel">Came by</label><select id="channel" name="channel">${opt('', 'Any', values.channel)}${Object.entries(CHANNELS).map(([v, l]) => opt(v, l, values.channel))}</select></div>
<button type="submit" class="primary">Show</button> <a href="/console/requests">Clear filters</a>
</form>
<div class="table-wrap"><table class="data-table requests">
<caption>Requests, soonest answer due first (times in ${deps.policy.policy.business_calendar.time_zone})</caption>
<thead><tr><th scope="col">Reference</th><th scope="col">Answer due</th><th scope="col">Time left</th><th scope="col">Status</th><th scope="col">Type</th><th scope="col">Jurisdiction</th><th scope="col">Came by</th><th scope="col">Received</th><th scope="col">Verified</th></tr></thead>
<tbody>
${rows.length === 0 ? html`<tr><td colspan="9">No requests match these filters.</td></tr>` : ''}
${rows.map(
  ({ request: r, risk, msLeft }) =>
    html`<tr class="risk-row risk-${risk}"><th scope="row"><a href="/console/requests/${r.id}">${r.reference}</a></th><td>${localDateTime(deps, r.respond_by)}</td><td>${risk === 'done' ? '—' : timeLeft(msLeft)}${riskTag(risk)}</td><td>${STATUS_LABELS[r.status]}</td><td>${TYPE_LABELS[r.type]}</td><td>${jurisdictionName(deps.policy, r.jurisdiction)}</td><td>${CHANNELS[r.channel]}</td><td>${localDateTime(deps, r.received_at)}</td><td>${r.verified_at ? 'Yes' : 'No'}</td></tr>`,
)}
</tbody></table></div>`,
    });
  });

  const triagePage = async (req: FastifyRequest, reply: FastifyReply, status = 200, problem?: string) => {
    const page = await listTriage(deps, actor(req));
    return consolePage(deps, req, reply, {
      title: `${problem ? 'Error: ' : ''}Triage mail to requests`,
      status,
      path: '/console/requests',
      body: html`<p><a href="/console/requests">← Privacy requests</a></p>
<h1>Turn triage mail into a request</h1>
<p class="lead">Mail that did not say “${deps.policy.policy.organisation.privacy_subject}” but asks about someone’s data. The clock starts when the mail arrived; the sender gets the acknowledgement and a verification link.</p>
${problem ? html`<div class="error-summary" role="alert"><p>${problem}</p></div>` : ''}
${page.threads.length === 0 ? html`<p>Nothing waiting in triage.</p>` : ''}
${page.threads.map(
  (t) => html`<section class="mail-thread"><h2>${t.subject || '(no subject)'}</h2><p>From ${t.firstFrom.kind === 'address' ? t.firstFrom.address : t.firstFrom.kind === 'person' ? 'a known contact' : 'an unknown sender'} · ${t.messages} ${t.messages === 1 ? 'message' : 'messages'} · last ${localDateTime(deps, t.lastMessageAt)}</p>
<form class="inline-form" method="post" action="/console/requests/triage/${t.id}/open">${csrfField(req)}<label for="type-${t.id}">Type</label> ${typeSelect(`type-${t.id}`, 'unspecified')} <label for="jur-${t.id}">Jurisdiction</label> ${jurisdictionSelect(`jur-${t.id}`, 'unspecified')} <button type="submit">Open a privacy request</button></form></section>`,
)}`,
    });
  };

  app.get('/console/requests/triage', { config: { access: REQUEST_ROLES } }, async (req, reply) => triagePage(req, reply));

  app.post<{ Params: { threadId: string } }>('/console/requests/triage/:threadId/open', { config: { access: REQUEST_ROLES } }, async (req, reply) => {
    if (!UUID.test(req.params.threadId)) return triagePage(req, reply, 404, 'That thread does not exist.');
    try {
      const opened = await openRequestFromTriage(deps, actor(req), { threadId: req.params.threadId, type: bodyText(req, 'type'), jurisdiction: bodyText(req, 'jurisdiction') });
      return reply.redirect(`/console/requests/${opened.requestId}`, 303);
    } catch (error) {
      if (!(error instanceof RequestError)) throw error;
      return triagePage(req, reply, error.code === 'not_found' ? 404 : error.code === 'conflict' ? 409 : 422, `No request was opened: ${error.message}.`);
    }
  });

  const detailPage = async (req: FastifyRequest, reply: FastifyReply, id: string, status = 200, problem?: { message: string; reason?: string; text?: string; fields?: Record<string, string>; values?: Record<string, string> }) => {
    const view = UUID.test(id) ? await viewRequest(deps, actor(req), id) : undefined;
    if (!view) {
      return consolePage(deps, req, reply, { title: 'Request not found', status: 404, path: '/console/requests', body: html`<h1>Request not found</h1><p>There is no privacy request at this address. <a href="/console/requests">Back to the queue</a>.</p>` });
    }
    const r = view.request;
    const thread = r.thread_id ? await getThread(deps, { ...actor(req), threadId: r.thread_id }) : undefined;
    const moves = allowedMoves(r.status);
    const open = ['received', 'acknowledged', 'verifying', 'in_progress'].includes(r.status);
    // An erased requester's address is gone: there is nothing left to correct (close it).
    const correcting = r.type === 'correction' && r.verified_at !== null && r.requester_email !== ERASED_MARKER && ['acknowledged', 'verifying', 'in_progress'].includes(r.status);
    const correction = correcting ? await correctionForm(req, r.id, problem) : '';
    const detail = (label: string, value: SafeHtml | string | null) => html`<div><dt>${label}</dt><dd>${value ?? '—'}</dd></div>`;
    const action = (move: StaffMove, label: string, extra: SafeHtml | '' = '') =>
      moves.includes(move) ? html`<form class="inquiry-form" method="post" action="/console/requests/${r.id}/${move}">${csrfField(req)}${extra}<button type="submit">${label}</button></form>` : '';
    return consolePage(deps, req, reply, {
      title: `${problem ? 'Error: ' : ''}Privacy request ${r.reference}`,
      status,
      path: '/console/requests',
      body: html`<p><a href="/console/requests">← Privacy requests</a></p>
<h1>Privacy request ${r.reference}</h1>
${problem ? html`<div class="error-summary" role="alert"><p>${problem.message}</p></div>` : ''}
<dl class="details">
${detail('Requester', html`<a href="mailto:${r.requester_email}">${r.requester_email}</a>`)}${detail('Verified', r.verified_at ? `Yes, ${localDateTime(deps, r.verified_at)}` : 'Not yet: show, change or delete nothing')}
${detail('Status', STATUS_LABELS[r.status])}${detail('Type', TYPE_LABELS[r.type])}${detail('Jurisdiction', jurisdictionName(deps.policy, r.jurisdiction))}${detail('Came by', CHANNELS[r.channel])}
${detail('Received', localDateTime(deps, r.received_at))}${detail('Acknowledge by', html`${localDateTime(deps, r.acknowledge_by)} <span class="muted">(${r.acknowledge_rule}: ${r.acknowledge_citation})</span>`)}
${detail('Answer due', html`${localDateTime(deps, r.respond_by)}${open ? html` · ${timeLeft(view.msLeft)}${riskTag(view.risk)}` : ''} <span class="muted">(${r.respond_rule_kind === 'legal' ? 'legal deadline' : 'our deadline'} ${r.respond_rule}: ${r.respond_citation})</span>`)}
${r.type === 'unspecified' || r.jurisdiction === 'unspecified' ? detail('Note', 'Type or jurisdiction not known yet: the company deadline applies until you set them.') : ''}
${r.merged_into ? detail('Merged into', html`<a href="/console/requests/${r.merged_into}">the earlier verified request</a>`) : ''}
${r.refusal_reason ? detail('Refused because', r.refusal_reason) : ''}
</dl>
${r.message ? html`<h2>Their message</h2><pre class="mail-text">${r.message}</pre>` : ''}
${thread ? html`<h2>Mail</h2>${thread.messageList.map((m) => html`<article class="mail-message mail-${m.direction}"><header><p><strong>${m.direction === 'in' ? 'From the requester' : 'From us'}</strong> · ${localDateTime(deps, m.at)}</p><p><strong>Subject:</strong> ${m.subject}</p>${m.note ? html`<p class="muted">${m.note}</p>` : ''}</header><pre class="mail-text">${m.text}</pre>${m.attachments.length ? html`<p class="muted">${m.attachments.length} attachment(s)</p>` : ''}</article>`)}` : ''}
<h2>Write to the requester</h2>
<form class="inquiry-form" method="post" action="/console/requests/${r.id}/reply">${csrfField(req)}
<div class="field"><label for="reply-text">Your message to ${r.requester_email}</label><p class="hint">Sent from ${deps.policy.policy.organisation.privacy_address}; their answer joins this request.${r.verified_at ? '' : ' They are not verified yet: disclose nothing about their data.'}</p><textarea id="reply-text" name="text" rows="6" maxlength="${MAX_REPLY}" required>${problem?.text ?? ''}</textarea></div>
<button type="submit">Send</button></form>
<h2>Actions</h2>
${open ? html`<form class="inquiry-form" method="post" action="/console/requests/${r.id}/classify">${csrfField(req)}
<div class="field"><label for="set-type">Type</label>${typeSelect('set-type', r.type)}</div>
<div class="field"><label for="set-jurisdiction">Jurisdiction</label>${jurisdictionSelect('set-jurisdiction', r.jurisdiction)}</div>
<p class="hint">The answer's due date is worked out again from the receipt time.</p>
<button type="submit">Set type and jurisdiction</button></form>` : ''}
${open && r.verified_at && (r.type === 'access' || r.type === 'deletion') ? html`<form class="inquiry-form" method="post" action="/console/requests/${r.id}/fulfil">${csrfField(req)}<p class="hint">${r.type === 'access' ? 'Mails the requester a link, valid 14 days, to everything held about their address.' : 'Deletes everything held about their address in one transaction, except what a legal hold or contract covers, and tells them what was kept and why. This cannot be undone.'}</p><button type="submit">${r.type === 'access' ? 'Send them their data' : 'Delete their data'}</button></form>` : ''}
${correction}
${action('start', 'Start work on it')}
${action('refuse', 'Refuse, and tell the requester', html`<div class="field"><label for="reason">Reason for the refusal (sent to the requester)</label><textarea id="reason" name="reason" rows="4" maxlength="${REASON_MAX}" required>${problem?.reason ?? ''}</textarea><p class="hint">For example: we could not verify that the address is yours. Nothing is disclosed, changed or deleted.</p></div>`)}
${action('close', 'Close')}
<h2>History</h2>
<ol class="history">${view.events.map((e) => html`<li>${localDateTime(deps, e.at)}: <strong>${e.event.replace(/_/g, ' ')}</strong> by ${e.actor === 'requester' ? 'the requester' : e.actor.startsWith('staff:') ? 'staff' : e.actor.startsWith('mail:') ? 'incoming mail' : 'the system'}</li>`)}</ol>`,
    });
  };

  // The correction form: one field per correctable value, named as CorrectionError keys
  // them (person.name, inquiry.<id>.company), so each error sits under its own field.
  const FIELD_LABELS: Record<PersonField | InquiryField, string> = { name: 'Name', email: 'Email address', company: 'Company', role: 'Role', country: 'Country (two-letter code, e.g. GB)', context: 'Context' };
  const correctionForm = async (req: FastifyRequest, requestId: string, problem?: { fields?: Record<string, string>; values?: Record<string, string> }): Promise<SafeHtml> => {
    const { person, inquiries } = await recordsToCorrect(deps, actor(req), requestId);
    if (!person) return html`<h2>Correct their data</h2><p>We hold no person record under the requester's address, so there is nothing to correct. Tell them, then close the request.</p>`;
    const field = (key: string, name: PersonField | InquiryField, stored: string | null) => {
      const id = `correct-${key.replace(/\./g, '-')}`;
      const error = problem?.fields?.[key];
      const value = problem?.values?.[key] ?? stored ?? '';
      const control =
        name === 'context'
          ? html`<textarea id="${id}" name="${key}" rows="3"${error ? html` aria-invalid="true" aria-describedby="${id}-error"` : ''}>${value}</textarea>`
          : html`<input id="${id}" name="${key}" type="${name === 'email' ? 'email' : 'text'}" value="${value}"${error ? html` aria-invalid="true" aria-describedby="${id}-error"` : ''}>`;
      return html`<div class="field${error ? ' has-error' : ''}"><label for="${id}">${FIELD_LABELS[name]}</label>${error ? html`<p class="error-message" id="${id}-error"><span class="visually-hidden">Error: </span>${error}</p>` : ''}${control}</div>`;
    };
    return html`<h2>Correct their data</h2>
<form class="inquiry-form" method="post" action="/console/requests/${requestId}/correct">${csrfField(req)}
<p class="hint">Change what the requester asked to correct. The audit trail records which fields changed, never the values; the requester is mailed the list of changed fields and the request is marked fulfilled.</p>
<fieldset><legend>Person</legend>${PERSON_FIELDS.map((f) => field(`person.${f}`, f, person[f]))}</fieldset>
${inquiries.map((i) => html`<fieldset><legend>Inquiry ${i.reference}</legend>${INQUIRY_FIELDS.map((f) => field(`inquiry.${i.id}.${f}`, f, i[f]))}</fieldset>`)}
<button type="submit">Save the correction and tell the requester</button></form>`;
  };

  app.post<{ Params: { id: string } }>('/console/requests/:id/correct', { config: { access: REQUEST_ROLES } }, async (req, reply) => {
    if (!UUID.test(req.params.id)) return detailPage(req, reply, req.params.id);
    const body = (req.body ?? {}) as Record<string, unknown>;
    // Built as own properties only (Maps, then fromEntries): a key such as
    // inquiry.__proto__.company must never reach an object's prototype.
    const person = new Map<string, string>();
    const inquiries = new Map<string, Map<string, string>>();
    const values: Record<string, string> = {};
    for (const key of Object.keys(body)) {
      const value = bodyText(req, key);
      if (key.startsWith('person.')) {
        person.set(key.slice('person.'.length), value);
        values[key] = value;
      } else if (key.startsWith('inquiry.')) {
        // inquiry.<id>.<field>: unknown ids and fields are refused by correctPerson.
        const dot = key.lastIndexOf('.');
        if (dot <= 'inquiry.'.length) continue;
        const inquiryId = key.slice('inquiry.'.length, dot);
        if (!inquiries.has(inquiryId)) inquiries.set(inquiryId, new Map());
        inquiries.get(inquiryId)!.set(key.slice(dot + 1), value);
        values[key] = value;
      }
    }
    const input: CorrectRequestInput = {
      requestId: req.params.id,
      person: Object.fromEntries(person),
      inquiries: Object.fromEntries([...inquiries].map(([id, fields]) => [id, Object.fromEntries(fields)])),
    };
    try {
      await correctRequest(deps, actor(req), input);
    } catch (error) {
      if (error instanceof CorrectionError) {
        const status = error.code === 'not_found' ? 404 : error.code === 'conflict' ? 409 : 422;
        const fields = Object.keys(error.fields).length;
        return detailPage(req, reply, req.params.id, status, { message: `Nothing was changed: ${fields > 0 ? `correct the ${fields === 1 ? 'field' : `${fields} fields`} marked below` : error.message}.`, fields: error.fields, values });
      }
      if (error instanceof AnsweredElsewhereError) return detailPage(req, reply, req.params.id, 409, { message: `${error.message[0].toUpperCase()}${error.message.slice(1)}.` });
      if (!(error instanceof RequestError)) throw error;
      return detailPage(req, reply, req.params.id, error.code === 'not_found' ? 404 : error.code === 'conflict' ? 409 : 422, { message: `Nothing was changed: ${error.message}.`, values });
    }
    return reply.redirect(`/console/requests/${req.params.id}`, 303);
  });

  app.get<{ Params: { id: string } }>('/console/requests/:id', { config: { access: REQUEST_ROLES } }, async (req, reply) => detailPage(req, reply, req.params.id));

  const act = (path: string, run: (req: FastifyRequest<{ Params: { id: string } }>) => Promise<void>) =>
    app.post<{ Params: { id: string } }>(`/console/requests/:id/${path}`, { config: { access: REQUEST_ROLES } }, async (req, reply) => {
      if (!UUID.test(req.params.id)) return detailPage(req, reply, req.params.id);
      try {
        await run(req);
      } catch (error) {
        if (!(error instanceof RequestError)) throw error;
        return detailPage(req, reply, req.params.id, error.code === 'not_found' ? 404 : error.code === 'conflict' ? 409 : 422, { message: `Nothing was changed: ${error.message}.`, reason: bodyText(req, 'reason'), text: bodyText(req, 'text') });
      }
      return reply.redirect(`/console/requests/${req.params.id}`, 303);
    });

  act('fulfil', async (req) => {
    await fulfilRequest(deps, actor(req), { requestId: req.params.id });
  });
  act('reply', (req) => replyToRequester(deps, actor(req), { requestId: req.params.id, text: bodyText(req, 'text') }));
  act('classify', (req) => classifyRequest(deps, actor(req), { requestId: req.params.id, type: bodyText(req, 'type'), jurisdiction: bodyText(req, 'jurisdiction') }));
  for (const move of ['start', 'refuse', 'close'] as const) {
    act(move, (req) => changeStatus(deps, actor(req), { requestId: req.params.id, move, reason: bodyText(req, 'reason') }));
  }
}
