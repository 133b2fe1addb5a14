// Analytics benchmark (issue 11), against the real service started as a child process the
// way `npm start` runs it, on SQLite and PostgreSQL (skipped when unreachable):
//   - ingest: POST /api/event from autocannon with 50 connections for BENCH_DURATION s,
//     each request from another client address (X-Forwarded-For, TRUST_PROXY=true) so
//     every event gets its own visitor key and country look-up; events/s answered 202,
//     p50/p99 latency, server CPU per event and the server's peak RSS (VmHWM). After the
//     run the stored raw rows are counted: every 202 must be there (none lost, none extra).
//   - rollup: 100,000 raw events of one hour (2,000 visitor keys shaped like the real
//     ones, 40 paths, sources, devices, countries) rolled up by the rollup use case here,
//     timed: the whole run, its slices and the longest one (on SQLite the longest stretch
//     the thread is held), and the latency of GET /healthz-like requests to a server in
//     this process, sent one after another meanwhile (what the service's own requests
//     see). The raw rows must be gone and the aggregates hold exactly 100,000 page views.
//   - dashboard: 30 days of aggregates holding 1,000,000 page views, then the whole console
//     page for those 30 days (with its comparison period) fetched sequentially by a
//     signed-in sales account: p50/p99.
//   - the tracker's size, gzipped.
//   - the ingest's ceiling: the same load against bare node:http answering 202 in its own
//     process (bench/bare-202.ts; BENCH_CEILING=0 skips it).
// Targets: >= 20,000 events/s, rollup < 2 s, dashboard < 100 ms, tracker < 1,000 bytes.
// A wrong answer fails the run (exit 1); a missed target is reported.
//
//   node bench/analytics.ts        (npm run bench:analytics)
//   BENCH_DATABASES=sqlite,postgres  BENCH_DURATION=10  BENCH_CONNECTIONS=50
//   BENCH_DASHBOARD_REQUESTS=50  BENCH_ENTRY=src  BENCH_NODE_FLAGS="..."
//   BENCH_PARTS=ingest,rollup,dashboard  (e.g. BENCH_PARTS=rollup for the rollup alone)
//   BENCH_ROLLUP_SLICE_EVENTS=...  (default: as the service does: SQLite in slices of
//                                  SLICE_EVENTS, PostgreSQL in one transaction)
//   TEST_PG_URL=postgres://...   (default postgres://postgres@127.0.0.1:5432/test)
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import pg from 'pg';
import { ensureBuilt } from '../scripts/build.mjs';
import { addAccount } from '../src/auth/accounts.ts';
import { rollUp } from '../src/analytics/roll-up.ts';
import { loadConfig, projectRoot } from '../src/config.ts';
import { openStorage, type Storage } from '../src/storage/db.ts';
import { insertChunks } from '../src/storage/insert-chunks.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';
import type { AnalyticsEventTable } from '../src/storage/types.ts';
import { freePort } from '../test/support/free-port.ts';
import { cpuMs, serveEnv, statusKb, waitHealthy } from './proc.ts';

function setting(name: string, fallback: number, min = 1): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number >= ${min}`);
  return value;
}
const DURATION = setting('BENCH_DURATION', 10);
const CONNECTIONS = setting('BENCH_CONNECTIONS', 50);
const DASHBOARD_REQUESTS = setting('BENCH_DASHBOARD_REQUESTS', 50);
const ROLLUP_EVENTS = 100_000;
const SLICE_EVENTS = process.env.BENCH_ROLLUP_SLICE_EVENTS ? setting('BENCH_ROLLUP_SLICE_EVENTS', 1) : undefined;
const DASHBOARD_VIEWS = 1_000_000;
const PARTS = new Set((process.env.BENCH_PARTS ?? 'ingest,rollup,dashboard').split(',').map((s) => s.trim()));
const databases = (process.env.BENCH_DATABASES ?? 'sqlite,postgres').split(',').map((s) => s.trim());
const PG_BASE = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECRET = randomBytes(32).toString('hex');
const PASSWORD = 'lantern orbit velvet harbour 42';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const node = join(projectRoot, 'node_modules', '.bin', 'node');

/** The ingest load: CONNECTIONS connections for DURATION s, each event from another client address. */
async function ingestLoad(url: string): Promise<{ result: autocannon.Result; accepted: number; other: number }> {
  let seq = 0;
  let accepted = 0;
  let other = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) =>
    autocannon(
      {
        url,
        connections: CONNECTIONS,
        duration: DURATION,
        requests: [
          {
            method: 'POST',
            path: '/api/event',
            setupRequest: (req) => {
              const n = ++seq;
              return {
                ...req,
                headers: {
                  'content-type': 'text/plain;charset=UTF-8',
                  origin: url,
                  'sec-fetch-site': 'same-origin',
                  'user-agent': UA,
                  'accept-language': 'en-GB',
                  'x-forwarded-for': `${(n >>> 16) & 255 || 81}.${(n >>> 8) & 255}.${n & 255}.${(n * 7) & 255}`,
                },
                body: JSON.stringify({ p: PATHS[n % PATHS.length], r: n % 3 ? '' : 'https://www.google.com/', w: 'l' }),
              };
            },
            onResponse: (status) => {
              if (status === 202) accepted++;
              else other++;
            },
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    ),
  );
  return { result, accepted, other };
}

/**
 * What this machine can answer at all: a bare node:http server in its own process (the
 * service's Node and V8 flags) that reads each body and answers 202, nothing else, driven
 * by the same load. The service's ingest cannot beat it.
 */
async function ingestCeiling(serveFlags: string[]): Promise<{ rate: number; p99: number; cpuUs: number }> {
  const port = await freePort();
  const child = spawn(node, [...serveFlags, 'bench/bare-202.ts'], { cwd: projectRoot, env: { ...serveEnv, PATH: process.env.PATH ?? '', PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] });
  children.add(child);
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitHealthy(url, child);
    const cpu0 = cpuMs(child.pid!);
    const { result, accepted } = await ingestLoad(url);
    return { rate: accepted / DURATION, p99: result.latency.p99, cpuUs: ((cpuMs(child.pid!) - cpu0) * 1000) / Math.max(1, accepted) };
  } finally {
    child.kill('SIGKILL');
    children.delete(child);
  }
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** A small seeded PRNG (mulberry32): the same data on every run and database. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)];
const PATHS = Array.from({ length: 40 }, (_, i) => (i === 0 ? '/' : `/page-${i}`));
const SOURCES = [['direct', ''], ['direct', ''], ['search', 'google.com'], ['search', 'bing.com'], ['social', 'linkedin.com'], ['other', 'example.org']] as const;
const DEVICES = ['desktop', 'desktop', 'mobile', 'tablet'];
const COUNTRIES = ['GB', 'IE', 'DE', 'FR', 'NL', 'US', 'ES', 'IT', 'SE', 'PL', ''];
const CAMPAIGNS = ['', '', '', '', 'spring', 'launch'];

// Visitor keys as the service writes them (22 characters of a keyed hash, base64url), so
// they spread over the key space the way real ones do.
const keyOf = (n: number) => createHash('sha256').update(`visitor ${n}`).digest('base64url').slice(0, 22);
function rawEvent(r: () => number, hour: string, visitors: number): AnalyticsEventTable {
  const [source, referrer_host] = pick(r, SOURCES);
  return { hour, path: pick(r, PATHS), source, referrer_host, campaign: pick(r, CAMPAIGNS), device: pick(r, DEVICES), country: pick(r, COUNTRIES), visitor: keyOf(Math.floor(r() * visitors)) };
}

/**
 * Sends requests one after another to a trivial HTTP server in this process (on the
 * thread that runs the rollup) until stopped; returns each request's latency in ms.
 */
async function requestLoop(): Promise<{ stop: () => Promise<number[]> }> {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      await (await fetch(`http://127.0.0.1:${port}/healthz`)).arrayBuffer();
      times.push(performance.now() - t);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      await new Promise((r) => server.close(r));
      return times.sort((a, b) => a - b);
    },
  };
}

/** User and system CPU time of a process so far, in ms (100 ticks/s). */
function cpuSplitMs(pid: number): { user: number; system: number } {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
  } catch {
    return { user: 0, system: 0 };
  }
}
const loadAverage = () => {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
};

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
const ms = (n: number) => `${n.toFixed(1)} ms`;

/** Thirty days of aggregates with exactly `total` page views, written straight into the tables. */
export async function seedAggregates(storage: Storage, end: Date, total: number): Promise<void> {
  const r = prng(30);
  const hours = 30 * 24;
  const perHour = Math.floor(total / hours);
  const db = storage.db;
  const hourly: Array<Record<string, unknown>> = [];
  const breakdowns = new Map<string, { visitors: number; pageviews: number }>();
  const visits: Array<Record<string, unknown>> = [];
  for (let h = 0; h < hours; h++) {
    const hour = new Date(end.getTime() - (hours - h) * 3600_000).toISOString().slice(0, 13);
    let left = h === hours - 1 ? total - perHour * (hours - 1) : perHour;
    const cells = new Map<string, Record<string, unknown>>();
    while (left > 0) {
      const e = rawEvent(r, hour, 1);
      const views = Math.min(left, 1 + Math.floor(r() * 40));
      left -= views;
      const key = [e.path, e.source, e.referrer_host, e.campaign, e.device, e.country].join('|');
      const cell = cells.get(key) ?? { ...e, visitors: 0, pageviews: 0 };
      delete cell.visitor;
      cell.visitors = (cell.visitors as number) + Math.max(1, Math.floor(views * 0.7));
      cell.pageviews = (cell.pageviews as number) + views;
      cells.set(key, cell);
      for (const d of ['path', 'source', 'referrer_host', 'campaign', 'device', 'country'] as const) {
        const k = `${hour}|${d}|${e[d]}`;
        const b = breakdowns.get(k) ?? { visitors: 0, pageviews: 0 };
        b.visitors += Math.max(1, Math.floor(views * 0.7));
        b.pageviews += views;
        breakdowns.set(k, b);
      }
    }
    hourly.push(...cells.values());
    const n = h === hours - 1 ? total - perHour * (hours - 1) : perHour;
    const v = Math.floor(n / 1.6);
    visits.push({ hour, visits: v, pageviews: n, bounces: Math.floor(v * 0.55) });
  }
  await db.transaction().execute(async (trx) => {
    for (const chunk of insertChunks(hourly, 9)) await trx.insertInto('analytics_hourly').values(chunk as never).execute();
    const rows = [...breakdowns].map(([k, b]) => {
      const [hour, dimension, value] = k.split('|');
      return { hour, dimension, value, ...b };
    });
    for (const chunk of insertChunks(rows, 5)) await trx.insertInto('analytics_breakdown').values(chunk).execute();
    // The daily breakdown as the rollup keeps it: the day's hourly rows summed.
    const daily = new Map<string, { day: string; dimension: string; value: string; visitors: number; pageviews: number }>();
    for (const r of rows) {
      const key = `${r.hour.slice(0, 10)}|${r.dimension}|${r.value}`;
      const d = daily.get(key) ?? { day: r.hour.slice(0, 10), dimension: r.dimension, value: r.value, visitors: 0, pageviews: 0 };
      d.visitors += r.visitors;
      d.pageviews += r.pageviews;
      daily.set(key, d);
    }
    for (const chunk of insertChunks([...daily.values()], 5)) await trx.insertInto('analytics_breakdown_daily').values(chunk).execute();
    for (const chunk of insertChunks(visits, 4)) await trx.insertInto('analytics_visits').values(chunk as never).execute();
  });
  await sql`analyze`.execute(db);
}

async function countRows(storage: Storage, table: 'analytics_event'): Promise<number> {
  return Number((await storage.db.selectFrom(table).select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
}

let failed = false;

async function runOne(kind: string): Promise<void> {
  let dbUrl: string;
  let drop: () => Promise<void>;
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'lumetrax-bench-analytics-'));
    dbUrl = `sqlite:${join(dir, 'bench.db')}`;
    drop = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const schema = `bench_analytics_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_BASE, connectionTimeoutMillis: 1500 });
    try {
      await admin.connect();
    } catch {
      console.log(`postgres: SKIPPED (not reachable at ${PG_BASE})`);
      return;
    }
    await admin.query(`create schema ${schema}`);
    await admin.end();
    dbUrl = `${PG_BASE}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    drop = async () => {
      const c = new pg.Client({ connectionString: PG_BASE });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    };
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    ...serveEnv,
    DATABASE_URL: dbUrl,
    SECRET_KEY: SECRET,
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: url,
    LOG_LEVEL: 'warn',
    TRUST_PROXY: 'true',
    // One machine plays every visitor: the per-address and per-key limits are lifted.
    ANALYTICS_RATE_LIMIT_MAX: '10000000',
    ANALYTICS_MAX_VIEWS_PER_MINUTE: '10000000',
  };
  const config = loadConfig({ ...env }, projectRoot);
  const storage = openStorage(config.database, { pgPoolSize: 2 });
  const deps = { storage, config, now: () => new Date(), mailQueued: () => undefined };
  const serveFlags = String(process.env.BENCH_NODE_FLAGS ?? JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')).config?.serve_node_flags ?? '').split(/\s+/).filter(Boolean);
  const entry = process.env.BENCH_ENTRY === 'src' ? 'src/main.ts' : (ensureBuilt(), 'scripts/serve.mjs');
  let child: ChildProcess | undefined;
  try {
    await migrateToLatest(storage.db);
    const account = await addAccount(deps, { email: 'sales.bench@lumetrax.example.com', role: 'sales' }, { kind: 'cli' });
    const baseEnv: NodeJS.ProcessEnv = {};
    for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k]) baseEnv[k] = process.env[k];
    child = spawn(node, [...serveFlags, entry, 'serve'], { cwd: projectRoot, env: { ...baseEnv, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
    children.add(child);
    await waitHealthy(url, child);
    const pid = child.pid!;
    const idle = statusKb(pid, 'VmRSS') / 1024;
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      /* VmHWM then counts from the start */
    }

    if (PARTS.has('ingest')) {
      // --- ingest ---
      const cpu0 = cpuMs(pid);
      const split0 = cpuSplitMs(pid);
      const { result, accepted, other } = await ingestLoad(url);
      const cpu = cpuMs(pid) - cpu0;
      const split1 = cpuSplitMs(pid);
      const load = loadAverage();
      const peak = statusKb(pid, 'VmHWM') / 1024;
      await new Promise((r) => setTimeout(r, 2500)); // the buffer's last flush
      const stored = await countRows(storage, 'analytics_event');
      const rate = accepted / DURATION;
      console.log(`${kind}: ingest, ${CONNECTIONS} connections ${DURATION} s: ${Math.round(rate).toLocaleString('en')} events/s answered 202 (target >= 20,000${rate >= 20_000 ? '' : ': MISSED'}), ${stored.toLocaleString('en')} stored, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, server CPU ${((cpu * 1000) / Math.max(1, accepted)).toFixed(0)} µs per event (user ${(((split1.user - split0.user) * 1000) / Math.max(1, accepted)).toFixed(0)}, system ${(((split1.system - split0.system) * 1000) / Math.max(1, accepted)).toFixed(0)}), peak RSS ${peak.toFixed(0)} MB (idle ${idle.toFixed(0)} MB), other answers ${other + result.errors}, load average ${load}`);
      if (process.env.BENCH_CEILING !== '0') {
        const c = await ingestCeiling(serveFlags);
        console.log(`${kind}: ceiling on this machine, the same load against bare node:http answering 202 (bench/bare-202.ts): ${Math.round(c.rate).toLocaleString('en')} requests/s, p99 ${c.p99} ms, ${c.cpuUs.toFixed(0)} µs CPU per request; the service's ingest reached ${((rate / c.rate) * 100).toFixed(0)}% of it`);
      }
      // autocannon stops counting at the deadline with up to one request per connection in
      // flight; the server still answers and stores those.
      if (stored < accepted || stored > accepted + CONNECTIONS) {
        console.log(`${kind}: WRONG: ${accepted} events answered 202 but ${stored} stored`);
        failed = true;
      }
      if (other + result.errors > 0) failed = true;
    }

    if (PARTS.has('rollup')) {
      // --- rollup of 100,000 raw events of one hour ---
      // Run twice on fresh events of another hour: alone (time and CPU), then with the
      // request loop going (its latencies; its own CPU would blur the first figures).
      await storage.db.deleteFrom('analytics_event').execute();
      for (const withRequests of [false, true]) {
        const r = prng(11);
        const hour = new Date(Date.now() - (withRequests ? 4 : 3) * 3600_000).toISOString().slice(0, 13);
        const events = Array.from({ length: ROLLUP_EVENTS }, () => rawEvent(r, hour, 2000));
        await storage.db.transaction().execute(async (trx) => {
          for (const chunk of insertChunks(events, 8)) await trx.insertInto('analytics_event').values(chunk).execute();
        });
        const requests = withRequests ? await requestLoop() : undefined;
        if (requests) await new Promise((r) => setTimeout(r, 200)); // the loop's connection warmed up
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const rolled = await rollUp(deps, SLICE_EVENTS ? { sliceEvents: SLICE_EVENTS } : {});
        const rollupMs = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        const views = Number((await storage.db.selectFrom('analytics_visits').select(sql<number>`sum(pageviews)`.as('n')).where('hour', '=', hour).executeTakeFirstOrThrow()).n);
        if (requests) {
          const times = await requests.stop();
          console.log(`${kind}: rollup again (${ms(rollupMs)}, longest slice ${ms(rolled.longestSliceMs)}) with requests to this process one after another meanwhile: ${times.length} requests, p50 ${ms(percentile(times, 0.5))}, p99 ${ms(percentile(times, 0.99))}, max ${ms(times[times.length - 1] ?? 0)}, load average ${loadAverage()}`);
        } else {
          console.log(`${kind}: rollup of ${ROLLUP_EVENTS.toLocaleString('en')} raw events (one hour): ${ms(rollupMs)} (target < 2 s${rollupMs < 2000 ? '' : ': MISSED'}), ${rolled.slices === 1 ? '1 transaction' : `${rolled.slices} slices`}, longest ${ms(rolled.longestSliceMs)}${kind === 'sqlite' ? ` (target < 100 ms: it holds the service's one thread${rolled.longestSliceMs < 100 ? '' : ': MISSED'})` : ' (beside the event loop)'}, CPU of this process ${((cpu.user + cpu.system) / ROLLUP_EVENTS).toFixed(1)} µs per event, ${rolled.aggregates.toLocaleString('en')} aggregate rows written, ${rolled.breakdowns.toLocaleString('en')} breakdown rows written, load average ${loadAverage()}`);
        }
        if (rolled.events !== ROLLUP_EVENTS || views !== ROLLUP_EVENTS || (await countRows(storage, 'analytics_event')) !== 0) {
          console.log(`${kind}: WRONG rollup: ${rolled.events} events rolled, ${views} page views stored`);
          failed = true;
        }
      }
    }

    if (PARTS.has('dashboard')) {
      // --- dashboard over 1,000,000 page views in 30 days ---
      for (const t of ['analytics_hourly', 'analytics_breakdown', 'analytics_breakdown_daily', 'analytics_visits'] as const) await storage.db.deleteFrom(t).execute();
      const end = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1));
      await seedAggregates(storage, end, DASHBOARD_VIEWS);
      const token = new URL(account.url).searchParams.get('token')!;
      await (await fetch(`${url}/console/setup?token=${encodeURIComponent(token)}`)).arrayBuffer();
      const form = (fields: Record<string, string>) => ({ method: 'POST', redirect: 'manual' as const, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url, 'sec-fetch-site': 'same-origin' }, body: new URLSearchParams(fields).toString() });
      const setup = await fetch(`${url}/console/setup`, form({ token, password: PASSWORD, confirm: PASSWORD, code: '' }));
      await setup.arrayBuffer();
      const signed = await fetch(`${url}/console/sign-in`, form({ email: 'sales.bench@lumetrax.example.com', password: PASSWORD, code: '' }));
      const cookie = signed.headers.getSetCookie().find((c) => c.startsWith('lt_console='))?.split(';')[0];
      if (!cookie) throw new Error(`sign-in: ${signed.status}`);
      // The dashboard's own peak, apart from the set-up page and argon2id above.
      const rssBefore = statusKb(pid, 'VmRSS') / 1024;
      const hwmReset = (() => {
        try {
          writeFileSync(`/proc/${pid}/clear_refs`, '5');
          return true;
        } catch {
          return false;
        }
      })();
      const from = new Date(end.getTime() - 30 * 86_400_000).toISOString().slice(0, 10);
      const to = new Date(end.getTime() - 86_400_000).toISOString().slice(0, 10);
      const path = `/console/analytics?from=${from}&to=${to}&compare=previous`;
      const expected = `<dt>Page views</dt><dd><span class="stat-value">${DASHBOARD_VIEWS.toLocaleString('en-GB')}</span>`;
      const times: number[] = [];
      let wrong = 0;
      for (let i = 0; i < 5 + DASHBOARD_REQUESTS; i++) {
        const t = performance.now();
        const res = await fetch(`${url}${path}`, { headers: { cookie } });
        const body = await res.text();
        if (i >= 5) times.push(performance.now() - t);
        if (res.status !== 200 || !body.includes(expected)) wrong++;
      }
      times.sort((a, b) => a - b);
      const p99 = percentile(times, 0.99);
      console.log(`${kind}: dashboard page, 30 days over ${DASHBOARD_VIEWS.toLocaleString('en')} page views, ${DASHBOARD_REQUESTS} sequential requests: p50 ${ms(percentile(times, 0.5))}, p99 ${ms(p99)} (target < 100 ms${p99 < 100 ? '' : ': MISSED at p99'}), load average ${loadAverage()}`);
      if (wrong) {
        console.log(`${kind}: WRONG: ${wrong} dashboard answers without the 1,000,000 page views`);
        failed = true;
      }
      console.log(`${kind}: server peak RSS ${hwmReset ? 'during the dashboard requests' : 'over the whole run'} ${(statusKb(pid, 'VmHWM') / 1024).toFixed(0)} MB (${rssBefore.toFixed(0)} MB when they began, after the ingest and the sign-in; now ${(statusKb(pid, 'VmRSS') / 1024).toFixed(0)} MB)`);
    }
  } finally {
    if (child) {
      child.kill('SIGTERM');
      await new Promise((r) => (child!.exitCode !== null ? r(undefined) : child!.once('exit', r)));
    }
    await storage.close();
    await drop();
  }
}

const tracker = readFileSync(join(projectRoot, 'public/t.js'));
const gz = gzipSync(tracker, { level: 9 }).length;
if (import.meta.main) console.log(`tracker: public/t.js ${tracker.length} bytes, ${gz} bytes gzipped (target < 1,000${gz < 1000 ? '' : ': MISSED'})`);
if (import.meta.main) {
  for (const kind of databases) await runOne(kind);
  if (failed) process.exit(1);
}
