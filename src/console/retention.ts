// The console's retention page (privacy role): the holds in place, placing a legal hold
// or a contractual obligation, lifting one, and the last sweep. The same use cases as
// `lumetrax hold ...`; every read and change is audited with the account and session.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import { html, type SafeHtml } from '../http/html.ts';
import { countsInWords, lastSweep } from '../retention/last-sweep.ts';
import { HOLD_KINDS, HOLD_SCOPES, liftHold, listHolds, MAX_REASON_LENGTH, placeHold, RetentionError, type HoldRecord } from '../retention/holds.ts';
import { cadenceInWords } from '../retention/schedule.ts';
import { consolePage, csrfField } from './layout.ts';

const ACCESS = ['privacy'] as const;
const when = (iso: string) => iso.slice(0, 16).replace('T', ' ') + ' UTC';
const KIND_WORDS: Record<string, string> = { legal_hold: 'Legal hold', contract: 'Contractual obligation' };
const SCOPE_WORDS: Record<string, string> = { person: 'Person (id)', inquiry: 'Inquiry (id or reference)', domain: 'Company email domain' };

interface Typed {
  kind: string;
  scope: string;
  target: string;
  reason: string;
  until: string;
}
const EMPTY: Typed = { kind: 'legal_hold', scope: 'person', target: '', reason: '', until: '' };

const field = (body: Record<string, unknown>, name: string, max: number) => (typeof body[name] === 'string' ? (body[name] as string).slice(0, max) : '');

export async function retentionConsoleRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const actor = (req: FastifyRequest) => ({ actor: `staff:${req.staff!.accountId}`, sessionId: req.staff!.sessionId });

  const page = async (req: FastifyRequest, reply: FastifyReply, opts: { status?: number; notice?: SafeHtml; error?: string; typed?: Typed } = {}) => {
    const typed = opts.typed ?? EMPTY;
    const holds = await listHolds(deps, actor(req));
    const sweep = await lastSweep(deps.storage.db);
    const { retention, business_calendar } = deps.policy.policy;
    return consolePage(deps, req, reply, {
      title: opts.error ? 'Error: Retention and holds' : 'Retention and holds',
      status: opts.status,
      path: '/console/retention',
      body: html`<h1>Retention and holds</h1>
${opts.notice ? html`<div class="notice-banner" role="status">${opts.notice}</div>` : ''}
<p>The deletion job runs ${cadenceInWords(retention.sweep_cadence, business_calendar.time_zone)}. ${sweep ? html`It last finished at ${when(sweep.finishedAt)} and deleted ${countsInWords(sweep.counts)}.` : 'It has not run yet.'} Nothing a hold covers is deleted, by the job or by an erasure request.</p>
<div class="table-wrap"><table class="data-table" id="holds">
<caption>Holds in place</caption>
<thead><tr><th scope="col">Kind</th><th scope="col">Covers</th><th scope="col">Reason</th><th scope="col">Until</th><th scope="col">Placed</th><th scope="col">Action</th></tr></thead>
<tbody>
${holds.length === 0 ? html`<tr><td colspan="6">No holds are in place.</td></tr>` : ''}
${holds.map((h: HoldRecord) => html`<tr><th scope="row">${KIND_WORDS[h.kind]}</th><td>${h.scope} <code>${h.scopeId}</code></td><td>${h.reason}</td><td>${h.until ? when(h.until) : 'until lifted'}</td><td>${when(h.placedAt)} by ${h.placedBy}</td><td>
<form method="post" action="/console/retention/holds/${h.id}/lift" class="inline-form">${csrfField(req)}<button type="submit" aria-label="Lift the ${KIND_WORDS[h.kind].toLowerCase()} on ${h.scope} ${h.scopeId}">Lift</button></form></td></tr>`)}
</tbody></table></div>
<h2>Place a hold</h2>
${opts.error ? html`<div class="error-summary" role="alert"><p>${opts.error}</p></div>` : ''}
<form class="inquiry-form" method="post" action="/console/retention/holds" novalidate>
${csrfField(req)}
<div class="field"><label for="kind">Kind</label><select id="kind" name="kind">${HOLD_KINDS.map((k) => html`<option value="${k}"${typed.kind === k ? html` selected` : ''}>${KIND_WORDS[k]}</option>`)}</select></div>
<div class="field"><label for="scope">What it covers</label><select id="scope" name="scope">${HOLD_SCOPES.map((s) => html`<option value="${s}"${typed.scope === s ? html` selected` : ''}>${SCOPE_WORDS[s]}</option>`)}</select></div>
<div class="field"><label for="target">Person id, inquiry id or reference, or domain</label><input type="text" id="target" name="target" required spellcheck="false" value="${typed.target}"></div>
<div class="field"><label for="reason">Reason (the matter or contract)</label><textarea id="reason" name="reason" rows="3" maxlength="${MAX_REASON_LENGTH}" required>${typed.reason}</textarea></div>
<div class="field"><label for="until">End date of a contractual obligation (YYYY-MM-DD; leave empty for a legal hold)</label><input type="text" id="until" name="until" inputmode="numeric" pattern="\\d{4}-\\d{2}-\\d{2}" value="${typed.until}"></div>
<button type="submit" class="primary">Place the hold</button>
</form>`,
    });
  };

  app.get('/console/retention', { config: { access: ACCESS } }, async (req, reply) => page(req, reply));

  app.post('/console/retention/holds', { config: { access: ACCESS } }, async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const typed: Typed = { kind: field(body, 'kind', 20), scope: field(body, 'scope', 20), target: field(body, 'target', 300).trim(), reason: field(body, 'reason', MAX_REASON_LENGTH + 1), until: field(body, 'until', 40).trim() };
    try {
      const hold = await placeHold(deps, { ...actor(req), kind: typed.kind, scope: typed.scope, target: typed.target, reason: typed.reason, until: typed.until || undefined });
      return page(req, reply, { notice: html`<p>${KIND_WORDS[hold.kind]} placed on ${hold.scope} <code>${hold.scopeId}</code>.</p>` });
    } catch (error) {
      if (error instanceof RetentionError) return page(req, reply, { status: error.code === 'not_found' ? 404 : 422, error: `${error.message[0].toUpperCase()}${error.message.slice(1)}.`, typed });
      throw error;
    }
  });

  app.post<{ Params: { id: string } }>('/console/retention/holds/:id/lift', { config: { access: ACCESS } }, async (req, reply) => {
    try {
      const hold = await liftHold(deps, { ...actor(req), holdId: req.params.id });
      return page(req, reply, { notice: html`<p>${KIND_WORDS[hold.kind]} on ${hold.scope} <code>${hold.scopeId}</code> lifted.</p>` });
    } catch (error) {
      if (error instanceof RetentionError) return page(req, reply, { status: error.code === 'conflict' ? 409 : 404, error: error.code === 'conflict' ? 'That hold was lifted already.' : 'There is no such hold.' });
      throw error;
    }
  });
}
