// Collection as a list of named steps. Each step may drop the page view with a reason;
// bot reasons are counted by layer (shown on the dashboard), the others are not counted
// at all. What survives is a row of dimensions plus a visitor key: an HMAC-SHA256 of
// (daily secret, client address, user agent, site), cut to 128 bits. The address and the
// user agent are read here and nowhere kept.
import { createHmac, type KeyObject } from 'node:crypto';
import { isbot } from 'isbot';
import { parse as parseReferrer } from '@tryghost/referrer-parser';
import type { AnalyticsEventTable } from '../storage/types.ts';

export type BotLayer = 'user_agent_list' | 'headless' | 'rate';
export const BOT_LAYERS: ReadonlyArray<{ layer: BotLayer; label: string }> = [
  { layer: 'user_agent_list', label: 'Known bot user agent (isbot list)' },
  { layer: 'headless', label: 'Headless browser or missing browser headers' },
  { layer: 'rate', label: 'Too many page views from one visitor key' },
];

export type Drop =
  | { drop: 'bot'; layer: BotLayer }
  | { drop: 'opted_out' | 'prefetch' | 'bad_path' | 'foreign_host' };

/** A page view as it arrives: from the HTML request itself, or from the tracker. */
export interface Hit {
  kind: 'load' | 'navigation';
  at: Date;
  ip: string;
  userAgent: string;
  /** Request headers (lower-case names) that carry signals: GPC, DNT, prefetch, language, client hints. */
  headers: Record<string, string | string[] | undefined>;
  /** Path with query, as requested (load) or as reported by the tracker (navigation). */
  path: string;
  /** The page the visitor came from, if any. */
  referrer: string;
  /** The tracker's width class s | m | l (navigation only). */
  width?: string;
  /** The site the visit is for: our host. */
  site: string;
}

export interface CollectContext {
  /** The day's secret (as an HMAC key). */
  secret(at: Date): Buffer | KeyObject | Promise<Buffer | KeyObject>;
  country(ip: string): string;
  /** Counts one view for a visitor key; true when the key is over its per-minute budget. */
  overRate(visitor: string, at: Date): boolean;
  allowedParameters: readonly string[];
  /** Our own hosts: a referrer from one of them is not a source. */
  ownHosts: ReadonlySet<string>;
}

const header = (h: Hit['headers'], name: string): string => {
  const v = h[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
};

/** GPC or DNT: nothing is counted, not even as a dropped bot. */
export function privacySignal(hit: Hit): Drop | undefined {
  return header(hit.headers, 'sec-gpc') === '1' || header(hit.headers, 'dnt') === '1' ? { drop: 'opted_out' } : undefined;
}

/** Speculative loads (prefetch, prerender) are not views. */
export function prefetch(hit: Hit): Drop | undefined {
  const purpose = `${header(hit.headers, 'sec-purpose')} ${header(hit.headers, 'purpose')} ${header(hit.headers, 'x-moz')}`;
  return /prefetch|prerender/i.test(purpose) ? { drop: 'prefetch' } : undefined;
}

/** Layer 1: a maintained list of bot user agents (isbot). */
export function botList(hit: Hit): Drop | undefined {
  return hit.userAgent !== '' && isbot(hit.userAgent) ? { drop: 'bot', layer: 'user_agent_list' } : undefined;
}

const HEADLESS = /headless|phantomjs|puppeteer|playwright|selenium|webdriver|slimerjs|zombie\.js|jsdom|python|curl|wget|java\/|go-http|okhttp|axios|node-fetch|undici/i;

/** Layer 2: headless and scripted clients: named in the UA or its client hints, or without the headers every browser sends. */
export function headless(hit: Hit): Drop | undefined {
  const bot: Drop = { drop: 'bot', layer: 'headless' };
  if (hit.userAgent === '' || !/^Mozilla\/5\.0 /.test(hit.userAgent)) return bot;
  if (HEADLESS.test(hit.userAgent) || /headless/i.test(header(hit.headers, 'sec-ch-ua'))) return bot;
  if (header(hit.headers, 'accept-language') === '') return bot;
  return undefined;
}

const MAX_PATH = 512;

/** The path without fragment and without query parameters other than the allowed ones; undefined if it is no path. */
export function normalisePath(raw: string, allowed: readonly string[]): string | undefined {
  if (typeof raw !== 'string' || !raw.startsWith('/') || raw.startsWith('//') || raw.length > 2048) return undefined;
  let url: URL;
  try {
    url = new URL(raw, 'http://x');
  } catch {
    return undefined;
  }
  const kept = new URLSearchParams();
  for (const name of allowed) {
    const value = url.searchParams.get(name);
    if (value) kept.set(name, value.slice(0, 100));
  }
  const query = kept.toString();
  const path = url.pathname + (query ? `?${query}` : '');
  return path.length <= MAX_PATH ? path : undefined;
}

export type Source = 'direct' | 'search' | 'social' | 'other';

/** The referrer reduced to its host and grouped; our own pages and none at all are "direct". */
export function referrerSource(referrer: string, ownHosts: ReadonlySet<string>): { source: Source; host: string } {
  if (!referrer) return { source: 'direct', host: '' };
  let host: string;
  try {
    const url = new URL(referrer);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { source: 'direct', host: '' };
    host = url.host.toLowerCase();
  } catch {
    return { source: 'direct', host: '' };
  }
  if (ownHosts.has(host)) return { source: 'direct', host: '' };
  return { source: sourceOfHost(host), host: host.replace(/^www\./, '').slice(0, 253) };
}

// The referrer list's look-up sorts its whole table on every call (about 0.6 ms), so its
// answer is kept per host. Bounded: emptied when full, and it holds host names only.
const sourceByHost = new Map<string, Source>();
function sourceOfHost(host: string): Source {
  let source = sourceByHost.get(host);
  if (source === undefined) {
    const medium = parseReferrer(`https://${host}/`).referrerMedium;
    source = medium === 'search' ? 'search' : medium === 'social' ? 'social' : 'other';
    if (sourceByHost.size >= 10_000) sourceByHost.clear();
    sourceByHost.set(host, source);
  }
  return source;
}

/** mobile | tablet | desktop: from the tracker's width class, else from the user agent's own device token. */
export function deviceClass(hit: Hit): string {
  if (hit.width === 's') return 'mobile';
  if (hit.width === 'm') return 'tablet';
  if (hit.width === 'l') return 'desktop';
  if (/iPad|Tablet|Kindle|Silk/.test(hit.userAgent) || (/Android/.test(hit.userAgent) && !/Mobile/.test(hit.userAgent))) return 'tablet';
  if (header(hit.headers, 'sec-ch-ua-mobile') === '?1' || /Mobi|iPhone|iPod|Android/.test(hit.userAgent)) return 'mobile';
  return 'desktop';
}

export function visitorKey(secret: Buffer | KeyObject, hit: Pick<Hit, 'ip' | 'userAgent' | 'site'>): string {
  // NUL separators: no value can run into the next one.
  return createHmac('sha256', secret).update(`${hit.ip}\0${hit.userAgent}\0${hit.site}`).digest('base64url').slice(0, 22);
}

export const hourOf = (at: Date): string => at.toISOString().slice(0, 13);

/**
 * Runs the steps in order (cheap ones first; the per-key rate last, as it needs the key).
 * Returns the row to store, or why the view was dropped.
 */
export async function collect(ctx: CollectContext, hit: Hit): Promise<{ row: AnalyticsEventTable } | Drop> {
  const early = privacySignal(hit) ?? prefetch(hit) ?? botList(hit) ?? headless(hit);
  if (early) return early;
  const path = normalisePath(hit.path, ctx.allowedParameters);
  if (path === undefined) return { drop: 'bad_path' };
  const { source, host } = referrerSource(hit.referrer, ctx.ownHosts);
  const campaign = path.includes('utm_campaign=') ? (new URLSearchParams(path.slice(path.indexOf('?'))).get('utm_campaign') ?? '') : '';
  const secret = await ctx.secret(hit.at);
  const visitor = visitorKey(secret, hit);
  if (ctx.overRate(visitor, hit.at)) return { drop: 'bot', layer: 'rate' };
  return {
    row: { hour: hourOf(hit.at), path, source, referrer_host: host, campaign, device: deviceClass(hit), country: ctx.country(hit.ip), visitor },
  };
}
