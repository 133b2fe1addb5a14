// Privacy-desk benchmark (issue 9): finding and packaging one person among 1,000,000
// inquiries and 3,000,000 messages, and erasing a person with 1,000 messages, on SQLite
// and PostgreSQL. The use cases are called in this process exactly as the desk calls
// them (each find and package is an audited read, each erasure one transaction plus the
// SQLite WAL checkpoint); there is no HTTP route of ours in between to measure.
//
// Data (bulk-inserted, not through the use cases, so seeding takes a minute or two, not
// hours): people (about 9 in 10 inquiries from someone new), their inquiries, one
// thread per inquiry with three messages (in, staff reply, in); one thread in 20 sits in
// triage with the sender's address on its messages; one inquiry in 10 has a pending
// outbox mail to the address. Plus one person with 1,000 messages (ten with a 20 kB
// attachment), a consent record and pending mail: the erasure target.
//
// Measured, after ANALYZE and a warm-up: findPersonData and buildAccessPackage (with the
// JSON and HTML rendered) for BENCH_SAMPLES random people (p50, p99, mean); the same for
// the 1,000-message person; erasePerson for random people and for the 1,000-message
// person. Each answer is checked (the person and their inquiries are found; after an
// erasure nothing is found): a wrong answer fails the run (exit 1); a missed target is
// reported, not fatal. The query plans of the look-ups by address are printed.
//
//   node bench/rights.ts                 (npm run bench:rights)
//   BENCH_DATABASES=sqlite,postgres  BENCH_INQUIRIES=1000000  BENCH_SAMPLES=200
//   BENCH_ERASE_SAMPLES=20  BENCH_BIG_MESSAGES=1000
//   TEST_PG_URL=postgres://...   (default postgres://postgres@127.0.0.1:5432/test)
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { sql } from 'kysely';
import pg from 'pg';
import { projectRoot, type DatabaseTarget } from '../src/config.ts';
import type { Deps } from '../src/deps.ts';
import { Signer } from '../src/http/signing.ts';
import { subjectKey } from '../src/people/subject.ts';
import { loadPolicy } from '../src/policy/load.ts';
import { accessPackageHtml, accessPackageJson, buildAccessPackage } from '../src/rights/access-package.ts';
import { erasePerson } from '../src/rights/erase-person.ts';
import { findPersonData } from '../src/rights/find-person-data.ts';
import { openStorage, type Storage } from '../src/storage/db.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';

function setting(name: string, fallback: number, min = 1): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be a whole number >= ${min}`);
  return value;
}
const INQUIRIES = setting('BENCH_INQUIRIES', 1_000_000, 1000);
const SAMPLES = setting('BENCH_SAMPLES', 200);
const ERASE_SAMPLES = setting('BENCH_ERASE_SAMPLES', 20);
const BIG_MESSAGES = setting('BENCH_BIG_MESSAGES', 1000, 10);
const WARMUP = 20;
const FIND_TARGET_MS = 200;
const ERASE_TARGET_MS = 1000;
const BATCH = 10_000;
const databases = (process.env.BENCH_DATABASES ?? 'sqlite,postgres').split(',').map((s) => s.trim());
const PG_BASE = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const signer = new Signer(randomBytes(32));
const policy = loadPolicy(join(projectRoot, 'policy', 'lumetrax.yaml'), { checkProofs: false });
const actor = 'bench';

// --- rows -----------------------------------------------------------------------------

type Value = string | number | null | Uint8Array;
interface TableSpec {
  name: string;
  /** Column name and its PostgreSQL array element type (for unnest). */
  columns: Array<[string, 'text' | 'int']>;
}
const t = (name: string, cols: string, ints: string[] = []): TableSpec => ({ name, columns: cols.split(' ').map((c) => [c, ints.includes(c) ? 'int' : 'text']) });
const PERSON = t('person', 'id subject_key email name created_at updated_at');
const INQUIRY = t('inquiry', 'id reference form person_id company role country context free_mail notice_version submission_key created_at delete_after status outcome closed_at last_activity_at', ['free_mail']);
const THREAD = t('mail_thread', 'id inquiry_id person_id subject created_at last_message_at');
const MESSAGE = t('mail_message', 'id thread_id direction message_id in_reply_to reference_ids from_person_id from_address staff_account_id outbox_id source subject text_body html_body note at');
const OUTBOX = t('outbox', 'id kind inquiry_id person_id to_address subject text_body headers status attempts next_attempt_at locked_until last_error created_at sent_at', ['attempts']);
const TABLES = [PERSON, INQUIRY, THREAD, MESSAGE, OUTBOX];
type Rows = Map<TableSpec, Value[][]>;

const WORDS = 'lighting retrofit sensors estate warehouse energy pilot quote schedule visit budget contract sites floor office meter savings install survey timeline'.split(' ');
const words = (n: number) => Array.from({ length: n }, () => WORDS[Math.floor(Math.random() * WORDS.length)]).join(' ');
const iso = (ms: number) => new Date(ms).toISOString();

interface Seeded {
  emails: string[];
  big: string;
}

/** One batch of people, inquiries, threads, messages and outbox rows. */
function batch(start: number, end: number, emails: string[], now: number): Rows {
  const rows: Rows = new Map(TABLES.map((s) => [s, []]));
  const personIds: string[] = [];
  for (let i = start; i < end; i++) {
    const created = now - Math.floor(Math.random() * 365 * 86_400_000);
    let personId: string;
    let email: string;
    if (i % 10 === 9 && personIds.length > 0) {
      // About one inquiry in ten is from someone who wrote before (in this batch).
      const k = Math.floor(Math.random() * personIds.length);
      personId = personIds[k];
      email = emails[emails.length - personIds.length + k];
    } else {
      personId = randomUUID();
      email = `person.${i}.${randomBytes(3).toString('hex')}@company${i % 5000}.example.com`;
      personIds.push(personId);
      emails.push(email);
      rows.get(PERSON)!.push([personId, subjectKey(signer, email), email, `Name ${words(1)} ${i}`, iso(created), iso(created)]);
    }
    const inquiryId = randomUUID();
    rows.get(INQUIRY)!.push([inquiryId, `LT-${i.toString(36).toUpperCase().padStart(8, '0')}`, 'demo', personId, `Company ${i % 5000}`, 'Facilities Manager', 'GB', `About ${words(8)}`, 0, '2026-11-25', createHash('sha256').update(`bench:${i}`).digest('hex'), iso(created), iso(created + 2 * 365 * 86_400_000), 'in_conversation', null, null, iso(created + 86_400_000)]);
    const triage = i % 20 === 0;
    const threadId = randomUUID();
    rows.get(THREAD)!.push([threadId, triage ? null : inquiryId, triage ? null : personId, `Re: ${words(3)}`, iso(created), iso(created + 3 * 3_600_000)]);
    for (let m = 0; m < 3; m++) {
      const inbound = m !== 1;
      rows.get(MESSAGE)!.push([randomUUID(), threadId, inbound ? 'in' : 'out', `<${randomUUID()}@bench.example>`, null, null, inbound && !triage ? personId : null, inbound && triage ? email : null, inbound ? null : 'staff-1', null, inbound ? 'smtp' : 'console', `Re: ${words(3)}`, `${words(12)}\n${words(10)}`, null, null, iso(created + m * 3_600_000)]);
    }
    if (i % 10 === 0) {
      rows.get(OUTBOX)!.push([randomUUID(), 'correspondence-reply', inquiryId, personId, email, `Re: ${words(3)}`, words(20), '{}', 'pending', 1, iso(now + 3_600_000), null, 'deferred', iso(created), null]);
    }
  }
  return rows;
}

// --- bulk insert ----------------------------------------------------------------------

async function seedSqlite(path: string, seeded: Seeded): Promise<void> {
  const db = new DatabaseSync(path, { enableForeignKeyConstraints: true });
  // Seeding only: no fsync, and a 1 GB page cache so each batch's random-key index
  // inserts (UUIDs, as the service writes them) dirty pages in memory, written once.
  db.exec('PRAGMA synchronous = OFF');
  db.exec('PRAGMA cache_size = -1000000');
  const insert = new Map(TABLES.map((s) => [s, db.prepare(`insert into ${s.name} (${s.columns.map((c) => c[0]).join(', ')}) values (${s.columns.map(() => '?').join(', ')})`)]));
  const now = Date.now();
  for (let start = 0; start < INQUIRIES; start += BATCH) {
    const rows = batch(start, Math.min(INQUIRIES, start + BATCH), seeded.emails, now);
    db.exec('BEGIN');
    for (const spec of TABLES) {
      const stmt = insert.get(spec)!;
      for (const row of rows.get(spec)!) stmt.run(...(row as Array<string | number | null>));
    }
    db.exec('COMMIT');
  }
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  db.close();
}

async function seedPostgres(url: string, seeded: Seeded): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const now = Date.now();
    for (let start = 0; start < INQUIRIES; start += BATCH) {
      const rows = batch(start, Math.min(INQUIRIES, start + BATCH), seeded.emails, now);
      await client.query('begin');
      for (const spec of TABLES) {
        const list = rows.get(spec)!;
        if (list.length === 0) continue;
        // One statement per table and batch: each column as one array, unnested.
        const arrays = spec.columns.map((_, c) => list.map((r) => r[c]));
        const cols = spec.columns.map((c) => c[0]).join(', ');
        const params = spec.columns.map(([, type], c) => `$${c + 1}::${type}[]`).join(', ');
        await client.query(`insert into ${spec.name} (${cols}) select * from unnest(${params})`, arrays);
      }
      await client.query('commit');
    }
  } finally {
    await client.end();
  }
}

/** The erasure target, through Kysely: 1,000 messages in one thread, attachments, consent, pending mail. */
async function seedBigPerson(storage: Storage): Promise<string> {
  const email = `big.person.${randomBytes(3).toString('hex')}@bigco.example.com`;
  const now = Date.now();
  const personId = randomUUID();
  const inquiryId = randomUUID();
  const threadId = randomUUID();
  await storage.db.transaction().execute(async (trx) => {
    await trx.insertInto('person').values({ id: personId, subject_key: subjectKey(signer, email), email, name: 'Big Person', created_at: iso(now), updated_at: iso(now) }).execute();
    await trx
      .insertInto('inquiry')
      .values({ id: inquiryId, reference: 'LT-BIGPERSN', form: 'demo', person_id: personId, company: 'Big Co', role: 'Owner', country: 'IE', context: words(30), free_mail: 0, notice_version: '2026-11-25', submission_key: randomUUID(), created_at: iso(now), delete_after: iso(now + 1e10), outcome: null, closed_at: null, last_activity_at: iso(now) })
      .execute();
    await trx.insertInto('consent_record').values({ id: randomUUID(), person_id: personId, inquiry_id: inquiryId, purpose: 'marketing', action: 'granted', wording: 'Yes, send me news', notice_version: '2026-11-25', channel: 'demo-form', recorded_at: iso(now) }).execute();
    await trx.insertInto('mail_thread').values({ id: threadId, inquiry_id: inquiryId, person_id: personId, subject: 'Our estate', created_at: iso(now), last_message_at: iso(now) }).execute();
    const messages = Array.from({ length: BIG_MESSAGES }, (_, m) => ({
      id: randomUUID(),
      thread_id: threadId,
      direction: (m % 2 === 0 ? 'in' : 'out') as 'in' | 'out',
      message_id: `<${randomUUID()}@bigco.example.com>`,
      in_reply_to: null,
      reference_ids: null,
      from_person_id: m % 2 === 0 ? personId : null,
      from_address: null,
      staff_account_id: m % 2 === 0 ? null : 'staff-1',
      outbox_id: null,
      source: (m % 2 === 0 ? 'smtp' : 'console') as 'smtp' | 'console',
      subject: `Re: our estate ${m}`,
      text_body: `${words(40)}\n${words(40)}`,
      html_body: `<p>${words(40)}</p>`,
      note: null,
      at: iso(now + m * 1000),
    }));
    for (let i = 0; i < messages.length; i += 500) await trx.insertInto('mail_message').values(messages.slice(i, i + 500)).execute();
    for (let a = 0; a < 10; a++) {
      await trx.insertInto('mail_attachment').values({ id: randomUUID(), message_id: messages[a * 2].id, filename: `plan-${a}.pdf`, content_type: 'application/pdf', size: 20_000, content: randomBytes(20_000) }).execute();
    }
    for (let o = 0; o < 2; o++) {
      await trx
        .insertInto('outbox')
        .values({ id: randomUUID(), kind: 'correspondence-reply', inquiry_id: inquiryId, person_id: personId, to_address: email, subject: 'Re: our estate', text_body: words(30), headers: '{}', status: 'pending', attempts: 0, next_attempt_at: iso(now), locked_until: null, last_error: null, created_at: iso(now), sent_at: null })
        .execute();
    }
  });
  return email;
}

// --- measuring ------------------------------------------------------------------------

interface Latencies {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

function latencies(samples: number[]): Latencies {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { n: s.length, p50: at(0.5), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length, max: s[s.length - 1] };
}

const ms = (v: number) => v.toFixed(1);
const line = (label: string, l: Latencies, target?: number) =>
  `    ${label}: n=${l.n} p50 ${ms(l.p50)} ms, p99 ${ms(l.p99)} ms, mean ${ms(l.mean)} ms, max ${ms(l.max)} ms${target ? (l.p50 < target ? ` (target p50 < ${target} ms: met)` : ` (target p50 < ${target} ms: MISSED)`) : ''}`;

let wrong = 0;
function check(ok: boolean, what: string): void {
  if (!ok) {
    wrong++;
    console.error(`    WRONG: ${what}`);
  }
}

async function explain(storage: Storage, email: string): Promise<void> {
  const queries = [
    ['mail by address', sql`select id from mail_message where lower(from_address) = ${email} and from_address is not null`],
    ['outbox by address', sql`select id from outbox where lower(to_address) = ${email} and to_address <> ''`],
    ['person by subject key', sql`select id from person where subject_key in (${subjectKey(signer, email)})`],
  ] as const;
  for (const [label, query] of queries) {
    const plan =
      storage.kind === 'sqlite'
        ? (await sql<{ detail: string }>`explain query plan ${query}`.execute(storage.db)).rows.map((r) => r.detail)
        : (await sql<{ 'QUERY PLAN': string }>`explain (analyze, costs off) ${query}`.execute(storage.db)).rows.map((r) => r['QUERY PLAN']);
    console.log(`    plan, ${label}: ${plan.join(' | ')}`);
  }
}

async function run(label: string, target: DatabaseTarget, seed: (seeded: Seeded) => Promise<void>): Promise<void> {
  const seeded: Seeded = { emails: [], big: '' };
  let storage = openStorage(target);
  await migrateToLatest(storage.db);
  if (target.kind === 'sqlite') await storage.close();
  const t0 = performance.now();
  await seed(seeded);
  if (target.kind === 'sqlite') storage = openStorage(target);
  seeded.big = await seedBigPerson(storage);
  await sql`analyze`.execute(storage.db);
  const seedS = (performance.now() - t0) / 1000;
  const size = target.kind === 'sqlite' ? `, file ${(statSync(target.path).size / 1e9).toFixed(2)} GB` : '';
  console.log(`  ${label}: seeded ${INQUIRIES.toLocaleString('en')} inquiries, ${(INQUIRIES * 3 + BIG_MESSAGES).toLocaleString('en')} messages, ${seeded.emails.length.toLocaleString('en')} people in ${seedS.toFixed(0)} s${size}`);
  const deps: Pick<Deps, 'storage' | 'now' | 'mailQueued' | 'signer' | 'policy'> = { storage, now: () => new Date(), mailQueued: () => undefined, signer, policy };
  try {
    await explain(storage, seeded.emails[Math.floor(seeded.emails.length / 2)]);
    const pickEmail = () => seeded.emails[Math.floor(Math.random() * seeded.emails.length)];
    for (let i = 0; i < WARMUP; i++) await findPersonData(deps, { actor, email: pickEmail() });

    const find: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const email = pickEmail();
      const s = performance.now();
      const data = await findPersonData(deps, { actor, email: email.toUpperCase() });
      find.push(performance.now() - s);
      check(data.person?.email === email && data.inquiries.length >= 1 && data.messages.length >= 3, `find ${email}`);
    }
    const pack: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const email = pickEmail();
      const s = performance.now();
      const pkg = await buildAccessPackage(deps, { actor, email });
      const out = accessPackageJson(pkg).length + accessPackageHtml(pkg).length;
      pack.push(performance.now() - s);
      check(pkg.person?.email === email && pkg.inquiries.length >= 1 && out > 0, `package ${email}`);
    }
    console.log(line('find one person', latencies(find), FIND_TARGET_MS));
    console.log(line('package one person (JSON + HTML)', latencies(pack), FIND_TARGET_MS));

    const bigFind: number[] = [];
    const bigPack: number[] = [];
    for (let i = 0; i < 10; i++) {
      let s = performance.now();
      const data = await findPersonData(deps, { actor, email: seeded.big });
      bigFind.push(performance.now() - s);
      check(data.messages.length === BIG_MESSAGES && data.attachments.length === 10, 'find the 1,000-message person');
      s = performance.now();
      const pkg = await buildAccessPackage(deps, { actor, email: seeded.big });
      accessPackageJson(pkg);
      accessPackageHtml(pkg);
      bigPack.push(performance.now() - s);
    }
    console.log(line(`find the person with ${BIG_MESSAGES} messages`, latencies(bigFind)));
    console.log(line(`package the person with ${BIG_MESSAGES} messages`, latencies(bigPack)));

    const erase: number[] = [];
    for (let i = 0; i < ERASE_SAMPLES; i++) {
      const email = seeded.emails.splice(Math.floor(Math.random() * seeded.emails.length), 1)[0];
      const s = performance.now();
      const result = await erasePerson(deps, { actor, email });
      erase.push(performance.now() - s);
      check(result.erased.person === 1 && result.erased.mail_message >= 3, `erase ${email}`);
    }
    console.log(line(`erase one person (transaction${storage.kind === 'sqlite' ? ' + WAL checkpoint' : ''})`, latencies(erase)));
    const s = performance.now();
    const result = await erasePerson(deps, { actor, email: seeded.big });
    const bigErase = performance.now() - s;
    check(result.erased.mail_message === BIG_MESSAGES && result.erased.mail_attachment === 10 && result.erased.outbox === 2, `erase the big person: ${JSON.stringify(result.erased)}`);
    const after = await findPersonData(deps, { actor, email: seeded.big });
    check(after.person === undefined && after.messages.length === 0 && after.outbox.length === 0, 'nothing found after the erasure');
    console.log(`    erase the person with ${BIG_MESSAGES} messages: ${ms(bigErase)} ms${bigErase < ERASE_TARGET_MS ? ` (target < ${ERASE_TARGET_MS} ms: met)` : ` (target < ${ERASE_TARGET_MS} ms: MISSED)`}; ${storage.kind === 'sqlite' ? `WAL checkpoint complete: ${result.scrub.complete}` : 'no WAL checkpoint on PostgreSQL'}`);
  } finally {
    await storage.close();
  }
}

// --- main -----------------------------------------------------------------------------

console.log(`Rights benchmark: ${INQUIRIES.toLocaleString('en')} inquiries, ${(3 * INQUIRIES).toLocaleString('en')} messages; ${SAMPLES} finds and packages, ${ERASE_SAMPLES} erasures, one person with ${BIG_MESSAGES} messages; Node ${process.versions.node}, ${cpus().length} cores`);
if (databases.includes('sqlite')) {
  const dir = mkdtempSync(join(tmpdir(), 'lumetrax-bench-rights-'));
  try {
    const path = join(dir, 'rights.db');
    await run('SQLite', { kind: 'sqlite', path }, (seeded) => seedSqlite(path, seeded));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (databases.includes('postgres')) {
  const schema = `bench_rights_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_BASE, connectionTimeoutMillis: 1500 });
  let reachable = true;
  try {
    await admin.connect();
    await admin.query(`create schema ${schema}`);
  } catch (error) {
    reachable = false;
    console.log(`PostgreSQL not reachable at ${PG_BASE} (${(error as Error).message}): PostgreSQL run skipped`);
  }
  if (reachable) {
    const url = `${PG_BASE}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    try {
      await run('PostgreSQL', { kind: 'postgres', url }, (seeded) => seedPostgres(url, seeded));
    } finally {
      await admin.query(`drop schema if exists ${schema} cascade`).catch(() => undefined);
      await admin.end();
    }
  }
}
if (wrong > 0) {
  console.error(`${wrong} wrong answers`);
  process.exit(1);
}
