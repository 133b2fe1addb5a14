// HTML and SVG for the dashboard (console) and the public summary, rendered on the server
// and readable without JavaScript. Every count goes through shownCount.
import { html, type SafeHtml } from '../http/html.ts';
import { shownCount, type Dashboard, type Headline, type Row } from './dashboard.ts';

const fmt = (n: number | string) => (typeof n === 'number' ? n.toLocaleString('en-GB') : n);

function change(now: number, before: number | undefined | null, threshold: number): string {
  if (before === undefined || before === null) return '';
  if (now < threshold || before < threshold) return 'not compared (small counts)';
  if (before === 0) return 'new';
  const pct = Math.round(((now - before) / before) * 100);
  return `${pct > 0 ? '+' : ''}${pct}% on the previous period`;
}

export function headlineCards(d: Dashboard): SafeHtml {
  const c = (n: number) => fmt(shownCount(n, d.threshold));
  const p = d.previous;
  const rate = (h: Headline | undefined, key: 'viewsPerVisit' | 'bounceRate') => {
    const v = h?.[key];
    return v === null || v === undefined ? `not shown (fewer than ${d.threshold} visits)` : key === 'bounceRate' ? `${v}%` : String(v);
  };
  const card = (label: string, value: string, note: string) => html`<div class="stat"><dt>${label}</dt><dd><span class="stat-value">${value}</span>${note ? html` <span class="muted">${note}</span>` : ''}</dd></div>`;
  return html`<dl class="stats">
${card('Visitors', String(c(d.current.visitors)), change(d.current.visitors, p?.visitors, d.threshold))}
${card('Page views', String(c(d.current.pageviews)), change(d.current.pageviews, p?.pageviews, d.threshold))}
${card('Views per visit', rate(d.current, 'viewsPerVisit'), p ? `previous: ${rate(p, 'viewsPerVisit')}` : '')}
${card('Bounce rate', rate(d.current, 'bounceRate'), p ? `previous: ${rate(p, 'bounceRate')}` : '')}
</dl>`;
}

/** A bar chart of page views per bucket. Bars under the threshold are drawn empty and titled "fewer than N". */
export function timeChart(d: Dashboard): SafeHtml {
  const points = d.chart.points;
  const width = 720;
  const height = 200;
  const left = 48;
  const bottom = 24;
  const max = Math.max(d.threshold, ...points.map((p) => p.pageviews));
  const step = (width - left) / Math.max(points.length, 1);
  const barWidth = Math.max(1, step * 0.8);
  const y = (v: number) => height - bottom - ((height - bottom - 8) * v) / max;
  const everyLabel = Math.ceil(points.length / 8);
  const unitLabel = d.chart.unit === 'hour' ? 'hour (UTC)' : 'day (UTC)';
  return html`<figure class="chart">
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-title chart-desc" focusable="false">
<title id="chart-title">Page views per ${unitLabel}</title>
<desc id="chart-desc">From ${d.query.from} to ${d.query.to}; the same numbers are in the table below the chart.</desc>
<line x1="${left}" y1="${height - bottom}" x2="${width}" y2="${height - bottom}" stroke="#555" stroke-width="1"/>
<text x="${left - 6}" y="${y(max) + 4}" text-anchor="end" font-size="12" fill="#333">${fmt(max)}</text>
<text x="${left - 6}" y="${height - bottom + 4}" text-anchor="end" font-size="12" fill="#333">0</text>
${points.map((p, i) => {
  const small = p.pageviews > 0 && p.pageviews < d.threshold;
  const shown = small ? 0 : p.pageviews;
  const x = left + i * step + (step - barWidth) / 2;
  return html`<rect x="${x.toFixed(1)}" y="${y(shown).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(height - bottom - y(shown)).toFixed(1)}" fill="#1f5f99"><title>${p.bucket}: ${fmt(shownCount(p.pageviews, d.threshold))} page views</title></rect>${
    i % everyLabel === 0 ? html`<text x="${(x + barWidth / 2).toFixed(1)}" y="${height - 6}" text-anchor="middle" font-size="11" fill="#333">${d.chart.unit === 'hour' ? p.bucket.slice(11, 13) + 'h' : p.bucket.slice(5)}</text>` : ''
  }`;
})}
</svg>
<figcaption class="muted">Page views per ${unitLabel}. Counts below ${d.threshold} are drawn as empty bars.</figcaption>
</figure>
<details><summary>The chart as a table</summary>
<div class="table-wrap"><table class="data-table"><caption>Visitors and page views per ${unitLabel}</caption>
<thead><tr><th scope="col">${d.chart.unit === 'hour' ? 'Hour' : 'Day'}</th><th scope="col">Visitors</th><th scope="col">Page views</th></tr></thead>
<tbody>${points.map((p) => html`<tr><th scope="row">${p.bucket}</th><td>${fmt(shownCount(p.visitors, d.threshold))}</td><td>${fmt(shownCount(p.pageviews, d.threshold))}</td></tr>`)}</tbody></table></div>
</details>`;
}

export function breakdownTable(caption: string, keyHeading: string, rows: Row[], threshold: number, code = false): SafeHtml {
  return html`<div class="table-wrap"><table class="data-table"><caption>${caption}</caption>
<thead><tr><th scope="col">${keyHeading}</th><th scope="col">Visitors</th><th scope="col">Page views</th></tr></thead>
<tbody>${rows.length === 0 ? html`<tr><td colspan="3">None in this period.</td></tr>` : ''}${rows.map(
    (r) => html`<tr><th scope="row">${code ? html`<code>${r.label}</code>` : r.label}</th><td>${fmt(shownCount(r.visitors, threshold))}</td><td>${fmt(shownCount(r.pageviews, threshold))}</td></tr>`,
  )}</tbody></table></div>`;
}

export function botTable(d: Dashboard): SafeHtml {
  return html`<div class="table-wrap"><table class="data-table"><caption>Bot page views dropped, by layer</caption>
<thead><tr><th scope="col">Layer</th><th scope="col">Dropped</th></tr></thead>
<tbody>${d.bots.map((b) => html`<tr><th scope="row">${b.label}</th><td>${fmt(shownCount(b.dropped, d.threshold))}</td></tr>`)}</tbody></table></div>`;
}

/** Everything but the range form: shared by the console page and the public summary. */
export function dashboardBody(d: Dashboard, options: { bots: boolean }): SafeHtml {
  return html`${headlineCards(d)}
${timeChart(d)}
<h2>Top pages</h2>
${breakdownTable('Pages by page views', 'Page', d.pages, d.threshold, true)}
<h2>Where visitors came from</h2>
${breakdownTable('Sources', 'Source', d.sources, d.threshold)}
${breakdownTable('Referring sites', 'Site', d.referrers, d.threshold)}
${breakdownTable('Campaigns (utm_campaign)', 'Campaign', d.campaigns, d.threshold)}
<h2>Devices and countries</h2>
${breakdownTable('Device classes', 'Device', d.devices, d.threshold)}
${breakdownTable('Countries', 'Country', d.countries, d.threshold)}
${options.bots ? html`<h2>Bots</h2>${botTable(d)}` : ''}
<p class="muted">Counts below ${d.threshold} are shown as "fewer than ${d.threshold}" so that a rare page or referrer cannot single anyone out. Visitors are counted per hour (UTC): someone who comes back in another hour counts again, because no identifier is kept longer than that.</p>`;
}
