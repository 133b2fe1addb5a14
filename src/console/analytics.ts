// Site analytics in the console, for every staff role: the dashboard as HTML and SVG, and
// the same numbers as CSV and JSON, all under the policy's small-count rule.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import { ROLES } from '../auth/roles.ts';
import { csvRows, parseDashboardQuery, publicNumbers, readDashboard } from '../analytics/dashboard.ts';
import { dashboardBody } from '../analytics/views.ts';
import { toCsv } from '../http/csv.ts';
import { html } from '../http/html.ts';
import { AppError } from '../http/errors.ts';
import { consolePage } from './layout.ts';

export async function analyticsConsoleRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const read = async (req: FastifyRequest, strict: boolean) => {
    const { query, errors } = parseDashboardQuery(req.query as Record<string, unknown>, deps.now());
    if (strict && errors.length) throw new AppError('bad_request', errors.join(' '));
    return { dashboard: await readDashboard(deps, query), errors };
  };

  app.get('/console/analytics', { config: { access: ROLES } }, async (req, reply) => {
    const { dashboard: d, errors } = await read(req, false);
    const q = new URLSearchParams({ from: d.query.from, to: d.query.to, compare: d.query.compare }).toString();
    return consolePage(deps, req, reply, {
      title: errors.length ? 'Error: Site analytics' : 'Site analytics',
      status: errors.length ? 400 : 200,
      body: html`<h1>Site analytics</h1>
<p class="lead">Page views and where they came from, counted without cookies and without any identifier that outlives the day. ${d.query.from} to ${d.query.to} (UTC)${d.previous ? html`, compared with ${d.previous.from} to ${d.previous.to}` : ''}.</p>
${errors.length ? html`<div class="error-summary" role="alert"><ul>${errors.map((e) => html`<li>${e}</li>`)}</ul></div>` : ''}
<form class="filters" method="get" action="/console/analytics">
<div class="field"><label for="from">From</label><input type="date" id="from" name="from" value="${d.query.from}"></div>
<div class="field"><label for="to">To</label><input type="date" id="to" name="to" value="${d.query.to}"></div>
<div class="field"><label for="compare">Compare with</label><select id="compare" name="compare">
<option value="previous"${d.query.compare === 'previous' ? html` selected` : ''}>The previous period of the same length</option>
<option value="none"${d.query.compare === 'none' ? html` selected` : ''}>Nothing</option>
</select></div>
<button type="submit" class="primary">Show</button>
</form>
${dashboardBody(d, { bots: true })}
<p>Export these numbers: <a href="/console/analytics.csv?${q}">CSV</a> · <a href="/console/analytics.json?${q}">JSON</a></p>`,
    });
  });

  app.get('/console/analytics.csv', { config: { access: ROLES } }, async (req, reply) => {
    const { dashboard: d } = await read(req, true);
    return reply
      .type('text/csv; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-disposition', `attachment; filename="analytics-${d.query.from}-${d.query.to}.csv"`)
      .send(toCsv(['section', 'key', 'label', 'visitors', 'pageviews'], csvRows(d)));
  });

  app.get('/console/analytics.json', { config: { access: ROLES } }, async (req, reply) => {
    const { dashboard: d } = await read(req, true);
    return reply.header('cache-control', 'no-store').send(publicNumbers(d));
  });
}
