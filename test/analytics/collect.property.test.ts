// The collection steps' shortcuts against what they stand for: the plain-path and
// plain-referrer fast paths give what URL parsing gives, for any input, and the per-agent
// verdict cache gives what the checks give on their own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { collect, deviceClass, normalisePath, referrerSource, type CollectContext, type Hit } from '../../src/analytics/collect.ts';
import { CHROME_UA, IPHONE_UA } from './helpers.ts';

const ALLOWED = ['utm_source', 'utm_medium', 'utm_campaign'];

/** The definition: everything through URL. */
function pathByUrl(raw: string, allowed: readonly string[]): string | undefined {
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.length > 2048) return undefined;
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
  return path.length <= 512 ? path : undefined;
}

function hostByUrl(referrer: string): string | undefined {
  try {
    const url = new URL(referrer);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.host.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

const pieces = fc.constantFrom('/', '.', '..', '?', '#', '&', '=', '%', '%2e', '%zz', '\\', ' ', '\t', 'a', 'Z', '9', '-', '_', '~', '+', ';', ':', '@', "'", '"', '<', '`', '{', '^', '|', 'é', '\u{1F600}', '\ud800', 'utm_source', 'utm_campaign', 'gclid');
const pathLike = fc.array(pieces, { maxLength: 20 }).map((a) => `/${a.join('')}`);

test('normalisePath: the fast path agrees with URL parsing on any path', () => {
  fc.assert(
    fc.property(fc.oneof(pathLike, fc.webPath().map((p) => `/${p}`), fc.string().map((s) => `/${s}`), fc.webQueryParameters().map((q) => `/p?${q}`)), (raw) => {
      assert.equal(normalisePath(raw, ALLOWED), pathByUrl(raw, ALLOWED));
    }),
    { numRuns: 5000 },
  );
});

test('referrerSource: the fast path agrees with URL parsing on any referrer', () => {
  const hostPieces = fc.constantFrom('a', 'B', 'x', '1', '0x', '-', '.', 'xn--', 'xn--bcher-kva', ':8080', ':443', '@', 'www.', '..', '%41', '[::1]', 'é');
  const referrer = fc.oneof(
    fc.webUrl(),
    fc.tuple(fc.constantFrom('http://', 'https://', 'HTTPS://', 'ftp://', 'javascript:', ''), fc.array(hostPieces, { maxLength: 8 }), fc.constantFrom('', '/', '/x?y#z', '?q', '#f')).map(([s, h, rest]) => `${s}${h.join('')}${rest}`),
    fc.string(),
  );
  fc.assert(
    fc.property(referrer, (r) => {
      const { source, host } = referrerSource(r, new Set(['own.example']));
      const expected = hostByUrl(r);
      if (!r || expected === undefined || expected === 'own.example') assert.deepEqual({ source, host }, { source: 'direct', host: '' });
      else assert.equal(host, expected.replace(/^www\./, '').slice(0, 253));
    }),
    { numRuns: 5000 },
  );
});

test('the verdict kept per user agent is the verdict of the checks, whatever came before', () => {
  const ctx: CollectContext = { country: () => '', overRate: () => false, allowedParameters: ALLOWED, ownHosts: new Set() };
  const agents = [CHROME_UA, IPHONE_UA, 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'curl/8.5.0', `${CHROME_UA} puppeteer`, '', 'Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 Chrome/131.0 Safari/537.36'];
  const expected = ['row:desktop', 'row:mobile', 'bot:user_agent_list', 'bot:user_agent_list', 'bot:headless', 'bot:headless', 'row:tablet'];
  const hit = (ua: string): Hit => ({ kind: 'load', at: new Date(), ip: '192.0.2.1', userAgent: ua, headers: { 'accept-language': 'en' }, path: '/', referrer: '', site: 'own.example' });
  const outcome = (ua: string) => {
    const r = collect(ctx, hit(ua), Buffer.alloc(32, 1));
    return 'row' in r ? `row:${r.row.device}` : `${r.drop}:${'layer' in r ? r.layer : ''}`;
  };
  // Many agents in a random order: far more than the cache holds, so entries come and go.
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.nat(agents.length - 1), fc.integer({ min: 1000, max: 3000 })), { minLength: 1, maxLength: 400 }), (picks) => {
      for (const i of picks) {
        if (i < agents.length) assert.equal(outcome(agents[i]), expected[i], agents[i]);
        else assert.equal(outcome(`${CHROME_UA} Build/${i}`), 'row:desktop');
      }
    }),
    { numRuns: 30 },
  );
  // Client hints still count per request, whatever the agent's cached verdict.
  assert.equal(deviceClass({ ...hit(CHROME_UA), headers: { 'sec-ch-ua-mobile': '?1' } }), 'mobile');
  const headlessHint = collect(ctx, { ...hit(CHROME_UA), headers: { 'accept-language': 'en', 'sec-ch-ua': '"HeadlessChrome";v="131"' } }, Buffer.alloc(32, 1));
  assert.deepEqual(headlessHint, { drop: 'bot', layer: 'headless' });
});
