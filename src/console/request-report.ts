// The privacy desk's monthly report page (privacy role): counts by type and outcome, the
// acknowledgement and answer times (median, worst), a bar chart drawn on the server as
// SVG (no script, nothing loaded), and the same rows as CSV through src/http/csv.ts.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DateTime } from 'luxon';
import type { Deps } from '../deps.ts';
import { toCsv } from '../http/csv.ts';
import { html, type SafeHtml } from '../http/html.ts';
import { TYPE_LABELS } from '../rights/mail.ts';
import { currentMonth, monthlyReport, type MonthlyReport, type Outcome, type Stat } from '../rights/monthly-report.ts';
import { consolePage } from './layout.ts';
import { REQUEST_ROLES } from './requests.ts';

const OUTCOMES: Array<[Outcome, string, string]> = [
  ['met', 'Answered on time', '#2e7d32'],
  ['missed', 'Answered late', '#b3261e'],
  ['open_late', 'Open and overdue', '#e65100'],
  ['open', 'Open, not yet due', '#5c6bc0'],
];
const TYPES = ['access', 'correction', 'deletion', 'unspecified'] as const;

export function duration(ms: number | null): string {
  if (ms === null) return '—';
  const hours = ms / 3_600_000;
  return hours < 48 ? `${hours.toFixed(1)} h` : `${(hours / 24).toFixed(1)} days`;
}

/** Stacked bars, one per request type, in plain SVG with a text alternative. */
export function reportChart(report: MonthlyReport): SafeHtml {
  const barH = 28;
  const gap = 14;
  const left = 110;
  const width = 520;
  const max = Math.max(1, ...TYPES.map((t) => OUTCOMES.reduce((n, [o]) => n + report.byType[t][o], 0)));
  const scale = (width - left - 40) / max;
  const height = TYPES.length * (barH + gap) + 40;
  const bars = TYPES.map((t, i) => {
    const y = 10 + i * (barH + gap);
    let x = left;
    const segments = OUTCOMES.map(([o, label, colour]) => {
      const n = report.byType[t][o];
      const w = n * scale;
      const seg = n > 0 ? html`<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${colour}"><title>${TYPE_LABELS[t]}: ${n} ${label.toLowerCase()}</title></rect>` : '';
      x += w;
      return seg;
    });
    const total = OUTCOMES.reduce((n, [o]) => n + report.byType[t][o], 0);
    return html`<text x="${left - 8}" y="${y + barH / 2 + 5}" text-anchor="end" font-size="14">${TYPE_LABELS[t]}</text>${segments}<text x="${(x + 6).toFixed(1)}" y="${y + barH / 2 + 5}" font-size="14">${total}</text>`;
  });
  const legendY = height - 14;
  const legend = OUTCOMES.map(([, label, colour], i) => html`<rect x="${10 + i * 130}" y="${legendY - 10}" width="12" height="12" fill="${colour}"></rect><text x="${26 + i * 130}" y="${legendY}" font-size="12">${label}</text>`);
  return html`<svg class="chart" role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><title id="chart-title">Requests received in ${report.month} by type and outcome: ${TYPES.map((t) => `${TYPE_LABELS[t]} ${OUTCOMES.map(([o, label]) => `${report.byType[t][o]} ${label.toLowerCase()}`).join(', ')}`).join('; ')}</title>${bars}${legend}</svg>`;
}

function monthOf(req: FastifyRequest, deps: Deps): { month: string; invalid: boolean } {
  const raw = (req.query as Record<string, unknown>).month;
  const text = typeof raw === 'string' ? raw.trim() : '';
  const zone = deps.policy.policy.business_calendar.time_zone;
  return text ? { month: text.slice(0, 7), invalid: !/^\d{4}-(0[1-9]|1[0-2])$/.test(text) } : { month: currentMonth(deps.now(), zone), invalid: false };
}

export async function requestReportRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const actor = (req: FastifyRequest) => ({ staffAccountId: req.staff!.accountId, sessionId: req.staff!.sessionId });
  const zone = deps.policy.policy.business_calendar.time_zone;

  app.get('/console/requests/report', { config: { access: REQUEST_ROLES } }, async (req, reply) => {
    const { month, invalid } = monthOf(req, deps);
    const report = invalid ? undefined : await monthlyReport(deps, actor(req), month, 'viewed');
    if (!report) {
      return consolePage(deps, req, reply, { title: 'Error: Monthly report', status: 400, path: '/console/requests', body: html`<h1>Monthly report</h1><div class="error-summary" role="alert"><p>Choose a month written YYYY-MM.</p></div><p><a href="/console/requests/report">This month’s report</a></p>` });
    }
    const prev = DateTime.fromISO(`${month}-01`, { zone }).minus({ months: 1 }).toFormat('yyyy-LL');
    const next = DateTime.fromISO(`${month}-01`, { zone }).plus({ months: 1 }).toFormat('yyyy-LL');
    const statRow = (label: string, s: Stat) => html`<tr><th scope="row">${label}</th><td>${s.count}</td><td>${duration(s.medianMs)}</td><td>${duration(s.worstMs)}</td></tr>`;
    return consolePage(deps, req, reply, {
      title: `Monthly report ${month}`,
      path: '/console/requests',
      body: html`<p><a href="/console/requests">← Privacy requests</a></p>
<h1>Privacy requests received in ${DateTime.fromISO(`${month}-01`, { zone }).setLocale('en-GB').toFormat('LLLL yyyy')}</h1>
<form class="filters" method="get" action="/console/requests/report"><div class="field"><label for="month">Month</label><input type="month" id="month" name="month" value="${month}"></div><button type="submit" class="primary">Show</button> <a href="/console/requests/report?month=${prev}">Previous month</a> · <a href="/console/requests/report?month=${next}">Next month</a></form>
<p><a href="/console/requests/report.csv?month=${month}" download>Download these requests as CSV</a></p>
${reportChart(report)}
<div class="table-wrap" tabindex="0" role="region" aria-label="Requests by type and outcome"><table class="data-table">
<caption>By type and outcome (${report.totals.all} requests; merged duplicates counted once)</caption>
<thead><tr><th scope="col">Type</th>${OUTCOMES.map(([, label]) => html`<th scope="col">${label}</th>`)}<th scope="col">All</th></tr></thead>
<tbody>${TYPES.map((t) => html`<tr><th scope="row">${TYPE_LABELS[t]}</th>${OUTCOMES.map(([o]) => html`<td>${report.byType[t][o]}</td>`)}<td>${OUTCOMES.reduce((n, [o]) => n + report.byType[t][o], 0)}</td></tr>`)}
<tr><th scope="row">All</th>${OUTCOMES.map(([o]) => html`<td>${report.totals[o]}</td>`)}<td>${report.totals.all}</td></tr></tbody></table></div>
<div class="table-wrap" tabindex="0" role="region" aria-label="How long it took"><table class="data-table">
<caption>How long it took, from receipt</caption>
<thead><tr><th scope="col">Step</th><th scope="col">Requests</th><th scope="col">Median</th><th scope="col">Worst</th></tr></thead>
<tbody>${statRow('Acknowledgement', report.acknowledgement)}${statRow('Answer (fulfilled or refused)', report.answer)}</tbody></table></div>`,
    });
  });

  app.get('/console/requests/report.csv', { config: { access: REQUEST_ROLES } }, async (req, reply) => {
    const { month, invalid } = monthOf(req, deps);
    const report = invalid ? undefined : await monthlyReport(deps, actor(req), month, 'exported');
    if (!report) return reply.code(400).type('text/plain; charset=utf-8').send('Choose a month written YYYY-MM.\n');
    const csv = toCsv(
      ['reference', 'type', 'jurisdiction', 'channel', 'status', 'received_at', 'acknowledged_at', 'answered_at', 'respond_by', 'respond_rule', 'outcome', 'acknowledgement_hours', 'answer_hours'],
      report.rows.map((r) => [
        r.request.reference,
        r.request.type,
        r.request.jurisdiction,
        r.request.channel,
        r.request.status,
        r.request.received_at,
        r.request.acknowledged_at,
        r.answeredAt,
        r.request.respond_by,
        r.request.respond_rule,
        r.outcome,
        r.ackMs === null ? null : Number((r.ackMs / 3_600_000).toFixed(2)),
        r.answerMs === null ? null : Number((r.answerMs / 3_600_000).toFixed(2)),
      ]),
    );
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="privacy-requests-${month}.csv"`)
      .header('cache-control', 'no-store')
      .send(csv);
  });
}
