// Intake benchmark: the real service as a child process, driven by autocannon from this
// process with valid demo-form submissions (each with its own signed form token), beside
// a bare Fastify route doing one plain insert of the same row. Prints committed
// submissions/s, p50/p99 latency, peak RSS, and checks every success answer against the
// rows in the database, reference by reference.
//
//   node bench/intake.ts            (npm run bench)
//   BENCH_DURATION=15 BENCH_CONNECTIONS=50 BENCH_WARMUP=3 BENCH_DATABASES=sqlite,postgres
//   BENCH_NODE_OPTIONS=--cpu-prof   (passed to the intake server only, for profiling)
//   BENCH_ENTRY=src                 run the intake server from src/main.ts (type stripping)
//                                   instead of dist/main.js, the entry `npm start` serves
//   BENCH_NODE_FLAGS="..."          V8 flags for both servers instead of config.serve_node_flags
//   BENCH_BARE=0                    skip the bare insert route (quicker A/B runs of the intake)
//   BENCH_SERVER_ENV="K=V ..."      extra environment for the intake server (A/B trials)
//   BENCH_ANALYTICS=0               skip the two page views from public addresses sent before
//                                   the intake (they load the analytics country tables)
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import autocannon from 'autocannon';
import pg from 'pg';
import { ensureBuilt } from '../scripts/build.mjs';
import { projectRoot } from '../src/config.ts';
import { Signer } from '../src/http/signing.ts';
import { issueFormToken } from '../src/inquiries/form-token.ts';
import { freePort } from '../test/support/free-port.ts';
import { cpuMs, serveEnv, statusKb, waitHealthy } from './proc.ts';

function setting(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}
const duration = setting('BENCH_DURATION', 15);
const connections = setting('BENCH_CONNECTIONS', 50);
const warmup = setting('BENCH_WARMUP', 3);
const databases = (process.env.BENCH_DATABASES ?? 'sqlite,postgres').split(',').map((s) => s.trim());
const PG_BASE = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECRET = randomBytes(32).toString('hex');
const node = join(projectRoot, 'node_modules', '.bin', 'node');

// Children die with us, however we leave (normal end, error, Ctrl-C).
const children = new Set<ChildProcess>();
const cleanups: Array<() => void> = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  for (const f of cleanups) f();
});
// Benchmark schemas on PostgreSQL are dropped on the way out too (at most 3 s).
const pgDrops: Array<() => Promise<void>> = [];
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    for (const c of children) c.kill('SIGKILL');
    setTimeout(() => process.exit(130), 3000).unref();
    void Promise.allSettled(pgDrops.map((drop) => drop())).finally(() => process.exit(130));
  });
}

interface Target {
  db: 'SQLite' | 'PostgreSQL';
  kind: 'intake' | 'bare';
  script: string[];
  env: Record<string, string>;
  /** References of every stored row. */
  storedReferences: () => Promise<Set<string>>;
}

interface Figures {
  target: Target;
  committedPerSec: number;
  p50: number;
  p99: number;
  measuredSuccesses: number;
  acknowledged: number;
  matched: number;
  unmatched: number;
  extraRows: number;
  nonSuccess: number;
  errors: number;
  sampledRssMb: number;
  hwmMb: number;
  /** Server CPU time (user + system) per committed submission in the measured run, in µs. */
  cpuUsPerCommit: number;
}




// The server's own code signs the tokens, with the key the server is given (SECRET_KEY is hex).
const signer = new Signer(Buffer.from(SECRET, 'hex'));
let seq = 0;

function submission(): string {
  seq++;
  return new URLSearchParams({
    name: `Bench Visitor ${seq}`,
    email: `visitor.${seq}@bench-${seq % 97}.example.com`,
    company: `Benchmark Holdings ${seq % 13}`,
    role: 'Head of Facilities',
    country: 'IE',
    context: 'About 120 sites in three countries.',
    form_token: issueFormToken(signer, 'demo', new Date(Date.now() - 5_000)),
  }).toString();
}

/** The reference a success answer carries: the receipt cookie (intake) or x-reference (bare). */
function referenceOf(headers: Record<string, string | string[]>): string | undefined {
  const bare = headers['x-reference'];
  if (typeof bare === 'string') return bare;
  const cookies = ([] as string[]).concat(headers['set-cookie'] ?? []);
  for (const c of cookies) {
    const m = /^lt_receipt=(?:[A-Za-z0-9_-]{6}\.)?demo~(LT-[A-Z0-9]+)\./.exec(c);
    if (m) return m[1];
  }
  return undefined;
}

interface Drive {
  result: autocannon.Result;
  references: string[];
  successes: number;
}

function drive(url: string, seconds: number): Promise<Drive> {
  const references: string[] = [];
  let successes = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections,
        duration: seconds,
        requests: [
          {
            method: 'POST',
            path: '/demo',
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
            setupRequest: (req) => ({ ...req, body: submission() }),
            onResponse: (status, _body, _context, headers) => {
              if (status !== 303) return;
              successes++;
              const ref = referenceOf(headers as unknown as Record<string, string | string[]>);
              if (ref) references.push(ref);
            },
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve({ result, references, successes })),
    );
  });
}

/** SIGTERM (the service's graceful stop), SIGKILL if it has not gone within 10 s. */
async function stop(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // A clean environment: nothing from the caller's shell (SMTP_URL, NODE_OPTIONS, ...)
  // may change what is measured.
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k]) env[k] = process.env[k];
  return { ...env, ...serveEnv, ...extra };
}

async function run(target: Target): Promise<Figures> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(node, target.script, {
    cwd: projectRoot,
    env: childEnv({ ...target.env, PORT: String(port), HOST: '127.0.0.1' }),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.add(child);
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await waitHealthy(url, child);
    if (target.kind === 'intake' && withAnalytics) await countPageViews(url);
    let sampled = 0;
    const sampler = setInterval(() => (sampled = Math.max(sampled, statusKb(child.pid!, 'VmRSS'))), 100);
    const warm = await drive(url, warmup);
    // CPU per submission holds still when other work on the machine takes cores away, so
    // A/B runs on a shared machine compare it besides the rate.
    const cpuBefore = cpuMs(child.pid!);
    const measured = await drive(url, duration);
    const cpuUsed = cpuMs(child.pid!) - cpuBefore;
    clearInterval(sampler);
    const hwm = statusKb(child.pid!, 'VmHWM');
    await stop(child, exited);
    children.delete(child);

    const answers = (d: Drive) => Object.values((d.result as unknown as { statusCodeStats: Record<string, { count: number }> }).statusCodeStats ?? {}).reduce((a, b) => a + b.count, 0);
    const acknowledged = [...warm.references, ...measured.references];
    const successes = warm.successes + measured.successes;
    const stored = await target.storedReferences();
    const matched = acknowledged.filter((r) => stored.has(r)).length;
    return {
      target,
      committedPerSec: measured.successes / (measured.result.duration || duration),
      p50: measured.result.latency.p50,
      p99: measured.result.latency.p99,
      measuredSuccesses: measured.successes,
      acknowledged: successes,
      matched,
      // A success answer without a readable reference counts as unmatched too.
      unmatched: successes - matched,
      extraRows: stored.size - matched,
      nonSuccess: answers(warm) + answers(measured) - successes,
      errors: warm.result.errors + measured.result.errors + warm.result.timeouts + measured.result.timeouts,
      sampledRssMb: sampled / 1024,
      hwmMb: hwm / 1024,
      cpuUsPerCommit: measured.successes ? (cpuUsed * 1000) / measured.successes : 0,
    };
  } finally {
    if (children.has(child)) {
      child.kill('SIGKILL');
      await exited;
      children.delete(child);
    }
  }
}

// TRUST_PROXY so that the page views below come from public addresses (X-Forwarded-For).
const serverEnv = { SECRET_KEY: SECRET, FORM_MIN_FILL_SECONDS: '0', RATE_LIMIT_MAX: '10000000', LOG_LEVEL: 'warn', TRUST_PROXY: 'true' };
const withAnalytics = process.env.BENCH_ANALYTICS !== '0';

/**
 * A site in use also counts page views: one view from a public IPv4 and one from a public
 * IPv6 address loads the analytics country tables (loaded at the first address of each
 * family), so peak RSS is the whole service's, not the intake's alone.
 */
async function countPageViews(url: string): Promise<void> {
  for (const address of ['8.8.8.8', '2001:4860:4860::8888']) {
    const res = await fetch(`${url}/api/event`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: url, 'sec-fetch-site': 'same-origin', 'x-forwarded-for': address, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' },
      body: JSON.stringify({ p: '/', w: 'l' }),
    });
    if (res.status !== 202) throw new Error(`a page view from ${address} was answered ${res.status}, not 202`);
  }
}
const serverNodeOptions: Record<string, string> = process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {};
for (const kv of (process.env.BENCH_SERVER_ENV ?? '').split(/\s+/).filter(Boolean)) serverNodeOptions[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
// The V8 flags `npm start` passes (package.json config.serve_node_flags); both servers get
// them, so the bare route stays a like-for-like ceiling.
const serveFlags = String(process.env.BENCH_NODE_FLAGS ?? JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')).config?.serve_node_flags ?? '').split(/\s+/).filter(Boolean);
// The intake server runs what `npm start` runs: scripts/serve.mjs, which serves dist/main.js
// (built here first when src/ changed, so the build is not part of the measured process).
const intakeEntry = process.env.BENCH_ENTRY === 'src' ? 'src/main.ts' : (ensureBuilt(), 'scripts/serve.mjs');
const intakeScript = [...serveFlags, intakeEntry, 'serve'];
const bareScript = [...serveFlags, 'bench/bare-server.ts'];

function sqliteTargets(): Target[] {
  const dir = mkdtempSync(join(tmpdir(), 'lumetrax-bench-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const refs = (file: string, table: string) => async () => {
    const db = new DatabaseSync(join(dir, file), { readOnly: true });
    try {
      return new Set((db.prepare(`select reference from ${table}`).all() as Array<{ reference: string }>).map((r) => r.reference));
    } finally {
      db.close();
    }
  };
  return [
    { db: 'SQLite', kind: 'intake', script: intakeScript, env: { ...serverEnv, ...serverNodeOptions, DATABASE_URL: `sqlite:${join(dir, 'intake.db')}` }, storedReferences: refs('intake.db', 'inquiry') },
    { db: 'SQLite', kind: 'bare', script: bareScript, env: { DATABASE_URL: `sqlite:${join(dir, 'bare.db')}` }, storedReferences: refs('bare.db', 'inquiry') },
  ];
}

async function withPg<T>(url: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1500 });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

async function postgresTargets(): Promise<{ targets: Target[]; drop: () => Promise<void> } | string> {
  const schemas = [`bench_${randomBytes(4).toString('hex')}`, `bench_${randomBytes(4).toString('hex')}`];
  try {
    await withPg(PG_BASE, async (c) => {
      for (const s of schemas) await c.query(`create schema ${s}`);
    });
  } catch (error) {
    return `PostgreSQL not reachable at ${PG_BASE} (${(error as Error).message}): PostgreSQL runs skipped`;
  }
  const urlFor = (s: string) => `${PG_BASE}?options=${encodeURIComponent(`-c search_path=${s}`)}`;
  const refs = (s: string) => () => withPg(urlFor(s), async (c) => new Set((await c.query<{ reference: string }>('select reference from inquiry')).rows.map((r) => r.reference)));
  return {
    targets: [
      { db: 'PostgreSQL', kind: 'intake', script: intakeScript, env: { ...serverEnv, ...serverNodeOptions, DATABASE_URL: urlFor(schemas[0]) }, storedReferences: refs(schemas[0]) },
      { db: 'PostgreSQL', kind: 'bare', script: bareScript, env: { DATABASE_URL: urlFor(schemas[1]) }, storedReferences: refs(schemas[1]) },
    ],
    drop: () =>
      withPg(PG_BASE, async (c) => {
        for (const s of schemas) await c.query(`drop schema if exists ${s} cascade`);
      }),
  };
}

function line(f: Figures, bare: Figures | undefined): string {
  const name = `${f.target.db} ${f.target.kind === 'intake' ? 'intake (real path)' : 'bare insert route'}`;
  const ratio = f.target.kind === 'intake' && bare ? `${((f.committedPerSec / bare.committedPerSec) * 100).toFixed(0)}%` : '';
  return [
    name.padEnd(28),
    f.committedPerSec.toFixed(0).padStart(7),
    ratio.padStart(8),
    String(f.p50).padStart(5),
    String(f.p99).padStart(5),
    `${f.matched}/${f.acknowledged}`.padStart(13),
    String(f.unmatched).padStart(9),
    String(f.extraRows).padStart(7),
    String(f.nonSuccess + f.errors).padStart(7),
    f.sampledRssMb.toFixed(0).padStart(8),
    f.hwmMb.toFixed(0).padStart(6),
    f.cpuUsPerCommit.toFixed(0).padStart(9),
  ].join(' ');
}
const header = [
  'run'.padEnd(28),
  'commit/s'.padStart(7),
  'vs bare'.padStart(8),
  'p50ms'.padStart(5),
  'p99ms'.padStart(5),
  'matched/303s'.padStart(13),
  'unmatched'.padStart(9),
  'in-flt'.padStart(7),
  'errors'.padStart(7),
  'RSS MB'.padStart(8),
  'HWM MB'.padStart(6),
  'CPU µs/sub'.padStart(9),
].join(' ');

function detail(f: Figures): void {
  console.log(
    `  ${f.target.db} ${f.target.kind}: ${f.measuredSuccesses} committed in ${duration} s = ${f.committedPerSec.toFixed(0)}/s; p50 ${f.p50} ms, p99 ${f.p99} ms; ` +
      `${f.acknowledged} success answers (warm-up included), ${f.matched} matched by a row, ${f.unmatched} unmatched, ${f.extraRows} rows committed for requests cut off when the load stopped; ` +
      `${f.nonSuccess} non-303 answers, ${f.errors} errors/timeouts; server RSS peak sampled ${f.sampledRssMb.toFixed(0)} MB, VmHWM ${f.hwmMb.toFixed(0)} MB; server CPU ${f.cpuUsPerCommit.toFixed(0)} µs per committed submission`,
  );
}

console.log(`Intake benchmark: ${connections} connections, ${duration} s measured after ${warmup} s warm-up, Node ${process.versions.node}, ${cpus().length} cores`);
console.log(`intake server: node ${intakeScript.join(' ').replace(projectRoot + '/', '')}\n`);
const results: Figures[] = [];
try {
  const planned: Target[] = [];
  if (databases.includes('sqlite')) planned.push(...sqliteTargets());
  if (databases.includes('postgres')) {
    const pgPlan = await postgresTargets();
    if (typeof pgPlan === 'string') console.log(pgPlan);
    else {
      planned.push(...pgPlan.targets);
      pgDrops.push(pgPlan.drop);
    }
  }
  for (const t of planned) {
    if (process.env.BENCH_BARE === '0' && t.kind === 'bare') continue;
    const f = await run(t);
    results.push(f);
    detail(f);
  }
} finally {
  for (const drop of pgDrops) await drop().catch((e) => console.error(`could not drop the benchmark schemas: ${(e as Error).message}`));
}

const find = (db: Target['db'], kind: Target['kind']) => results.find((r) => r.target.db === db && r.target.kind === kind);
console.log(`\nSummary (${connections} connections, ${duration} s; RSS = peak of VmRSS sampled every 100 ms, HWM = VmHWM at the end; in-flt = rows whose answer was cut off by the end of the run; CPU µs/sub = server CPU time per committed submission)`);
console.log(header);
for (const f of results) console.log(line(f, f.target.kind === 'intake' ? find(f.target.db, 'bare') : undefined));

const sqlite = find('SQLite', 'intake');
const bare = find('SQLite', 'bare');
// Only a lost row fails the run; missed speed targets are reported, not fatal.
let lost = false;
if (sqlite && bare) {
  const ratio = sqlite.committedPerSec / bare.committedPerSec;
  const peak = Math.max(sqlite.sampledRssMb, sqlite.hwmMb);
  const checks: Array<[string, boolean]> = [
    [`>= 1,500 committed submissions/s: ${sqlite.committedPerSec.toFixed(0)}/s`, sqlite.committedPerSec >= 1500],
    [`>= half the bare route's rate: ${(ratio * 100).toFixed(0)}% of ${bare.committedPerSec.toFixed(0)}/s`, ratio >= 0.5],
    [`p99 < 50 ms: ${sqlite.p99} ms`, sqlite.p99 < 50],
    [`every success answer matched by a row: ${sqlite.matched}/${sqlite.acknowledged}, ${sqlite.unmatched} unmatched`, sqlite.unmatched === 0 && sqlite.acknowledged > 0],
    [`peak RSS < 150 MB: ${peak.toFixed(0)} MB`, peak < 150],
    [`no errors or non-303 answers: ${sqlite.errors} errors, ${sqlite.nonSuccess} non-303`, sqlite.errors === 0 && sqlite.nonSuccess === 0],
  ];
  console.log(`\nTargets (issue 3; SQLite, ${connections} connections):`);
  for (const [label, ok] of checks) {
    console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${label}`);
  }
}
const pgIntake = find('PostgreSQL', 'intake');
if (pgIntake) {
  const ok = pgIntake.unmatched === 0 && pgIntake.acknowledged > 0;
  console.log(`\nPostgreSQL: every success answer matched by a row: ${ok ? 'PASS' : 'FAIL'} (${pgIntake.matched}/${pgIntake.acknowledged}, ${pgIntake.unmatched} unmatched)`);
}
for (const f of results) lost ||= f.unmatched > 0;
process.exit(lost ? 1 : 0);
