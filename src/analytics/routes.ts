// Analytics at the HTTP edge. How a page view is counted exactly once:
//   - a full page load is counted by the server, from the HTML request itself (an
//     onResponse hook on every public HTML page answered 200), so visitors without
//     JavaScript count too;
//   - the tracker (/static/t.js) reports only history-API navigations (pushState,
//     popstate), which never reach the server as HTML requests, to POST /api/event.
// Both go through the same collection steps (collect.ts). The ingest answers 202 before
// anything is written (event-buffer.ts) and never a 500.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { KeyObject } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Deps } from '../deps.ts';
import { AppError } from '../http/errors.ts';
import { collect, forgetUserAgents, hourOf, type CollectContext, type Hit } from './collect.ts';
import { AddressBudget } from './address-budget.ts';
import { DailySecret } from './daily-secret.ts';
import { EventBuffer } from './event-buffer.ts';
import { countryOf } from './geo.ts';
import { DateTime } from 'luxon';
import { html } from '../http/html.ts';
import { render } from '../http/render.ts';
import { parseDashboardQuery, readDashboard } from './dashboard.ts';
import { dashboardBody } from './views.ts';

const EVENT_BODY_LIMIT = 2048;
const MAX_TRACKED = 20_000;
const COUNTED_PATHS = /^\/(?!console(?:\/|$)|api\/|static\/|healthz$)/;

export interface Analytics {
  secret: DailySecret;
  buffer: EventBuffer;
  /** Counts a hit through the steps and buffers it (or its bot layer); a promise only while the day's secret is being obtained. */
  record(hit: Hit): void | Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    analytics: Analytics;
  }
}

// The first five characters of a visitor key (base64url of an HMAC: 30 random bits) as
// an integer V8 keeps unboxed. Two visitors share a per-minute budget only when their
// keys agree on those bits: about one pair every five minutes at 20,000 new keys a
// minute, and it matters only if the two together pass the budget.
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const SIX_BITS = new Uint8Array(128);
for (let i = 0; i < BASE64URL.length; i++) SIX_BITS[BASE64URL.charCodeAt(i)] = i;
function keyFingerprint(visitor: string): number {
  let f = 0;
  for (let i = 0; i < 5; i++) f = (f << 6) | SIX_BITS[visitor.charCodeAt(i) & 127];
  return f;
}

/** Our origins and hosts: PUBLIC_URL's (read per call: tests learn the port after listen) and the policy's. */
function ownSite(deps: Deps): { origins: Set<string>; hosts: Set<string>; site: string } {
  const url = new URL(deps.config.publicUrl);
  const hosts = new Set<string>([url.host, ...deps.policy.policy.analytics.hosts]);
  const origins = new Set<string>([...hosts].map((h) => `${url.protocol}//${h}`));
  return { origins, hosts, site: url.host };
}

export async function registerAnalytics(app: FastifyInstance, deps: Deps): Promise<void> {
  const { config } = deps;
  const settings = deps.policy.policy.analytics;
  let redis: Redis | undefined;
  if (config.redisUrl) {
    const { Redis } = await import('ioredis');
    redis = new Redis(config.redisUrl, { connectTimeout: 1000, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
    redis.on('error', () => undefined); // reported once, by the secret's fallback below
    await redis.connect().catch(() => undefined);
  }
  const secret = new DailySecret(redis, (error) =>
    app.log.warn({ err: { code: (error as { code?: unknown }).code } }, 'analytics secret store (Redis) unavailable: this instance counts today under a secret of its own'),
  );
  const buffer = new EventBuffer(deps, config.analyticsFlushMs);

  // Views per visitor key in the current minute, in memory only; cleared every minute
  // and at rotation, so no key outlives its minute here. Held by keyFingerprint, a small
  // integer, rather than the key's string: a twentieth of the memory at MAX_TRACKED keys.
  let rateMinute = -1;
  let viewsByKey = new Map<number, number>();
  let cachedSite = { publicUrl: '', value: ownSite(deps) };
  const site = () => {
    if (cachedSite.publicUrl !== deps.config.publicUrl) cachedSite = { publicUrl: deps.config.publicUrl, value: ownSite(deps) };
    return cachedSite.value;
  };
  const ctx: CollectContext = {
    country: countryOf,
    overRate: (visitor, at) => {
      const minute = Math.floor(at.getTime() / 60_000);
      if (minute !== rateMinute) {
        rateMinute = minute;
        viewsByKey = new Map();
      }
      const key = keyFingerprint(visitor);
      const seen = viewsByKey.get(key);
      // Bounded: past MAX_TRACKED keys in one minute (a flood of new addresses, which a
      // per-key budget cannot stop anyway), new keys are not tracked until the next minute.
      if (seen === undefined && viewsByKey.size >= MAX_TRACKED) return false;
      const n = (seen ?? 0) + 1;
      viewsByKey.set(key, n);
      return n > config.analyticsMaxViewsPerMinute;
    },
    allowedParameters: settings.allowed_query_parameters,
    get ownHosts() {
      return site().hosts;
    },
  };
  const count = (hit: Hit, key: KeyObject) => {
    const result = collect(ctx, hit, key);
    if ('row' in result) buffer.add(result.row);
    else if (result.drop === 'bot') buffer.addBot(hourOf(hit.at), result.layer);
  };
  // Synchronous once the day's secret is held (every view but the day's first few).
  const record = (hit: Hit): void | Promise<void> => {
    const key = secret.hmacKey(hit.at);
    if (key instanceof Promise) return key.then((k) => count(hit, k));
    count(hit, key);
  };
  const rotation = setInterval(() => {
    void secret.rotateIfDue(deps.now()).then((rotated) => {
      if (rotated) {
        viewsByKey = new Map();
        forgetUserAgents();
      }
    });
  }, 60_000);
  rotation.unref();
  app.decorate('analytics', { secret, buffer, record });
  app.addHook('onClose', async () => {
    clearInterval(rotation);
    await buffer.close();
    await secret.rotateIfDue(new Date(8.64e15)); // destroys the secret held in memory
    redis?.disconnect();
  });

  // Full page loads: the HTML request itself is the page view.
  app.addHook('onResponse', (req, reply, done) => {
    if (req.method === 'GET' && reply.statusCode === 200 && COUNTED_PATHS.test(req.url)) {
      const type = reply.getHeader('content-type');
      const own = site();
      if (typeof type === 'string' && type.startsWith('text/html') && own.hosts.has(req.host)) {
        const referrer = req.headers.referer;
        countSafely(req, record, hitFrom(req, deps, own.site, 'load', req.url, typeof referrer === 'string' ? referrer : ''));
      }
    }
    done();
  });

  const budget = new AddressBudget(config.analyticsRateLimitMax);
  await app.register(async (scope) => {
    // sendBeacon posts text/plain; fetch with keepalive may say application/json.
    scope.addContentTypeParser(['text/plain', 'application/json'], { parseAs: 'string', bodyLimit: EVENT_BODY_LIMIT }, (_req, body, done) => done(null, body));
    scope.post(
      '/api/event',
      {
        bodyLimit: EVENT_BODY_LIMIT,
        // The per-address budget is `budget` (address-budget.ts), not @fastify/rate-limit: that
        // plugin's asynchronous hook (and, with REDIS_URL, a Redis round trip) cost more
        // than the rest of counting a view.
        config: { access: 'public' },
      },
      (req, reply) => ingest(req, reply, deps, site(), budget, record),
    );
  });

  // The public read-only summary, when the policy publishes it: the last 30 days, the
  // same numbers and small-count rule as the console, without the bot counts.
  app.get('/stats', { config: { access: 'public' } }, async (_req, reply) => {
    if (!deps.policy.policy.analytics.public_summary) throw new AppError('not_found', 'There is no page at this address.');
    const { query } = parseDashboardQuery({ from: DateTime.fromJSDate(deps.now(), { zone: 'utc' }).minus({ days: 29 }).toISODate() }, deps.now());
    const d = await readDashboard(deps, { ...query, compare: 'previous' });
    const orgName = deps.policy.policy.organisation.name;
    return render(reply, 200, {
      title: 'Site statistics',
      orgName,
      path: '/stats',
      description: `Visits to the ${orgName} website over the last 30 days, counted without cookies or identifiers.`,
      body: html`<h1>Site statistics</h1>
<p class="lead">Visits to this website from ${d.query.from} to ${d.query.to} (UTC), counted without cookies and without any identifier that could follow a visitor. Only totals are kept.</p>
${dashboardBody(d, { bots: false })}`,
    });
  });
}

/** `ip` is req.ip, passed in by a caller that read it already (behind a proxy, each read parses X-Forwarded-For again). */
function hitFrom(req: FastifyRequest, deps: Deps, siteHost: string, kind: Hit['kind'], path: string, referrer: string, width?: string, ip = req.ip): Hit {
  const ua = req.headers['user-agent'];
  return { kind, at: deps.now(), ip, userAgent: typeof ua === 'string' ? ua : '', headers: req.headers, path, referrer, width, site: siteHost };
}

let lastFailureLog = 0;
function logFailure(req: FastifyRequest, error: unknown): void {
  // At most once a minute (Redis away would fail every view), and never the hit itself:
  // it holds an address and a user agent.
  if (Date.now() - lastFailureLog < 60_000) return;
  lastFailureLog = Date.now();
  req.log.warn({ err: { code: (error as { code?: unknown }).code, message: error instanceof Error ? error.message : 'unknown' } }, 'analytics view not counted');
}

/** Counting is best effort: a failure is logged (rate-limited) and never reaches the visitor. */
function countSafely(req: FastifyRequest, record: Analytics['record'], hit: Hit): void {
  try {
    const pending = record(hit);
    if (pending) pending.catch((error: unknown) => logFailure(req, error));
  } catch (error) {
    logFailure(req, error);
  }
}

// Synchronous (a handler that returns nothing, having sent): the checks that decide the
// status come first, then the 202 is sent and the view counted in the same turn.
function ingest(req: FastifyRequest, reply: FastifyReply, deps: Deps, own: ReturnType<typeof ownSite>, budget: AddressBudget, record: Analytics['record']): void {
  const ip = req.ip;
  const wait = budget.take(ip, Date.now());
  if (wait > 0) {
    throw Object.assign(new AppError('rate_limited', `Too many requests. Please wait ${wait} seconds and try again.`), { retryAfter: wait });
  }
  // Only our own pages may report: a browser always sends Origin on a POST.
  const origin = req.headers.origin;
  const fetchSite = req.headers['sec-fetch-site'];
  if (typeof origin !== 'string' || !own.origins.has(origin) || (typeof fetchSite === 'string' && fetchSite !== 'same-origin')) {
    throw new AppError('forbidden', 'Page views are accepted from this site’s own pages only.');
  }
  let event: unknown;
  try {
    event = JSON.parse(typeof req.body === 'string' ? req.body : '');
  } catch {
    throw new AppError('bad_request', 'The page view must be a JSON object.');
  }
  const e = event as { p?: unknown; r?: unknown; w?: unknown } | null;
  if (!e || typeof e !== 'object' || typeof e.p !== 'string' || !e.p.startsWith('/') || (e.r !== undefined && typeof e.r !== 'string') || (e.w !== undefined && e.w !== 's' && e.w !== 'm' && e.w !== 'l')) {
    throw new AppError('bad_request', 'The page view needs p (a path starting with /), and may have r (the referrer) and w (s, m or l).');
  }
  reply.code(202).header('cache-control', 'no-store').send();
  countSafely(req, record, hitFrom(req, deps, own.site, 'navigation', e.p, (e.r as string | undefined) ?? '', e.w as string | undefined, ip));
}
