// The dashboard's numbers, for the console page, its CSV and JSON exports and the public
// summary: one read, one small-count rule. Aggregates hold no personal data (no key, no
// address, counts only), so reading them is not an audited access to personal data.
//
// Visitors are counted per hour: the rollup counts distinct visitor keys within each UTC
// hour and then deletes the keys, so someone who comes back in another hour counts again.
// A visit is likewise one visitor's page views within one hour; a bounce, a visit of one view.
import { DateTime } from 'luxon';
import type { Deps } from '../deps.ts';
import { countryOptions } from '../inquiries/countries.ts';
import { BOT_LAYERS } from './collect.ts';
import { botCounts, breakdowns, series, totals, type Breakdown, type Totals } from './store.ts';

export interface DashboardQuery {
  /** UTC days, inclusive. */
  from: string;
  to: string;
  compare: 'previous' | 'none';
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MAX_DAYS = 366;

/** Reads from/to/compare from a query string; defaults to the last 7 days. Errors name the field. */
export function parseDashboardQuery(query: Record<string, unknown>, today: Date): { query: DashboardQuery; errors: string[] } {
  const text = (key: string) => {
    const v = query[key];
    const s = Array.isArray(v) ? v[0] : v;
    return typeof s === 'string' ? s.trim() : '';
  };
  const errors: string[] = [];
  const end = DateTime.fromJSDate(today, { zone: 'utc' }).startOf('day');
  let from: DateTime = end.minus({ days: 6 });
  let to: DateTime = end;
  const day = (key: 'from' | 'to', label: string): DateTime | undefined => {
    const value = text(key);
    if (!value) return undefined;
    const parsed = DAY.test(value) ? DateTime.fromISO(value, { zone: 'utc' }) : undefined;
    if (!parsed?.isValid) {
      errors.push(`${label} must be a date written YYYY-MM-DD.`);
      return undefined;
    }
    return parsed;
  };
  const givenFrom = day('from', 'From');
  const givenTo = day('to', 'To');
  if (givenTo) to = givenTo;
  if (givenFrom) from = givenFrom;
  else if (givenTo) from = to.minus({ days: 6 });
  if (from > to) {
    errors.push('From must not be after To.');
    from = to;
  }
  if (to.diff(from, 'days').days >= MAX_DAYS) {
    errors.push(`A range is at most ${MAX_DAYS} days.`);
    from = to.minus({ days: MAX_DAYS - 1 });
  }
  const compareText = text('compare');
  if (compareText && compareText !== 'previous' && compareText !== 'none') errors.push('Compare must be "previous" or "none".');
  return { query: { from: from.toISODate()!, to: to.toISODate()!, compare: compareText === 'none' ? 'none' : 'previous' }, errors };
}

export interface Headline {
  visitors: number;
  pageviews: number;
  /** Null when there are fewer visits than the threshold (a rate of a handful singles people out). */
  viewsPerVisit: number | null;
  bounceRate: number | null;
}

export interface Row {
  key: string;
  label: string;
  visitors: number;
  pageviews: number;
}

export interface Dashboard {
  query: DashboardQuery;
  threshold: number;
  current: Headline;
  previous?: Headline & { from: string; to: string };
  /** Per day, or per hour for a range of one or two days. */
  chart: { unit: 'day' | 'hour'; points: Array<{ bucket: string; visitors: number; pageviews: number }> };
  pages: Row[];
  sources: Row[];
  referrers: Row[];
  campaigns: Row[];
  devices: Row[];
  countries: Row[];
  bots: Array<{ layer: string; label: string; dropped: number }>;
}

const hourBounds = (from: string, to: string) => ({
  start: `${from}T00`,
  end: `${DateTime.fromISO(to, { zone: 'utc' }).plus({ days: 1 }).toISODate()}T00`,
});

function headline(t: Totals, threshold: number): Headline {
  const enough = t.visits >= threshold;
  return {
    visitors: t.visits,
    pageviews: t.pageviews,
    viewsPerVisit: enough ? Math.round((t.pageviews / t.visits) * 100) / 100 : null,
    bounceRate: enough ? Math.round((t.bounces / t.visits) * 1000) / 10 : null,
  };
}

const SOURCE_LABELS: Record<string, string> = { direct: 'Direct (no referrer)', search: 'Search engines', social: 'Social networks', other: 'Other sites' };
const DEVICE_LABELS: Record<string, string> = { mobile: 'Mobile', tablet: 'Tablet', desktop: 'Desktop' };
const countryNames = new Map(countryOptions.map((c) => [c.code, c.name]));

function label(dimension: Breakdown, key: string): string {
  if (dimension === 'source') return SOURCE_LABELS[key] ?? key;
  if (dimension === 'device') return DEVICE_LABELS[key] ?? key;
  if (dimension === 'country') return key === '' ? 'Unknown' : (countryNames.get(key) ?? key);
  return key;
}

export async function readDashboard(deps: Pick<Deps, 'storage' | 'policy'>, query: DashboardQuery, limit = 10): Promise<Dashboard> {
  const db = deps.storage.db;
  const threshold = deps.policy.policy.analytics.small_count_threshold;
  const { start, end } = hourBounds(query.from, query.to);
  const days = DateTime.fromISO(query.to).diff(DateTime.fromISO(query.from), 'days').days + 1;
  const unit = days <= 2 ? 'hour' : 'day';
  const [now, points, tables, bots] = await Promise.all([
    totals(db, start, end),
    series(db, start, end, unit === 'hour' ? 13 : 10),
    breakdowns(db, query.from, query.to, { path: limit, source: 4, referrer_host: limit, campaign: limit, device: 3, country: limit }),
    botCounts(db, start, end),
  ]);
  const rows = (dimension: Breakdown): Row[] => tables[dimension].map((r) => ({ ...r, label: label(dimension, r.key) }));
  const [pages, sources, referrers, campaigns, devices, countries] = [rows('path'), rows('source'), rows('referrer_host'), rows('campaign'), rows('device'), rows('country')];
  let previous: Dashboard['previous'];
  if (query.compare === 'previous') {
    const to = DateTime.fromISO(query.from, { zone: 'utc' }).minus({ days: 1 });
    const from = to.minus({ days: days - 1 });
    const bounds = hourBounds(from.toISODate()!, to.toISODate()!);
    previous = { ...headline(await totals(db, bounds.start, bounds.end), threshold), from: from.toISODate()!, to: to.toISODate()! };
  }
  // Every bucket of the range, so the chart shows empty days as empty.
  const byBucket = new Map(points.map((p) => [p.bucket, p]));
  const filled: Dashboard['chart']['points'] = [];
  for (let t = DateTime.fromISO(start, { zone: 'utc' }); t < DateTime.fromISO(end, { zone: 'utc' }); t = t.plus(unit === 'hour' ? { hours: 1 } : { days: 1 })) {
    const bucket = unit === 'hour' ? t.toISO()!.slice(0, 13) : t.toISODate()!;
    const p = byBucket.get(bucket);
    filled.push({ bucket, visitors: p?.visits ?? 0, pageviews: p?.pageviews ?? 0 });
  }
  return {
    query,
    threshold,
    current: headline(now, threshold),
    previous,
    chart: { unit, points: filled },
    pages,
    sources,
    referrers,
    campaigns,
    devices,
    countries,
    bots: BOT_LAYERS.map((l) => ({ layer: l.layer, label: l.label, dropped: bots.find((b) => b.layer === l.layer)?.dropped ?? 0 })),
  };
}

/** The small-count rule: a count below the threshold is shown as "fewer than N", never as itself. */
export function shownCount(n: number, threshold: number): number | string {
  return n > 0 && n < threshold ? `fewer than ${threshold}` : n;
}

/** The whole dashboard with every count put through shownCount: what the JSON API returns. */
export function publicNumbers(d: Dashboard): unknown {
  const c = (n: number) => shownCount(n, d.threshold);
  const rowsOf = (rows: Row[]) => rows.map((r) => ({ key: r.key, label: r.label, visitors: c(r.visitors), pageviews: c(r.pageviews) }));
  const head = (h: Headline) => ({ visitors: c(h.visitors), pageviews: c(h.pageviews), views_per_visit: h.viewsPerVisit, bounce_rate_percent: h.bounceRate });
  return {
    from: d.query.from,
    to: d.query.to,
    small_count_threshold: d.threshold,
    visitors_note: 'visitors are counted per UTC hour',
    current: head(d.current),
    previous: d.previous ? { from: d.previous.from, to: d.previous.to, ...head(d.previous) } : null,
    chart: { unit: d.chart.unit, points: d.chart.points.map((p) => ({ bucket: p.bucket, visitors: c(p.visitors), pageviews: c(p.pageviews) })) },
    pages: rowsOf(d.pages),
    sources: rowsOf(d.sources),
    referrer_hosts: rowsOf(d.referrers),
    campaigns: rowsOf(d.campaigns),
    devices: rowsOf(d.devices),
    countries: rowsOf(d.countries),
    bots: d.bots.map((b) => ({ layer: b.layer, label: b.label, dropped: c(b.dropped) })),
  };
}

/** CSV rows (section, key, label, visitors, page views), under the same rule. */
export function csvRows(d: Dashboard): Array<Array<string | number>> {
  const c = (n: number) => shownCount(n, d.threshold);
  const out: Array<Array<string | number>> = [
    ['total', 'visitors', 'Visitors', c(d.current.visitors), ''],
    ['total', 'pageviews', 'Page views', '', c(d.current.pageviews)],
    ['total', 'views_per_visit', 'Views per visit', d.current.viewsPerVisit ?? `fewer than ${d.threshold} visits`, ''],
    ['total', 'bounce_rate_percent', 'Bounce rate (%)', d.current.bounceRate ?? `fewer than ${d.threshold} visits`, ''],
  ];
  for (const p of d.chart.points) out.push([d.chart.unit, p.bucket, p.bucket, c(p.visitors), c(p.pageviews)]);
  const sections: Array<[string, Row[]]> = [['page', d.pages], ['source', d.sources], ['referrer_host', d.referrers], ['campaign', d.campaigns], ['device', d.devices], ['country', d.countries]];
  for (const [name, rows] of sections) for (const r of rows) out.push([name, r.key, r.label, c(r.visitors), c(r.pageviews)]);
  for (const b of d.bots) out.push(['bots_dropped', b.layer, b.label, '', c(b.dropped)]);
  return out;
}
