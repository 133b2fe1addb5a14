// Intake benchmark: the real service as a child process, driven by autocannon from this
// process with valid demo-form submissions (each with its own signed token), beside a
// bare route doing one plain insert of the same row. Prints committed submissions/s,
// p50/p99 latency, peak RSS, and checks every success answer has its row.
//
//   node bench/intake.ts            (npm run bench)
//   BENCH_DURATION=15 BENCH_CONNECTIONS=50 BENCH_DATABASES=sqlite,postgres
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import autocannon from 'autocannon';
import pg from 'pg';
import { projectRoot } from '../src/config.ts';
import { Signer } from '../src/http/signing.ts';
import { issueFormToken } from '../src/inquiries/form-token.ts';

const duration = Number(process.env.BENCH_DURATION ?? 15);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const warmup = Number(process.env.BENCH_WARMUP ?? 3);
const PG_BASE = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECRET = randomBytes(32).toString('hex');
const node = join(projectRoot, 'node_modules', '.bin', 'node');
const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
process.on('SIGINT', () => process.exit(130));

interface Target {
  label: string;
  script: string[];
  env: Record<string, string>;
  countRows: () => Promise<number>;
}

interface Figures {
  label: string;
  committedPerSec: number;
  p50: number;
  p99: number;
  acknowledged: number;
  rows: number;
  other: number;
  errors: number;
  peakRssMb: number;
}

function rssKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+) kB`));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function waitHealthy(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not become healthy`);
}

let port = 3900;
const signer = new Signer(Buffer.from(SECRET, 'utf8'));
let seq = 0;

function formBody(): string {
  seq++;
  return new URLSearchParams({
    name: `Bench Visitor ${seq}`,
    email: `visitor${seq}@bench-${seq % 97}.example.com`,
    company: 'Benchmark Holdings',
    role: 'Head of Facilities',
    country: 'IE',
    context: 'About 120 sites in three countries.',
    form_token: issueFormToken(signer, 'demo', new Date(Date.now() - 10_000)),
  }).toString();
}

function drive(url: string, seconds: number): Promise<autocannon.Result> {
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
            setupRequest: (req) => ({ ...req, body: formBody() }),
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

async function run(target: Target): Promise<Figures> {
  const p = port++;
  const url = `http://127.0.0.1:${p}`;
  const child = spawn(node, target.script, { cwd: projectRoot, env: { ...process.env, ...target.env, PORT: String(p), HOST: '127.0.0.1' }, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  await waitHealthy(url);
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssKb(child.pid!, 'VmRSS'))), 100);
  const warm = await drive(url, warmup);
  const result = await drive(url, duration);
  clearInterval(sampler);
  peakRss = Math.max(peakRss, rssKb(child.pid!, 'VmHWM'));
  const codes = (r: autocannon.Result, code: string) => (r as unknown as { statusCodeStats: Record<string, { count: number }> }).statusCodeStats?.[code]?.count ?? 0;
  const acknowledged = codes(warm, '303') + codes(result, '303');
  const measured303 = codes(result, '303');
  const allResponses = (r: autocannon.Result) => Object.values((r as unknown as { statusCodeStats: Record<string, { count: number }> }).statusCodeStats ?? {}).reduce((a, b) => a + b.count, 0);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const rows = await target.countRows();
  return {
    label: target.label,
    committedPerSec: measured303 / duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    acknowledged,
    rows,
    other: allResponses(warm) + allResponses(result) - acknowledged,
    errors: warm.errors + result.errors + warm.timeouts + result.timeouts,
    peakRssMb: peakRss / 1024,
  };
}

function sqliteTargets(): Target[] {
  const dir = mkdtempSync(join(tmpdir(), 'lumetrax-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const count = (file: string, table: string) => async () => {
    const db = new DatabaseSync(join(dir, file));
    const n = (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
    db.close();
    return n;
  };
  const env = { SECRET_KEY: SECRET, FORM_MIN_FILL_SECONDS: '0', RATE_LIMIT_MAX: '10000000', LOG_LEVEL: 'warn', NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS ?? '' };
  return [
    { label: 'SQLite: intake (real path)', script: ['src/main.ts', 'serve'], env: { ...env, DATABASE_URL: `sqlite:${join(dir, 'intake.db')}` }, countRows: count('intake.db', 'inquiry') },
    { label: 'SQLite: bare insert route', script: ['bench/bare-server.ts'], env: { DATABASE_URL: `sqlite:${join(dir, 'bare.db')}` }, countRows: count('bare.db', 'bare_inquiry') },
  ];
}

async function postgresTargets(): Promise<Target[] | string> {
  const admin = new pg.Client({ connectionString: PG_BASE, connectionTimeoutMillis: 1500 });
  try {
    await admin.connect();
  } catch {
    return `PostgreSQL not reachable at ${PG_BASE}: PostgreSQL runs skipped`;
  }
  const schemas = [`bench_${randomBytes(4).toString('hex')}`, `bench_${randomBytes(4).toString('hex')}`];
  for (const s of schemas) await admin.query(`create schema ${s}`);
  await admin.end();
  const urlFor = (s: string) => `${PG_BASE}?options=${encodeURIComponent(`-c search_path=${s}`)}`;
  const count = (s: string, table: string) => async () => {
    const c = new pg.Client({ connectionString: urlFor(s) });
    await c.connect();
    const n = Number((await c.query(`select count(*) as n from ${table}`)).rows[0].n);
    await c.query(`drop schema ${s} cascade`);
    await c.end();
    return n;
  };
  const env = { SECRET_KEY: SECRET, FORM_MIN_FILL_SECONDS: '0', RATE_LIMIT_MAX: '10000000', LOG_LEVEL: 'warn' };
  return [
    { label: 'PostgreSQL: intake (real path)', script: ['src/main.ts', 'serve'], env: { ...env, DATABASE_URL: urlFor(schemas[0]) }, countRows: count(schemas[0], 'inquiry') },
    { label: 'PostgreSQL: bare insert route', script: ['bench/bare-server.ts'], env: { DATABASE_URL: urlFor(schemas[1]) }, countRows: count(schemas[1], 'bare_inquiry') },
  ];
}

function print(f: Figures): void {
  console.log(
    `${f.label.padEnd(34)} ${f.committedPerSec.toFixed(0).padStart(6)}/s  p50 ${String(f.p50).padStart(3)} ms  p99 ${String(f.p99).padStart(3)} ms  ` +
      `peak RSS ${f.peakRssMb.toFixed(0).padStart(4)} MB  success answers ${f.acknowledged}, rows ${f.rows} (${f.rows >= f.acknowledged ? `all matched; ${f.rows - f.acknowledged} more rows from requests in flight when the load stopped` : `${f.acknowledged - f.rows} UNMATCHED`})  other answers ${f.other}, errors ${f.errors}`,
  );
}

console.log(`Intake benchmark: ${connections} connections, ${duration} s measured after ${warmup} s warm-up, Node ${process.versions.node}, ${(await import('node:os')).cpus().length} cores\n`);
const wanted = (process.env.BENCH_DATABASES ?? 'sqlite,postgres').split(',');
const results: Figures[] = [];
if (wanted.includes('sqlite')) for (const t of sqliteTargets()) results.push(await run(t)), print(results.at(-1)!);
if (wanted.includes('postgres')) {
  const targets = await postgresTargets();
  if (typeof targets === 'string') console.log(targets);
  else for (const t of targets) results.push(await run(t)), print(results.at(-1)!);
}

const sqlite = results.find((r) => r.label.startsWith('SQLite: intake'));
const bare = results.find((r) => r.label.startsWith('SQLite: bare'));
if (sqlite && bare) {
  const ratio = sqlite.committedPerSec / bare.committedPerSec;
  const checks: Array<[string, boolean]> = [
    [`>= 1,500 committed submissions/s (${sqlite.committedPerSec.toFixed(0)}/s)`, sqlite.committedPerSec >= 1500],
    [`>= half the bare route's rate (${(ratio * 100).toFixed(0)}% of ${bare.committedPerSec.toFixed(0)}/s)`, ratio >= 0.5],
    [`p99 < 50 ms (${sqlite.p99} ms)`, sqlite.p99 < 50],
    [`every success answer matched by a row (${sqlite.acknowledged} answers, ${sqlite.rows} rows)`, sqlite.rows >= sqlite.acknowledged],
    [`peak RSS < 150 MB (${sqlite.peakRssMb.toFixed(0)} MB)`, sqlite.peakRssMb < 150],
    [`no errors or other answers (${sqlite.errors} errors, ${sqlite.other} other)`, sqlite.errors === 0 && sqlite.other === 0],
  ];
  console.log(`\nTargets (SQLite, ${connections} connections):`);
  for (const [label, ok] of checks) console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${label}`);
}
const pgIntake = results.find((r) => r.label.startsWith('PostgreSQL: intake'));
if (pgIntake) console.log(`\nPostgreSQL: every success answer matched by a row: ${pgIntake.rows >= pgIntake.acknowledged ? 'yes' : 'NO'} (${pgIntake.acknowledged} answers, ${pgIntake.rows} rows)`);
process.exit(0);
