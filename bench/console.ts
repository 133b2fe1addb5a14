// Console benchmark (issue 8): the inquiry inbox over 100,000 inquiries and console
// sign-in with argon2id at its configured cost, against the real service started as a
// child process (the entry and V8 flags `npm start` uses), over real HTTP with a real
// signed-in sales account. For each database (SQLite in a temp folder; PostgreSQL in a
// fresh schema, skipped when unreachable) it migrates, seeds people and inquiries with
// bulk inserts, makes sales accounts through the account use case and sets their
// passwords on the set-up page, then measures:
//   - sequential requests (after a warm-up) to the first page, a deep page (a cursor
//     about 90% down the list), text searches (a term matching a few hundred rows, a
//     common one matching thousands, a rare one matching one person, one matching
//     nothing, and two-character terms, common and matching nothing, which no trigram
//     index can answer), and a status + country filter: p50, p99, mean, requests/s,
//     server CPU;
//     every answer must be 200 with the expected number of rows (checked against the
//     database), the deep page's references exactly the database's rows after the cursor;
//   - the first page under autocannon (10 connections, 10 s);
//   - sign-ins: N accounts signing in concurrently in a loop (then wrong passwords for
//     unknown addresses), sign-ins/s, p50/p99 and server CPU per sign-in;
//   - the server's peak RSS (VmHWM) after the inbox runs and after the sign-ins.
// A wrong answer fails the run (exit 1); a missed 50 ms target is reported, not fatal.
//
//   node bench/console.ts          (npm run bench:console)
//   BENCH_DATABASES=sqlite,postgres   BENCH_INQUIRIES=100000   BENCH_REQUESTS=200
//   BENCH_WARMUP_REQUESTS=20   BENCH_DURATION=10 (autocannon and sign-in, seconds)
//   BENCH_CONNECTIONS=10   BENCH_SIGNIN_ACCOUNTS=20   BENCH_WRONG_SECONDS=5 (0 skips)
//   BENCH_ENTRY=src (type stripping instead of dist/)   BENCH_NODE_FLAGS="..."
//   BENCH_EXPLAIN=1   also prints each inbox query's plan (EXPLAIN QUERY PLAN on SQLite,
//                     EXPLAIN ANALYZE on PostgreSQL) and its time in this process
//   BENCH_KEEP_SCHEMA=1   keeps the PostgreSQL schema (its name is printed) for trying queries by hand
//   BENCH_SHORT_MISS_REQUESTS=50   requests for the two-character term matching nothing
//                     (it reads every row; 0 skips it)
//   TEST_PG_URL=postgres://...   (default postgres://postgres@127.0.0.1:5432/test)
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { CompiledQuery, sql, type Kysely, type KyselyPlugin, type RootOperationNode } from 'kysely';
import pg from 'pg';
import { ensureBuilt } from '../scripts/build.mjs';
import { addAccount } from '../src/auth/accounts.ts';
import { decodeCursor, encodeCursor } from '../src/console/inbox.ts';
import { inboxPage, type InboxCursor, type InboxFilters, type TextSearch } from '../src/inquiries/store.ts';
import { inboxTextSearch } from '../src/inquiries/text-search.ts';
import { loadConfig, projectRoot } from '../src/config.ts';
import { Signer } from '../src/http/signing.ts';
import { subjectKey } from '../src/people/subject.ts';
import { openStorage, type Storage } from '../src/storage/db.ts';
import { insertChunks } from '../src/storage/insert-chunks.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';
import type { Database } from '../src/storage/types.ts';
import { freePort } from '../test/support/free-port.ts';
import { cpuMs, serveEnv, statusKb, waitHealthy } from './proc.ts';

function setting(name: string, fallback: number, min = 1): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number >= ${min}`);
  return value;
}
const INQUIRIES = setting('BENCH_INQUIRIES', 100_000, 100);
const REQUESTS = setting('BENCH_REQUESTS', 200);
const WARMUP = setting('BENCH_WARMUP_REQUESTS', 20, 0);
const DURATION = setting('BENCH_DURATION', 10);
const CONNECTIONS = setting('BENCH_CONNECTIONS', 10);
const ACCOUNTS = setting('BENCH_SIGNIN_ACCOUNTS', 20);
const WRONG_SECONDS = setting('BENCH_WRONG_SECONDS', 5, 0);
const TARGET_MS = 50;
const databases = (process.env.BENCH_DATABASES ?? 'sqlite,postgres').split(',').map((s) => s.trim());
const PG_BASE = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECRET = randomBytes(32).toString('hex');
const PASSWORD = 'lantern orbit velvet harbour 42';
const node = join(projectRoot, 'node_modules', '.bin', 'node');

// Children die with us, however we leave; benchmark schemas are dropped (at most 3 s).
const children = new Set<ChildProcess>();
const cleanups: Array<() => void> = [];
const pgDrops: Array<() => Promise<void>> = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  for (const f of cleanups) f();
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    for (const c of children) c.kill('SIGKILL');
    setTimeout(() => process.exit(130), 3000).unref();
    void Promise.allSettled(pgDrops.map((drop) => drop())).finally(() => process.exit(130));
  });
}

// --- process figures (from /proc, as bench/intake.ts reads them) ---------------------



/** Resets VmHWM to the current RSS (Linux 4.0+), so each phase's peak can be read alone. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

// --- seed data ------------------------------------------------------------------------

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

const FIRST = ['Ada', 'Aoife', 'Björn', 'Carmen', 'Chen', 'Chiara', 'Dara', 'David', 'Elena', 'Émile', 'Fatima', 'Finn', 'Grace', 'Hannah', 'Hiroshi', 'Ines', 'Ivan', 'Jakub', 'James', 'José', 'Julia', 'Kai', 'Karin', 'Laura', 'Liam', 'Lucía', 'Łukasz', 'Maeve', 'Marco', 'Maria', 'Mateo', 'Mei', 'Mohammed', 'Nadia', 'Niamh', 'Noah', 'Olga', 'Omar', 'Paul', 'Priya', 'Rachel', 'Rafael', 'Ruth', 'Sami', 'Sarah', 'Seán', 'Siobhán', 'Sofia', 'Sven', 'Tomás', 'Wei', 'Yara', 'Zoë'];
const LAST = ['Ahmed', 'Andersson', 'Baker', 'Bianchi', 'Brennan', 'Byrne', 'Costa', 'Dubois', 'Eriksen', 'Fernández', 'Fischer', 'Gallagher', 'García', 'Hansen', 'Hughes', 'Ivanova', 'Jansen', 'Kavanagh', 'Kowalski', 'Kumar', 'Larsen', 'Lefèvre', 'Li', 'López', 'Martin', 'Meyer', 'Moreau', 'Murphy', "O'Brien", 'Ó Súilleabháin', 'Novak', 'Nowak', 'Okafor', 'Patel', 'Peeters', 'Rossi', 'Santos', 'Schmidt', 'Silva', 'Smith', 'Sullivan', 'Tanaka', 'Van Dijk', 'Walsh', 'Wang', 'Weber', 'Wiśniewski', 'Yilmaz', 'Zhang'];
// 20 x 15 = 300 company stems, so one stem is in about 1 of 300 inquiries.
const STEM_A = ['Ash', 'Bright', 'Cedar', 'Clear', 'Copper', 'Crown', 'Elm', 'Fair', 'Glen', 'Granite', 'Haw', 'Iron', 'Larch', 'Maple', 'North', 'Oak', 'Red', 'Silver', 'Stone', 'West'];
const STEM_B = ['bridge', 'brook', 'field', 'ford', 'gate', 'haven', 'hill', 'holm', 'mere', 'mont', 'ridge', 'stead', 'vale', 'well', 'wick'];
const INDUSTRY = ['Logistics', 'Property Group', 'Facilities Management', 'Retail', 'Hotels', 'Healthcare', 'Estates', 'Manufacturing', 'Data Centres', 'Schools Trust', 'Cold Storage', 'Offices', 'Leisure', 'Housing Association', 'Holdings Ltd', 'GmbH', 'S.A.', 'B.V.'];
const ROLES = ['Head of Facilities', 'Facilities Manager', 'Energy Manager', 'Operations Director', 'Sustainability Lead', 'Property Manager', 'CFO', 'Procurement Officer', 'Estates Director', 'IT Manager', 'Building Services Engineer', 'Owner'];
const COUNTRIES = ['GB', 'GB', 'GB', 'IE', 'IE', 'DE', 'DE', 'FR', 'NL', 'US', 'US', 'ES', 'IT', 'SE', 'PL', 'BE', 'DK', 'PT', 'AT', 'CH', 'NO', 'FI', 'CZ', 'CA', 'AU'];
const FREE_MAIL = ['gmail.com', 'outlook.com', 'yahoo.com', 'hotmail.com', 'icloud.com', 'proton.me', 'gmx.de', 'web.de'];
const OUTCOMES = ['demo booked', 'not a fit', 'no answer', 'pilot agreed', 'went with a competitor', 'budget next year'];
const CONTEXTS = ['About 120 sites in three countries.', 'Two office buildings, one warehouse; interested in lighting retrofits.', 'We run 40 schools and want to cut energy use.', 'Cold storage at four sites; looking at sensors.', 'Just a question about pricing.', 'Retail chain, 300 stores, mixed lighting estate.'];
const REF_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The search that matches a few hundred rows (one stem) and one that matches none. */
const SEARCH_HIT = 'Oakridge';
const SEARCH_MISS = 'Quillonmarsh';
/** A second stem part, in about 1 of 15 companies and their addresses. */
const SEARCH_COMMON = 'ridge';
/** Under three characters: no trigram index helps; common, and matching nothing. */
const SEARCH_SHORT = 'li';
const SEARCH_SHORT_MISS = 'qj';
const SHORT_MISS_REQUESTS = setting('BENCH_SHORT_MISS_REQUESTS', 50, 0);
const FILTER = { status: 'new', country: 'DE' } as const;

const ascii = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/[^a-z]/g, '');
const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)];

/**
 * People and inquiries straight into the tables, in chunks that fit one statement, in
 * transactions of about 10,000 inquiries. About 8% of inquiries come from someone who
 * wrote before. Subject keys are the real keyed hashes under the server's key, so the
 * service's start-up re-keying has nothing to do.
 */
async function seed(db: Kysely<Database>, signer: Signer, n: number): Promise<void> {
  const r = prng(8);
  const now = Date.now();
  const YEAR = 365 * 86_400_000;
  const peopleCount = Math.max(1, Math.round(n * 0.92));
  const refs = new Set<string>();
  const personIds: string[] = [];
  const people: Database['person'][] = [];
  const inquiries: Array<Record<string, unknown>> = [];
  const STEP = 10_000;
  for (let start = 0; start < n; start += STEP) {
    people.length = 0;
    inquiries.length = 0;
    for (let i = start; i < Math.min(n, start + STEP); i++) {
      const createdMs = now - Math.floor(r() * YEAR);
      const created = new Date(createdMs).toISOString();
      const stem = pick(r, STEM_A) + pick(r, STEM_B);
      const company = `${stem} ${pick(r, INDUSTRY)}`;
      let personId: string;
      if (i < peopleCount) {
        const first = pick(r, FIRST);
        const last = pick(r, LAST);
        const free = r() < 0.25;
        const domain = free ? pick(r, FREE_MAIL) : `${stem.toLowerCase()}.example.com`;
        const email = `${ascii(first)}.${ascii(last)}${i}@${domain}`;
        personId = randomUUID();
        personIds.push(personId);
        people.push({ id: personId, subject_key: subjectKey(signer, email), email, name: `${first} ${last}`, created_at: created, updated_at: created });
      } else {
        personId = personIds[Math.floor(r() * personIds.length)];
      }
      let reference: string;
      do {
        reference = 'LT-' + Array.from({ length: 8 }, () => REF_ALPHABET[Math.floor(r() * 32)]).join('');
      } while (refs.has(reference));
      refs.add(reference);
      const roll = r();
      const status = roll < 0.5 ? 'new' : roll < 0.8 ? 'in_conversation' : 'closed';
      const activity = status === 'new' ? null : new Date(Math.min(now, createdMs + Math.floor(r() * 20 * 86_400_000))).toISOString();
      const demo = r() < 0.7;
      inquiries.push({
        id: randomUUID(),
        reference,
        form: demo ? 'demo' : 'contact',
        person_id: personId,
        company,
        role: pick(r, ROLES),
        country: pick(r, COUNTRIES),
        context: r() < 0.9 ? pick(r, CONTEXTS) : null,
        // The free-mail flag follows the address of the person who wrote first.
        free_mail: 0,
        notice_version: '2026-11-25',
        submission_key: createHash('sha256').update(`bench:${i}`).digest('hex'),
        created_at: created,
        delete_after: new Date(createdMs + 2 * YEAR).toISOString(),
        status,
        outcome: status === 'closed' ? pick(r, OUTCOMES) : null,
        closed_at: status === 'closed' ? activity : null,
        last_activity_at: activity,
      });
    }
    const domainOf = new Map(people.map((p) => [p.id, p.email.slice(p.email.indexOf('@') + 1)]));
    for (const q of inquiries) q.free_mail = FREE_MAIL.includes(domainOf.get(q.person_id as string) ?? '') ? 1 : 0;
    await db.transaction().execute(async (trx) => {
      if (people.length) for (const chunk of insertChunks(people, 6)) await trx.insertInto('person').values(chunk).execute();
      for (const chunk of insertChunks(inquiries, 18)) await trx.insertInto('inquiry').values(chunk as never).execute();
    });
  }
  // Later inquiries' flag, for people who wrote before: from their stored address.
  await sql`update inquiry set free_mail = 1 where free_mail = 0 and person_id in (select id from person where ${sql.join(FREE_MAIL.map((d) => sql`email like ${'%@' + d}`), sql` or `)})`.execute(db);
}

// --- the service ----------------------------------------------------------------------


function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // A clean environment: nothing from the caller's shell may change what is measured.
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k]) env[k] = process.env[k];
  return { ...env, ...serveEnv, ...extra };
}

// The sign-in throttle counts every attempt per client address (SIGN_IN_MAX_PER_ADDRESS,
// default 30 per 15 minutes), and all our clients are 127.0.0.1: the benchmark raises that
// limit to its maximum. Failures per account (SIGN_IN_MAX_FAILURES) keep their default:
// correct sign-ins clear them, and the wrong-password run uses a new address each time.
const serverEnv = { SECRET_KEY: SECRET, LOG_LEVEL: 'warn', SIGN_IN_MAX_PER_ADDRESS: '100000' };
const serveFlags = String(process.env.BENCH_NODE_FLAGS ?? JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')).config?.serve_node_flags ?? '').split(/\s+/).filter(Boolean);
// What `npm start` runs: scripts/serve.mjs serving dist/main.js (built here first if stale).
const entry = process.env.BENCH_ENTRY === 'src' ? 'src/main.ts' : (ensureBuilt(), 'scripts/serve.mjs');
const serverScript = [...serveFlags, entry, 'serve'];

const sameOrigin = (url: string) => ({ 'content-type': 'application/x-www-form-urlencoded', origin: url, 'sec-fetch-site': 'same-origin' });

function post(url: string, path: string, fields: Record<string, string>): Promise<Response> {
  return fetch(`${url}${path}`, { method: 'POST', redirect: 'manual', headers: sameOrigin(url), body: new URLSearchParams(fields).toString() });
}

const ROW = /<th scope="row"><a href="\/console\/inquiries\/[^"]+">(LT-[A-Z0-9]+)<\/a>/g;
const references = (body: string) => [...body.matchAll(ROW)].map((m) => m[1]);
const rowCount = (body: string) => body.split('<th scope="row"><a href="/console/inquiries/').length - 1;

// --- measuring ------------------------------------------------------------------------

interface Latencies {
  label: string;
  n: number;
  p50: number;
  p99: number;
  mean: number;
  perSec: number;
  /** Server CPU per request, ms. */
  cpuMs: number;
  bad: number;
  note: string;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] : NaN;
}

function summarise(label: string, times: number[], wallMs: number, cpu: number, bad: number, note: string): Latencies {
  const sorted = [...times].sort((a, b) => a - b);
  return { label, n: times.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), mean: times.reduce((a, b) => a + b, 0) / times.length, perSec: (times.length * 1000) / wallMs, cpuMs: cpu / times.length, bad, note };
}

interface Server {
  url: string;
  pid: number;
  cookie: string;
}

/** `REQUESTS` GETs one after another (after `WARMUP`), each checked: 200 and `expected` rows. */
async function sequential(server: Server, label: string, path: string, expected: number, exact: string[] | undefined, requests: number): Promise<Latencies> {
  let bad = 0;
  const problems = new Set<string>();
  const one = async (): Promise<number> => {
    const t0 = performance.now();
    const res = await fetch(`${server.url}${path}`, { redirect: 'manual', headers: { cookie: server.cookie } });
    const body = await res.text();
    const ms = performance.now() - t0;
    const rows = rowCount(body);
    if (res.status !== 200 || rows !== expected || (expected === 0 && !body.includes('No inquiries match these filters.'))) {
      bad++;
      problems.add(`status ${res.status}, ${rows} rows (expected 200, ${expected})`);
    } else if (exact && references(body).join() !== exact.join()) {
      bad++;
      problems.add('the rows are not the database rows after the cursor');
    }
    return ms;
  };
  for (let i = 0; i < Math.min(WARMUP, requests); i++) await one();
  const times: number[] = [];
  const cpu0 = cpuMs(server.pid);
  const t0 = performance.now();
  for (let i = 0; i < requests; i++) times.push(await one());
  const wall = performance.now() - t0;
  const cpu = cpuMs(server.pid) - cpu0;
  if (problems.size) console.log(`  ${label}: WRONG ANSWERS: ${[...problems].join('; ')}`);
  return summarise(label, times, wall, cpu, bad, `${expected} rows checked on each answer${exact ? ', references equal to the database rows' : ''}`);
}

async function concurrent(server: Server, path: string, expected: number): Promise<Latencies & { errors: number }> {
  let bad = 0;
  const cpu0 = cpuMs(server.pid);
  const result = await new Promise<autocannon.Result>((resolve, reject) =>
    autocannon(
      {
        url: server.url,
        connections: CONNECTIONS,
        duration: DURATION,
        requests: [
          {
            method: 'GET',
            path,
            headers: { cookie: server.cookie },
            onResponse: (status, body) => {
              if (status !== 200 || rowCount(body) !== expected) bad++;
            },
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    ),
  );
  const cpu = cpuMs(server.pid) - cpu0;
  const answers = result.requests.total;
  return {
    label: `first page, ${CONNECTIONS} connections ${DURATION} s`,
    n: answers,
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: result.latency.average,
    perSec: answers / (result.duration || DURATION),
    cpuMs: answers ? cpu / answers : 0,
    bad: bad + result.non2xx,
    errors: result.errors + result.timeouts,
    note: `autocannon; ${expected} rows checked on each answer`,
  };
}

/** Each account signs in again and again until the time is up; every answer must be 303 with a session cookie. */
async function signIns(server: Server, emails: string[], seconds: number): Promise<Latencies & { throttled: number }> {
  const times: number[] = [];
  let bad = 0;
  let throttled = 0;
  const end = performance.now() + seconds * 1000;
  const cpu0 = cpuMs(server.pid);
  const t0 = performance.now();
  await Promise.all(
    emails.map(async (email) => {
      while (performance.now() < end) {
        const s = performance.now();
        const res = await post(server.url, '/console/sign-in', { email, password: PASSWORD, code: '' });
        await res.arrayBuffer();
        times.push(performance.now() - s);
        if (res.status === 429) throttled++;
        if (res.status !== 303 || !res.headers.getSetCookie().some((c) => c.startsWith('lt_console='))) bad++;
      }
    }),
  );
  const wall = performance.now() - t0;
  const cpu = cpuMs(server.pid) - cpu0;
  return { ...summarise(`sign-in, ${emails.length} accounts at once`, times, wall, cpu, bad, '303 with a session cookie checked on each answer'), throttled };
}

/** Wrong passwords, each for a new unknown address (argon2 runs against the dummy hash): 401 each. */
async function wrongPasswords(server: Server, clients: number, seconds: number): Promise<Latencies> {
  const times: number[] = [];
  let bad = 0;
  let seq = 0;
  const end = performance.now() + seconds * 1000;
  const cpu0 = cpuMs(server.pid);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        const res = await post(server.url, '/console/sign-in', { email: `nobody.${++seq}@bench.example.com`, password: 'not the password at all', code: '' });
        await res.arrayBuffer();
        times.push(performance.now() - s);
        if (res.status !== 401) bad++;
      }
    }),
  );
  const wall = performance.now() - t0;
  return summarise(`wrong password, ${clients} clients at once`, times, wall, cpuMs(server.pid) - cpu0, bad, '401 checked on each answer (unknown addresses)');
}

// --- one database ---------------------------------------------------------------------

interface Target {
  db: 'SQLite' | 'PostgreSQL';
  databaseUrl: string;
}

interface Outcome {
  target: Target;
  seedSeconds: number;
  matches: { hit: number; filter: number };
  rows: Latencies[];
  concurrent: Latencies & { errors: number };
  signIn: Latencies & { throttled: number };
  wrong: Latencies | undefined;
  argon2: string;
  /** VmHWM in MB: from the start through the accounts' set-up, during the inbox runs, during the sign-ins. */
  hwm: { setup: number; inbox: number; signIn: number; peak: number; phased: boolean };
  idleMb: number;
}

interface Plan {
  deep: { cursor: string; references: string[]; position: number };
  rare: string;
  searches: { common: number; rare: number; short: number };
  expected: { first: number; hit: number; hitRows: number; filter: number; filterRows: number };
  emails: string[];
  setupTokens: string[];
}

async function prepare(storage: Storage, config: ReturnType<typeof loadConfig>): Promise<Plan> {
  const db = storage.db;
  const like = (text: string) => `%${text.toLowerCase()}%`;
  const countText = async (text: string) =>
    Number(
      (
        await sql<{ n: number | string }>`select count(*) as n from inquiry i join person p on p.id = i.person_id
          where lower(p.name) like ${like(text)} or lower(i.company) like ${like(text)} or lower(p.email) like ${like(text)}`.execute(db)
      ).rows[0].n,
    );
  const hit = await countText(SEARCH_HIT);
  const miss = await countText(SEARCH_MISS);
  if (miss !== 0) throw new Error(`the no-match search ${SEARCH_MISS} matches ${miss} rows`);
  const shortMiss = await countText(SEARCH_SHORT_MISS);
  if (shortMiss !== 0) throw new Error(`the no-match search ${SEARCH_SHORT_MISS} matches ${shortMiss} rows`);
  // The rare term: the local part of one address in the middle of the people, unique by its number.
  const someone = await db.selectFrom('person').select('email').orderBy('email').offset(Math.floor(INQUIRIES / 3)).limit(1).executeTakeFirstOrThrow();
  const rare = someone.email.slice(0, someone.email.indexOf('@'));
  const searches = { common: await countText(SEARCH_COMMON), rare: await countText(rare), short: await countText(SEARCH_SHORT) };
  const filter = Number((await db.selectFrom('inquiry').select((eb) => eb.fn.countAll().as('n')).where('status', '=', FILTER.status).where('country', '=', FILTER.country).executeTakeFirstOrThrow()).n);
  const total = Number((await db.selectFrom('inquiry').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  // A cursor about 90% down the list, and the 50 rows that must follow it.
  const position = Math.floor(total * 0.9);
  const ordered = await db.selectFrom('inquiry').select(['id', 'created_at', 'reference']).orderBy('created_at', 'desc').orderBy('id', 'desc').offset(position).limit(51).execute();
  const cursor = encodeCursor({ createdAt: ordered[0].created_at, id: ordered[0].id });
  const accounts = [];
  const deps = { storage, config, now: () => new Date(), mailQueued: () => undefined };
  for (let k = 0; k < ACCOUNTS; k++) accounts.push(await addAccount(deps, { email: `sales.bench${k}@lumetrax.example.com`, role: 'sales' }, { kind: 'cli' }));
  return {
    deep: { cursor, references: ordered.slice(1).map((r) => r.reference), position },
    rare,
    searches,
    expected: { first: Math.min(50, total), hit, hitRows: Math.min(50, hit), filter, filterRows: Math.min(50, filter) },
    emails: accounts.map((_a, k) => `sales.bench${k}@lumetrax.example.com`),
    setupTokens: accounts.map((a) => new URL(a.url).searchParams.get('token')!),
  };
}

/**
 * The inbox query as src/inquiries/store.ts builds it (captured on its way to the
 * database, then run under EXPLAIN), and its median time when run directly here.
 */
async function explainInbox(storage: Storage, label: string, filters: InboxFilters, after: InboxCursor | undefined, search: TextSearch = 'trigram'): Promise<void> {
  let captured: RootOperationNode | undefined;
  const capture: KyselyPlugin = {
    transformQuery: (args) => (captured = args.node),
    transformResult: async (args) => args.result,
  };
  const times: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t = performance.now();
    await inboxPage(storage.db.withPlugin(capture), filters, after, 51, { search });
    times.push(performance.now() - t);
  }
  const compiled = storage.db.getExecutor().compileQuery(captured!, { queryId: 'explain' });
  const prefix = storage.kind === 'sqlite' ? 'explain query plan ' : 'explain (analyze, buffers, costs off) ';
  const plan = await storage.db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(prefix + compiled.sql, [...compiled.parameters]));
  const lines = plan.rows.map((r) => String(r['QUERY PLAN'] ?? r.detail ?? JSON.stringify(r)));
  console.log(`    ${label}: median ${times.sort((a, b) => a - b)[7].toFixed(1)} ms in-process\n      ${lines.join('\n      ')}`);
}

/**
 * The deep page with its cursor written as a row value, `(created_at, id) < (?, ?)`, which
 * both databases can use as a range on the (created_at, id) index: the query change this
 * benchmark proposes for inboxPage, timed and explained here beside the current query.
 */
async function explainRowValueCursor(storage: Storage, after: InboxCursor): Promise<void> {
  const query = storage.db
    .selectFrom('inquiry as i')
    .innerJoin('person as p', 'p.id', 'i.person_id')
    .select(['i.id', 'i.reference', 'i.form', 'i.status', 'i.company', 'i.country', 'i.free_mail', 'i.created_at', 'i.last_activity_at', 'i.person_id', 'p.name', 'p.email'])
    .where((eb) => eb(eb.refTuple('i.created_at', 'i.id'), '<', eb.tuple(after.createdAt, after.id)))
    .orderBy('i.created_at', 'desc')
    .orderBy('i.id', 'desc')
    .limit(51);
  const times: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t = performance.now();
    await query.execute();
    times.push(performance.now() - t);
  }
  const compiled = query.compile();
  const prefix = storage.kind === 'sqlite' ? 'explain query plan ' : 'explain (analyze, buffers, costs off) ';
  const plan = await storage.db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(prefix + compiled.sql, [...compiled.parameters]));
  const lines = plan.rows.map((r) => String(r['QUERY PLAN'] ?? r.detail ?? JSON.stringify(r)));
  console.log(`    deep page, cursor as a row value (proposed): median ${times.sort((a, b) => a - b)[7].toFixed(1)} ms in-process\n      ${lines.join('\n      ')}`);
}

async function runTarget(target: Target): Promise<Outcome> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = { ...serverEnv, DATABASE_URL: target.databaseUrl, PORT: String(port), HOST: '127.0.0.1' };
  const config = loadConfig(childEnv(env));
  const signer = new Signer(config.secretKey);

  // Migrate and seed here, through the project's own storage and migrations.
  const t0 = performance.now();
  const storage = openStorage(config.database, { sqliteSynchronous: 'NORMAL', pgPoolSize: 2 });
  let plan: Plan;
  try {
    await migrateToLatest(storage.db);
    await seed(storage.db, signer, INQUIRIES);
    // Fresh statistics, as a database that has grown to this size would have; on
    // PostgreSQL a VACUUM too, as autovacuum would have run after so many inserts: it also
    // moves the pg_trgm GIN indexes' pending entries (fastupdate) into the index proper.
    await sql.raw(storage.kind === 'postgres' ? 'vacuum analyze' : 'analyze').execute(storage.db);
    plan = await prepare(storage, config);
    if (process.env.BENCH_EXPLAIN === '1') {
      console.log(`  ${target.db}: inbox query plans`);
      await explainInbox(storage, 'first page', {}, undefined);
      await explainInbox(storage, 'deep page', {}, decodeCursor(plan.deep.cursor));
      await explainRowValueCursor(storage, decodeCursor(plan.deep.cursor)!);
      const search = await inboxTextSearch(storage);
      console.log(`    text search: ${search === 'trigram' ? 'trigram indexes' : 'scan (no trigram indexes)'}`);
      for (const text of [SEARCH_HIT, SEARCH_COMMON, plan.rare, SEARCH_MISS, SEARCH_SHORT, SEARCH_SHORT_MISS]) await explainInbox(storage, `search ${text}`, { text }, undefined, search);
      await explainInbox(storage, 'status + country', { ...FILTER }, undefined);
    }
  } finally {
    await storage.close();
  }
  const seedSeconds = (performance.now() - t0) / 1000;
  console.log(`  ${target.db}: migrated and seeded ${INQUIRIES.toLocaleString('en')} inquiries in ${seedSeconds.toFixed(1)} s; "${SEARCH_HIT}" matches ${plan.expected.hit} rows, status=${FILTER.status}&country=${FILTER.country} ${plan.expected.filter}`);

  const child = spawn(node, serverScript, { cwd: projectRoot, env: childEnv(env), stdio: ['ignore', 'ignore', 'inherit'] });
  children.add(child);
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await waitHealthy(url, child);
    const pid = child.pid!;
    const idleMb = statusKb(pid, 'VmRSS') / 1024;

    // Passwords set on the set-up page, as people do; then the first account signs in.
    // The other accounts are set up only before the sign-in runs: argon2id holds its memory
    // cost for each hash in flight, and the inbox runs' peak RSS should be the inbox's.
    const setUp = (tokens: string[]) => Promise.all(
      tokens.map(async (token) => {
        const page = await fetch(`${url}/console/setup?token=${encodeURIComponent(token)}`);
        await page.arrayBuffer();
        if (page.status !== 200) throw new Error(`set-up page: ${page.status}`);
        const res = await post(url, '/console/setup', { token, password: PASSWORD, confirm: PASSWORD, code: '' });
        const body = await res.text();
        if (res.status !== 200 || !body.includes('Your account is ready')) throw new Error(`set-up: ${res.status}`);
      }),
    );
    await setUp(plan.setupTokens.slice(0, 1));
    const signed = await post(url, '/console/sign-in', { email: plan.emails[0], password: PASSWORD, code: '' });
    const cookie = signed.headers.getSetCookie().find((c) => c.startsWith('lt_console='))?.split(';')[0];
    if (signed.status !== 303 || !cookie) throw new Error(`sign-in: ${signed.status}`);
    const server: Server = { url, pid, cookie };
    // Peak RSS per phase (VmHWM reset at each phase's start).
    const hwmSetup = statusKb(pid, 'VmHWM') / 1024;
    const phased = resetPeak(pid);

    // The inbox's own next-page links work (followed three times, not timed).
    let next = '/console/inquiries';
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const body = await (await fetch(`${url}${next}`, { headers: { cookie } })).text();
      for (const r of references(body)) seen.add(r);
      const link = /href="(\/console\/inquiries\?[^"]+)" rel="next"/.exec(body)?.[1].replace(/&amp;/g, '&');
      if (!link) break;
      next = link;
    }
    if (seen.size !== Math.min(200, INQUIRIES)) throw new Error(`following next-page links gave ${seen.size} distinct rows, not ${Math.min(200, INQUIRIES)}`);

    const rows: Latencies[] = [];
    const e = plan.expected;
    const deepRows = plan.deep.references.length;
    const q = (text: string) => `/console/inquiries?q=${encodeURIComponent(text)}`;
    const s = plan.searches;
    // [label, path, expected rows, exact references, requests]
    const runs: Array<[string, string, number, string[] | undefined, number]> = [
      ['first page', '/console/inquiries', e.first, undefined, REQUESTS],
      [`deep page (row ${plan.deep.position.toLocaleString('en')})`, `/console/inquiries?after=${plan.deep.cursor}`, Math.min(50, deepRows), plan.deep.references.slice(0, 50), REQUESTS],
      [`search "${SEARCH_HIT}" (${e.hit} rows)`, q(SEARCH_HIT), e.hitRows, undefined, REQUESTS],
      [`search common "${SEARCH_COMMON}" (${s.common} rows)`, q(SEARCH_COMMON), Math.min(50, s.common), undefined, REQUESTS],
      [`search rare "${plan.rare}" (${s.rare} rows)`, q(plan.rare), Math.min(50, s.rare), undefined, REQUESTS],
      [`search "${SEARCH_MISS}" (no rows)`, q(SEARCH_MISS), 0, undefined, REQUESTS],
      [`search short "${SEARCH_SHORT}" (${s.short} rows)`, q(SEARCH_SHORT), Math.min(50, s.short), undefined, REQUESTS],
      [`search short "${SEARCH_SHORT_MISS}" (no rows)`, q(SEARCH_SHORT_MISS), 0, undefined, SHORT_MISS_REQUESTS],
      [`status=${FILTER.status}, country=${FILTER.country} (${e.filter} rows)`, `/console/inquiries?status=${FILTER.status}&country=${FILTER.country}`, e.filterRows, undefined, REQUESTS],
    ];
    for (const [label, path, expected, exact, requests] of runs) {
      if (requests === 0) continue;
      const r = await sequential(server, label, path, expected, exact, requests);
      rows.push(r);
      detail(target.db, r);
    }
    const conc = await concurrent(server, '/console/inquiries', e.first);
    detail(target.db, conc, `, ${conc.errors} errors/timeouts`);
    const hwmInbox = statusKb(pid, 'VmHWM') / 1024;
    if (phased) resetPeak(pid);

    await setUp(plan.setupTokens.slice(1));
    const signIn = await signIns(server, plan.emails, DURATION);
    detail(target.db, signIn, `, ${signIn.throttled} throttled (429)`);
    const wrong = WRONG_SECONDS > 0 ? await wrongPasswords(server, plan.emails.length, WRONG_SECONDS) : undefined;
    if (wrong) detail(target.db, wrong);
    const hwmSignIn = statusKb(pid, 'VmHWM') / 1024;
    const hwm = { setup: hwmSetup, inbox: hwmInbox, signIn: hwmSignIn, peak: Math.max(hwmSetup, hwmInbox, hwmSignIn), phased };
    const argon2 = `argon2id m=${config.argon2MemoryKib} KiB, t=${config.argon2Passes}, p=${config.argon2Parallelism}`;
    console.log(`  ${target.db}: ${argon2}; ${peakText(hwm, idleMb)}`);

    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    children.delete(child);
    return { target, seedSeconds, matches: { hit: e.hit, filter: e.filter }, rows, concurrent: conc, signIn, wrong, argon2, hwm, idleMb };
  } finally {
    if (children.has(child)) {
      child.kill('SIGKILL');
      await exited;
      children.delete(child);
    }
  }
}

function peakText(h: Outcome['hwm'], idleMb: number): string {
  const f = (v: number) => `${v.toFixed(0)} MB`;
  return h.phased
    ? `server peak RSS (VmHWM) ${f(h.peak)}: ${f(h.setup)} through start-up, one set-up and sign-in, ${f(h.inbox)} during the inbox runs, ${f(h.signIn)} during the other accounts' set-up and the sign-ins (idle ${f(idleMb)})`
    : `server peak RSS (VmHWM) ${f(h.peak)}: ${f(h.inbox)} by the end of the inbox runs, ${f(h.signIn)} by the end of the sign-ins (cumulative: /proc/PID/clear_refs not writable; idle ${f(idleMb)})`;
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
/** The runs issue 8's 50 ms target is about: the pages and every search. */
const targeted = (r: Latencies) => !r.label.startsWith('status=');

function detail(db: string, r: Latencies, extra = ''): void {
  console.log(`  ${db} ${r.label}: ${r.n} answers, p50 ${ms(r.p50)} ms, p99 ${ms(r.p99)} ms, mean ${ms(r.mean)} ms, ${r.perSec.toFixed(1)}/s, server CPU ${r.cpuMs.toFixed(1)} ms each; ${r.bad} wrong answers (${r.note})${extra}`);
}

// --- PostgreSQL schema ----------------------------------------------------------------

async function withPg<T>(url: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1500 });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

async function postgresTarget(): Promise<Target | string> {
  const schema = `bench_console_${randomBytes(4).toString('hex')}`;
  try {
    await withPg(PG_BASE, (c) => c.query(`create schema ${schema}`));
  } catch (error) {
    return `PostgreSQL not reachable at ${PG_BASE} (${(error as Error).message}): PostgreSQL runs skipped`;
  }
  if (process.env.BENCH_KEEP_SCHEMA === '1') console.log(`  PostgreSQL schema ${schema} is kept (BENCH_KEEP_SCHEMA=1): drop it with \`drop schema ${schema} cascade\``);
  else pgDrops.push(() => withPg(PG_BASE, async (c) => void (await c.query(`drop schema if exists ${schema} cascade`))));
  return { db: 'PostgreSQL', databaseUrl: `${PG_BASE}?options=${encodeURIComponent(`-c search_path=${schema}`)}` };
}

// --- main -----------------------------------------------------------------------------

console.log(
  `Console benchmark: ${INQUIRIES.toLocaleString('en')} inquiries; ${REQUESTS} sequential requests per page after ${WARMUP} warm-up; ` +
    `autocannon ${CONNECTIONS} connections ${DURATION} s; ${ACCOUNTS} accounts signing in for ${DURATION} s; Node ${process.versions.node}, ${cpus().length} cores`,
);
console.log(`server: node ${serverScript.join(' ')} (SIGN_IN_MAX_PER_ADDRESS=100000, LOG_LEVEL=warn)\n`);
const outcomes: Outcome[] = [];
let failed = false;
try {
  const targets: Target[] = [];
  if (databases.includes('sqlite')) {
    const dir = mkdtempSync(join(tmpdir(), 'lumetrax-bench-console-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    targets.push({ db: 'SQLite', databaseUrl: `sqlite:${join(dir, 'console.db')}` });
  }
  if (databases.includes('postgres')) {
    const t = await postgresTarget();
    if (typeof t === 'string') console.log(t);
    else targets.push(t);
  }
  for (const t of targets) {
    try {
      outcomes.push(await runTarget(t));
    } catch (error) {
      failed = true;
      console.error(`  ${t.db}: the run failed: ${(error as Error).stack ?? error}`);
    }
  }
} finally {
  for (const drop of pgDrops) await drop().catch((e) => console.error(`could not drop the benchmark schema: ${(e as Error).message}`));
}

console.log(`\nSummary (${INQUIRIES.toLocaleString('en')} inquiries; latency in ms measured by the client over loopback HTTP; CPU = server CPU ms per request)`);
console.log(['database'.padEnd(10), 'run'.padEnd(42), 'p50'.padStart(7), 'p99'.padStart(7), 'mean'.padStart(7), 'req/s'.padStart(7), 'CPU'.padStart(6), 'wrong'.padStart(6), 'target'.padStart(7)].join(' '));
for (const o of outcomes) {
  const all: Array<[Latencies, boolean]> = [...o.rows.map((r) => [r, targeted(r)] as [Latencies, boolean]), [o.concurrent, false], [o.signIn, false], ...(o.wrong ? [[o.wrong, false] as [Latencies, boolean]] : [])];
  for (const [r, targeted] of all) {
    const verdict = targeted ? (r.p50 < TARGET_MS ? 'PASS' : 'FAIL') : '';
    console.log([o.target.db.padEnd(10), r.label.slice(0, 42).padEnd(42), ms(r.p50).padStart(7), ms(r.p99).padStart(7), ms(r.mean).padStart(7), r.perSec.toFixed(1).padStart(7), r.cpuMs.toFixed(1).padStart(6), String(r.bad).padStart(6), verdict.padStart(7)].join(' '));
    failed ||= r.bad > 0;
  }
  failed ||= o.concurrent.errors > 0;
  console.log(`${o.target.db.padEnd(10)} ${peakText(o.hwm, o.idleMb)}; ${o.argon2}`);
}
console.log(`\nTargets (issue 8): p50 < ${TARGET_MS} ms for the first page, a deep page and text search, on each database`);
for (const o of outcomes) {
  for (const r of o.rows.filter(targeted)) console.log(`  ${r.p50 < TARGET_MS ? 'PASS' : 'FAIL'}  ${o.target.db} ${r.label}: p50 ${ms(r.p50)} ms`);
}
if (failed) console.log('\nSome answers were wrong or a run failed (see above).');
process.exit(failed ? 1 : 0);
