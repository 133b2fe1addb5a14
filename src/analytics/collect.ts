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

// The drops are constants: collection runs for every page view and allocates as little as it can.
const OPTED_OUT: Drop = Object.freeze({ drop: 'opted_out' });
const PREFETCH: Drop = Object.freeze({ drop: 'prefetch' });
const BAD_PATH: Drop = Object.freeze({ drop: 'bad_path' });
const BOT_LIST: Drop = Object.freeze({ drop: 'bot', layer: 'user_agent_list' });
const BOT_HEADLESS: Drop = Object.freeze({ drop: 'bot', layer: 'headless' });
const BOT_RATE: Drop = Object.freeze({ drop: 'bot', layer: 'rate' });

/** GPC or DNT: nothing is counted, not even as a dropped bot. */
export function privacySignal(hit: Hit): Drop | undefined {
  return header(hit.headers, 'sec-gpc') === '1' || header(hit.headers, 'dnt') === '1' ? OPTED_OUT : undefined;
}

const SPECULATIVE = /prefetch|prerender/i;

/** Speculative loads (prefetch, prerender) are not views. */
export function prefetch(hit: Hit): Drop | undefined {
  const h = hit.headers;
  if (h['sec-purpose'] === undefined && h.purpose === undefined && h['x-moz'] === undefined) return undefined;
  const purpose = `${header(h, 'sec-purpose')} ${header(h, 'purpose')} ${header(h, 'x-moz')}`;
  return SPECULATIVE.test(purpose) ? PREFETCH : undefined;
}

const HEADLESS = /headless|phantomjs|puppeteer|playwright|selenium|webdriver|slimerjs|zombie\.js|jsdom|python|curl|wget|java\/|go-http|okhttp|axios|node-fetch|undici/i;
const HEADLESS_HINT = /headless/i;

/** Layer 2, headless and scripted clients, as far as the request headers tell: client hints naming a headless browser, or no Accept-Language (every browser sends it). Its user-agent part is in traitsOf. */
function headlessHeaders(hit: Hit): Drop | undefined {
  const hint = hit.headers['sec-ch-ua'];
  if (hint !== undefined && HEADLESS_HINT.test(header(hit.headers, 'sec-ch-ua'))) return BOT_HEADLESS;
  if (header(hit.headers, 'accept-language') === '') return BOT_HEADLESS;
  return undefined;
}

interface UserAgentTraits {
  /** The user agent's own verdict: layer 1, isbot's maintained list; then layer 2's signs in the UA (none, not a browser's, or a headless or scripted client named). */
  bot: Drop | undefined;
  tablet: boolean;
  mobile: boolean;
}

const TABLET = /iPad|Tablet|Kindle|Silk/;
const ANDROID = /Android/;
const MOBILE_WORD = /Mobile/;
const MOBILE = /Mobi|iPhone|iPod|Android/;
const MOZILLA = /^Mozilla\/5\.0 /;

function traitsOf(ua: string): UserAgentTraits {
  let bot: Drop | undefined;
  if (ua !== '' && isbot(ua)) bot = BOT_LIST;
  else if (ua === '' || !MOZILLA.test(ua) || HEADLESS.test(ua)) bot = BOT_HEADLESS;
  return { bot, tablet: TABLET.test(ua) || (ANDROID.test(ua) && !MOBILE_WORD.test(ua)), mobile: MOBILE.test(ua) };
}

// isbot's list is one large regular expression (about 6 µs a test), and most views come
// from a few hundred browser versions: the verdicts are kept per user agent. Bounded, two
// generations of at most USER_AGENT_CACHE each (the older one is dropped when the newer one
// fills), only in memory, emptied at the day's rotation; very long agents are not kept.
const USER_AGENT_CACHE = 500;
const MAX_CACHED_AGENT = 512;
let recentAgents = new Map<string, UserAgentTraits>();
let olderAgents = new Map<string, UserAgentTraits>();

function userAgentTraits(ua: string): UserAgentTraits {
  let traits = recentAgents.get(ua);
  if (traits !== undefined) return traits;
  traits = olderAgents.get(ua) ?? traitsOf(ua);
  if (ua.length <= MAX_CACHED_AGENT) {
    if (recentAgents.size >= USER_AGENT_CACHE) {
      olderAgents = recentAgents;
      recentAgents = new Map();
    }
    recentAgents.set(ua, traits);
  }
  return traits;
}

/** Forgets the user agents seen (called at the day's rotation). */
export function forgetUserAgents(): void {
  recentAgents = new Map();
  olderAgents = new Map();
}

const MAX_PATH = 512;
// A path URL parsing would leave as it is: no percent sign, backslash, space, control or
// non-ASCII character, and no "." or ".." segment. Others go through URL.
const PLAIN_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

/** The path without fragment and without query parameters other than the allowed ones; undefined if it is no path. */
export function normalisePath(raw: string, allowed: readonly string[]): string | undefined {
  if (typeof raw !== 'string' || !raw.startsWith('/') || raw.startsWith('//') || raw.length > 2048) return undefined;
  const hash = raw.indexOf('#');
  const whole = hash < 0 ? raw : raw.slice(0, hash);
  const mark = whole.indexOf('?');
  let pathname = mark < 0 ? whole : whole.slice(0, mark);
  let params: URLSearchParams | undefined;
  if (PLAIN_PATH.test(pathname) && !DOT_SEGMENT.test(pathname)) {
    if (mark >= 0) params = new URLSearchParams(whole.slice(mark + 1));
  } else {
    let url: URL;
    try {
      url = new URL(raw, 'http://x');
    } catch {
      return undefined;
    }
    pathname = url.pathname;
    params = url.search ? url.searchParams : undefined;
  }
  let path = pathname;
  if (params !== undefined) {
    const kept = new URLSearchParams();
    for (const name of allowed) {
      const value = params.get(name);
      if (value) kept.set(name, value.slice(0, 100));
    }
    const query = kept.toString();
    if (query) path = `${pathname}?${query}`;
  }
  return path.length <= MAX_PATH ? path : undefined;
}

export type Source = 'direct' | 'search' | 'social' | 'other';

const DIRECT: { source: Source; host: string } = Object.freeze({ source: 'direct', host: '' });
// An http(s) URL whose host URL parsing would only lower-case: letters, digits and hyphens
// in dot-separated labels ending in a letter label (not an IPv4 form), no "xn--" label to
// check, no port or user name. Others go through URL.
const PLAIN_REFERRER = /^https?:\/\/((?:[A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*)(?:[/?#]|$)/;
const PUNYCODE = /(?:^|\.)xn--/i;

/** The referrer reduced to its host and grouped; our own pages and none at all are "direct". */
export function referrerSource(referrer: string, ownHosts: ReadonlySet<string>): { source: Source; host: string } {
  if (!referrer) return DIRECT;
  let host: string;
  const plain = PLAIN_REFERRER.exec(referrer);
  if (plain !== null && !PUNYCODE.test(plain[1])) {
    host = plain[1].toLowerCase();
  } else {
    try {
      const url = new URL(referrer);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return DIRECT;
      host = url.host.toLowerCase();
    } catch {
      return DIRECT;
    }
  }
  if (ownHosts.has(host)) return DIRECT;
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
  const ua = userAgentTraits(hit.userAgent);
  if (ua.tablet) return 'tablet';
  if (ua.mobile || header(hit.headers, 'sec-ch-ua-mobile') === '?1') return 'mobile';
  return 'desktop';
}

export function visitorKey(secret: Buffer | KeyObject, hit: Pick<Hit, 'ip' | 'userAgent' | 'site'>): string {
  // NUL separators: no value can run into the next one.
  return createHmac('sha256', secret).update(`${hit.ip}\0${hit.userAgent}\0${hit.site}`).digest('base64url').slice(0, 22);
}

// The hour's text is worked out once per hour, not per view.
let hourStart = 0;
let hourEnd = 0;
let hourText = '';
export const hourOf = (at: Date): string => {
  const t = at.getTime();
  if (t >= hourStart && t < hourEnd) return hourText;
  const text = at.toISOString().slice(0, 13);
  hourStart = t - (((t % 3600_000) + 3600_000) % 3600_000);
  hourEnd = hourStart + 3600_000;
  hourText = text;
  return text;
};

/**
 * Runs the steps in order (cheap ones first; the per-key rate last, as it needs the key),
 * with the day's secret as an HMAC key. Synchronous: the ingest answers before it and
 * nothing here waits. Returns the row to store, or why the view was dropped.
 */
export function collect(ctx: CollectContext, hit: Hit, secret: Buffer | KeyObject): { row: AnalyticsEventTable } | Drop {
  const early = privacySignal(hit) ?? prefetch(hit) ?? userAgentTraits(hit.userAgent).bot ?? headlessHeaders(hit);
  if (early) return early;
  const path = normalisePath(hit.path, ctx.allowedParameters);
  if (path === undefined) return BAD_PATH;
  const { source, host } = referrerSource(hit.referrer, ctx.ownHosts);
  const campaign = path.includes('utm_campaign=') ? (new URLSearchParams(path.slice(path.indexOf('?'))).get('utm_campaign') ?? '') : '';
  const visitor = visitorKey(secret, hit);
  if (ctx.overRate(visitor, hit.at)) return BOT_RATE;
  return {
    row: { hour: hourOf(hit.at), path, source, referrer_host: host, campaign, device: deviceClass(hit), country: ctx.country(hit.ip), visitor },
  };
}
