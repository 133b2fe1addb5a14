// Retention benchmark (npm run bench:retention): sweeping a large backlog of expired
// inquiries while intake runs beside it. For SQLite (a temp file) and PostgreSQL (a fresh
// schema, skipped when unreachable) it migrates, seeds BENCH_RETENTION_INQUIRIES expired
// inquiries (default 1,000,000), each with its person, a thread of 3 messages and, for
// one in ten, an attachment; starts the real service as `npm start` does; measures
// intake (autocannon POST /demo) for BENCH_DURATION seconds as the baseline; then runs
// `lumetrax retention run` as its own process while the same intake load runs beside it,
// until the sweep exits. It prints the sweep's time and rate, intake p50/p99 before and
// during the sweep, and checks that every seeded inquiry, message and person is gone and
// that every acknowledged submission has its row.
//   BENCH_DATABASES=sqlite,postgres  BENCH_RETENTION_INQUIRIES=1000000  BENCH_DURATION=10
//   BENCH_CONNECTIONS=10  TEST_PG_URL=postgres://...
//   BENCH_SWEEP_PROFILE=DIR (a CPU profile of the sweep process, for node --cpu-prof)
// Besides wall-clock figures it reports CPU: of the sweep process, of the service, and on
// PostgreSQL of every postgres process (other users of the server count too), sampled from
// /proc every 200 ms, with the load average when the sweep ended.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { sql } from 'kysely';
import { ensureBuilt } from '../scripts/build.mjs';
import { parseDatabaseUrl, projectRoot } from '../src/config.ts';
import { Signer } from '../src/http/signing.ts';
import { issueFormToken } from '../src/inquiries/form-token.ts';
import { subjectKey } from '../src/people/subject.ts';
import { openStorage } from '../src/storage/db.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';
import { freePort } from '../test/support/free-port.ts';
import { seedExpired } from '../test/retention/bulk.ts';
import { serveEnv, waitHealthy } from './proc.ts';

function setting(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}
const INQUIRIES = setting('BENCH_RETENTION_INQUIRIES', 1_000_000);
const MESSAGES = 3;
const duration = setting('BENCH_DURATION', 10);
const connections = setting('BENCH_CONNECTIONS', 10);
const databases = (process.env.BENCH_DATABASES ?? 'sqlite,postgres').split(',').map((s) => s.trim());
const PG_BASE = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECRET = randomBytes(32).toString('hex');
const node = join(projectRoot, 'node_modules', '.bin', 'node');
const signer = new Signer(Buffer.from(SECRET, 'hex'));
const LONG_AGO = '2024-06-01T00:00:00.000Z';

const children = new Set<ChildProcess>();
const cleanups: Array<() => void | Promise<void>> = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

const serveFlags = String(JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')).config?.serve_node_flags ?? '').split(/\s+/).filter(Boolean);
const entry = process.env.BENCH_ENTRY === 'src' ? 'src/main.ts' : (ensureBuilt(), 'scripts/serve.mjs');

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k]) env[k] = process.env[k];
  return { ...env, ...serveEnv, SECRET_KEY: SECRET, FORM_MIN_FILL_SECONDS: '0', RATE_LIMIT_MAX: '10000000', LOG_LEVEL: 'warn', ...extra };
}

let seq = 0;
function submission(): string {
  seq++;
  return new URLSearchParams({ name: `Bench Visitor ${seq}`, email: `visitor.${seq}@bench-${seq % 97}.example.com`, company: 'Benchmark Holdings', role: 'Head of Facilities', country: 'IE', context: 'About 120 sites.', form_token: issueFormToken(signer, 'demo', new Date(Date.now() - 5_000)) }).toString();
}

interface Load {
  result: autocannon.Result;
  successes: number;
}

/** Intake load for `seconds`, or until `until` resolves. */
function drive(url: string, seconds: number, until?: Promise<unknown>): Promise<Load> {
  let successes = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration: seconds,
        requests: [{ method: 'POST', path: '/demo', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }, setupRequest: (req) => ({ ...req, body: submission() }), onResponse: (status) => void (status === 303 && successes++) }],
      },
      (err, result) => (err ? reject(err) : resolve({ result, successes })),
    );
    void until?.then(() => instance.stop());
  });
}

/** CPU seconds (user + system) of a process so far, from /proc; undefined once it is gone. */
function cpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the command (which is in parentheses and may hold spaces): utime is the 12th, stime the 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS = 100;

/** Samples the CPU time of processes (given, or found by name each time) until stopped; the last reading of each counts. */
function cpuMeter(pids: () => number[]): { stop(): number } {
  const last = new Map<number, number>();
  const sample = () => {
    for (const pid of pids()) {
      const s = cpuSeconds(pid);
      if (s !== undefined) last.set(pid, s);
    }
  };
  sample();
  const first = new Map(last);
  const timer = setInterval(sample, 200);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      // A process present at the start counts from its reading then; one started since, from zero.
      let total = 0;
      for (const [pid, s] of last) total += s - (first.get(pid) ?? 0);
      return total;
    },
  };
}

function postgresPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

interface Cpu {
  sweep: number;
  service: number;
  postgres?: number;
}

interface Figures {
  db: string;
  seedSeconds: number;
  sweepSeconds: number;
  base: Load;
  during: Load;
  leftInquiries: number;
  leftMessages: number;
  leftPeople: number;
  intakeRows: number;
  logEntries: number;
  baseCpu: Cpu;
  duringCpu: Cpu;
  loadavg: string;
}

async function bench(db: string, databaseUrl: string): Promise<Figures> {
  const target = parseDatabaseUrl(databaseUrl, projectRoot);
  const storage = openStorage(target);
  await migrateToLatest(storage.db);
  const t0 = performance.now();
  let last = 0;
  await seedExpired(storage.db, {
    inquiries: INQUIRIES,
    messagesPer: MESSAGES,
    at: LONG_AGO,
    chunk: 5000,
    // Under the service's key, as intake would have stored them (else it re-keys them all at start).
    subjectKey: (email) => subjectKey(signer, email),
    onProgress: (done) => {
      if (performance.now() - last > 10_000) {
        last = performance.now();
        console.error(`${db}: seeded ${done.toLocaleString('en-GB')} of ${INQUIRIES.toLocaleString('en-GB')} inquiries`);
      }
    },
  });
  if (target.kind === 'postgres') await sql`analyze`.execute(storage.db);
  const seedSeconds = (performance.now() - t0) / 1000;
  await storage.close();
  console.error(`${db}: seeded ${INQUIRIES.toLocaleString('en-GB')} inquiries with ${(INQUIRIES * MESSAGES).toLocaleString('en-GB')} messages in ${seedSeconds.toFixed(0)} s`);

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = spawn(node, [...serveFlags, entry, 'serve'], { cwd: projectRoot, env: childEnv({ DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1' }), stdio: ['ignore', 'ignore', 'inherit'] });
  children.add(server);
  const serverExit = new Promise((r) => server.once('exit', r));
  try {
    await waitHealthy(url, server);
    await drive(url, 3);
    const isPg = target.kind === 'postgres';
    const baseService = cpuMeter(() => [server.pid!]);
    const basePg = isPg ? cpuMeter(postgresPids) : undefined;
    const base = await drive(url, duration);
    const baseCpu: Cpu = { sweep: 0, service: baseService.stop(), postgres: basePg?.stop() };
    console.error(`${db}: intake baseline p99 ${base.result.latency.p99} ms; sweeping`);

    const sweepStart = performance.now();
    const profile = process.env.BENCH_SWEEP_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SWEEP_PROFILE}`] : [];
    const sweep = spawn(node, [...profile, 'src/main.ts', 'retention', 'run'], { cwd: projectRoot, env: childEnv({ DATABASE_URL: databaseUrl }), stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(sweep);
    const sweepCpu = cpuMeter(() => [sweep.pid!]);
    const duringService = cpuMeter(() => [server.pid!]);
    const duringPg = isPg ? cpuMeter(postgresPids) : undefined;
    let out = '';
    sweep.stdout!.on('data', (d) => (out += String(d)));
    const sweepExit = new Promise<number | null>((r) => sweep.once('exit', (code) => r(code)));
    const during = await drive(url, 3600, sweepExit);
    const code = await sweepExit;
    const sweepSeconds = (performance.now() - sweepStart) / 1000;
    const duringCpu: Cpu = { sweep: sweepCpu.stop(), service: duringService.stop(), postgres: duringPg?.stop() };
    const loadavg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    children.delete(sweep);
    if (code !== 0) throw new Error(`${db}: the sweep exited with ${code}`);
    process.stderr.write(out);

    const check = openStorage(target);
    try {
      const count = async (q: ReturnType<typeof sql<{ n: string | number }>>) => Number((await q.execute(check.db)).rows[0].n);
      return {
        db,
        seedSeconds,
        sweepSeconds,
        base,
        during,
        leftInquiries: await count(sql`select count(*) as n from inquiry where reference like 'B-%'`),
        leftMessages: await count(sql`select count(*) as n from mail_message where message_id like '%@bulk.example>'`),
        leftPeople: await count(sql`select count(*) as n from person where email like '%@bulk.example'`),
        intakeRows: await count(sql`select count(*) as n from inquiry`),
        logEntries: await count(sql`select count(*) as n from deletion_log`),
        baseCpu,
        duringCpu,
        loadavg,
      };
    } finally {
      await check.close();
    }
  } finally {
    server.kill('SIGTERM');
    await serverExit;
    children.delete(server);
  }
}

async function withPg<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_BASE, connectionTimeoutMillis: 2000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const results: Figures[] = [];
try {
  if (databases.includes('sqlite')) {
    const dir = mkdtempSync(join(tmpdir(), 'lumetrax-bench-retention-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    results.push(await bench('SQLite', `sqlite:${join(dir, 'bench.db')}`));
  }
  if (databases.includes('postgres')) {
    const schema = `bench_retention_${randomBytes(4).toString('hex')}`;
    const reachable = await withPg((c) => c.query(`create schema ${schema}`)).then(() => true, () => false);
    if (!reachable) console.error(`PostgreSQL not reachable at ${PG_BASE}: skipped`);
    else {
      cleanups.push(() => withPg(async (c) => void (await c.query(`drop schema if exists ${schema} cascade`))));
      results.push(await bench('PostgreSQL', `${PG_BASE}?options=${encodeURIComponent(`-c search_path=${schema}`)}`));
    }
  }
} finally {
  for (const f of cleanups) await f();
}

const ms = (n: number) => `${n} ms`;
console.log(`\nRetention sweep of ${INQUIRIES.toLocaleString('en-GB')} expired inquiries (${(INQUIRIES * MESSAGES).toLocaleString('en-GB')} messages) with intake beside it (${connections} connections)\n`);
console.log('| database | sweep | inquiries/s | intake p50 / p99 before | intake p50 / p99 during | p99 ratio | submissions committed during | left over | log entries | targets |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |');
for (const r of results) {
  const ratio = r.during.result.latency.p99 / r.base.result.latency.p99;
  // The target is 1,000,000 inquiries in 120 s: a rate, so a smaller run is judged by it too.
  const ok = INQUIRIES / r.sweepSeconds >= 1_000_000 / 120 && ratio <= 2 && r.leftInquiries === 0 && r.leftMessages === 0 && r.leftPeople === 0;
  console.log(
    `| ${r.db} | ${r.sweepSeconds.toFixed(1)} s | ${Math.round(INQUIRIES / r.sweepSeconds).toLocaleString('en-GB')} | ${ms(r.base.result.latency.p50)} / ${ms(r.base.result.latency.p99)} | ${ms(r.during.result.latency.p50)} / ${ms(r.during.result.latency.p99)} | ${ratio.toFixed(2)} | ${r.during.successes} | ${r.leftInquiries} inquiries, ${r.leftMessages} messages, ${r.leftPeople} people | ${r.logEntries} | ${ok ? 'met' : 'NOT met'} (>= 8,334 inquiries/s, i.e. 1,000,000 in 120 s; p99 <= 2x) |`,
  );
}
console.log('\nCPU (user + system, sampled from /proc). Per 1,000 inquiries swept: the sweep process, and the service and PostgreSQL (every postgres process, other users included) while the sweep ran; intake: the service per 1,000 submissions.\n');
console.log('| database | sweep CPU | sweep per 1,000 | service per 1,000 swept | postgres per 1,000 swept | intake (service) per 1,000 before / during | load average at the end |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
for (const r of results) {
  const perK = (s: number | undefined) => (s === undefined ? 'n/a' : `${((s * 1000) / (INQUIRIES / 1000)).toFixed(0)} ms`);
  const perSubmission = (s: number, n: number) => (n ? `${((s * 1000) / (n / 1000)).toFixed(0)} ms` : 'n/a');
  console.log(
    `| ${r.db} | ${r.duringCpu.sweep.toFixed(1)} s | ${perK(r.duringCpu.sweep)} | ${perK(r.duringCpu.service)} | ${perK(r.duringCpu.postgres)} | ${perSubmission(r.baseCpu.service, r.base.successes)} / ${perSubmission(r.duringCpu.service, r.during.successes)} | ${r.loadavg} |`,
  );
}
console.log(`\nSeeding took ${results.map((r) => `${r.db} ${r.seedSeconds.toFixed(0)} s`).join(', ')} (not part of the sweep).`);
