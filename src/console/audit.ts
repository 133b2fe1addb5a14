// The audit trail in the console, for privacy and admin staff: newest first, filtered by
// action, actor, record and date, a page at a time.
import type { FastifyInstance } from 'fastify';
import { DateTime } from 'luxon';
import type { Deps } from '../deps.ts';
import { browseAudit } from '../audit/browse-audit.ts';
import type { AuditFilters } from '../audit/store.ts';
import { html } from '../http/html.ts';
import { consolePage } from './layout.ts';

const FIELDS = { action: 'Action', actor: 'Actor', entity_type: 'Record type', entity_id: 'Record id' } as const;
const TOKEN = /^[\w.:*@-]{1,100}$/;

export async function auditRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const zone = deps.policy.policy.business_calendar.time_zone;

  app.get('/console/audit', { config: { access: ['privacy', 'admin'] } }, async (req, reply) => {
    const query = req.query as Record<string, unknown>;
    const text = (key: string) => {
      const v = query[key];
      const s = Array.isArray(v) ? v[0] : v;
      return typeof s === 'string' ? s.trim() : '';
    };
    const values = { action: text('action'), actor: text('actor'), entity_type: text('entity_type'), entity_id: text('entity_id'), from: text('from'), to: text('to') };
    const errors: string[] = [];
    const filters: AuditFilters = {};
    for (const [key, label] of Object.entries(FIELDS) as Array<[keyof typeof FIELDS, string]>) {
      if (!values[key]) continue;
      if (!TOKEN.test(values[key])) errors.push(`${label}: letters, digits and . _ : - @ * only, up to 100.`);
      else filters[key === 'entity_type' ? 'entityType' : key === 'entity_id' ? 'entityId' : key] = values[key];
    }
    for (const [key, label] of [['from', 'From'], ['to', 'To']] as const) {
      if (!values[key]) continue;
      const day = /^\d{4}-\d{2}-\d{2}$/.test(values[key]) ? DateTime.fromISO(values[key], { zone }) : undefined;
      if (!day?.isValid) errors.push(`${label} must be a date written YYYY-MM-DD.`);
      else filters[key] = (key === 'from' ? day.startOf('day') : day.plus({ days: 1 }).startOf('day')).toUTC().toISO()!;
    }
    const beforeText = text('before');
    const before = /^\d{1,15}$/.test(beforeText) ? Number(beforeText) : undefined;
    if (beforeText && before === undefined) errors.push('That page link is damaged; showing the newest entries.');
    const page = await browseAudit(deps, { staffAccountId: req.staff!.accountId, sessionId: req.staff!.sessionId }, filters, before);
    const keep = new URLSearchParams(Object.entries(values).filter(([, v]) => v) as Array<[string, string]>);
    const nextQuery = new URLSearchParams(keep);
    if (page.next !== undefined) nextQuery.set('before', String(page.next));
    return consolePage(deps, req, reply, {
      title: errors.length ? 'Error: Audit trail' : 'Audit trail',
      status: errors.length ? 400 : 200,
      body: html`<h1>Audit trail</h1>
<p class="lead">Every touch of personal data, sign-in and account change, newest first. Entries name records by id, never a person by name or address; each is chained to the one before, and the chain head is signed.</p>
${errors.length ? html`<div class="error-summary" role="alert"><ul>${errors.map((e) => html`<li>${e}</li>`)}</ul></div>` : ''}
<form class="filters" method="get" action="/console/audit">
${(Object.entries(FIELDS) as Array<[keyof typeof FIELDS, string]>).map(([key, label]) => html`<div class="field"><label for="${key}">${label}</label><input type="text" id="${key}" name="${key}" value="${values[key]}" maxlength="100" spellcheck="false"></div>`)}
<div class="field"><label for="from">From</label><input type="date" id="from" name="from" value="${values.from}"></div>
<div class="field"><label for="to">To</label><input type="date" id="to" name="to" value="${values.to}"></div>
<button type="submit" class="primary">Show</button> <a href="/console/audit">Clear filters</a>
</form>
<div class="table-wrap"><table class="data-table">
<caption>Audit entries${before !== undefined ? ' (older)' : ''}</caption>
<thead><tr><th scope="col">#</th><th scope="col">When (UTC)</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Record</th><th scope="col">Details</th></tr></thead>
<tbody>
${page.entries.length === 0 ? html`<tr><td colspan="6">No entries match.</td></tr>` : ''}
${page.entries.map((e) => html`<tr><th scope="row">${e.seq}</th><td>${e.at.slice(0, 19).replace('T', ' ')}</td><td>${e.actor}</td><td>${e.action}</td><td>${e.entity_type} ${e.entity_id}</td><td><code>${e.details}</code></td></tr>`)}
</tbody></table></div>
<nav class="pager" aria-label="Pages">${before !== undefined ? html`<a href="/console/audit?${keep.toString()}">Newest</a> ` : ''}${page.next !== undefined ? html`<a href="/console/audit?${nextQuery.toString()}" rel="next">Older entries</a>` : html`<span class="muted">Start of the trail.</span>`}</nav>`,
    });
  });
}
