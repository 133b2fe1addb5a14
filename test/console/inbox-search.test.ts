// The inbox's indexed text search (migration 2026-12-01-inbox-search): exactly the rows,
// order and keyset pages of a plain case-insensitive substring filter, on both databases
// and whichever way the rows are found (trigram index, short-term scan, PostgreSQL
// without pg_trgm); a term is always text, never FTS or LIKE syntax; and a deleted person
// or inquiry leaves none of their trigrams in the SQLite index.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { inboxPage, type InboxCursor, type InboxRow, type SearchOptions } from '../../src/inquiries/store.ts';
import { openStorage } from '../../src/storage/db.ts';
import { migrateTo, migrateToLatest } from '../../src/storage/migrate.ts';
import type { Database } from '../../src/storage/types.ts';
import { Clock, get, makeStaff, type Staff } from '../auth/helpers.ts';
import { availableDbKinds, createTestDatabase, PG_BASE_URL, postgresReachable, testDb, type TestDatabase } from '../support/db.ts';
import { startTestServer, submitForm, validFields, type TestServer } from '../support/server.ts';

// --- the oracle: a plain in-memory filter -----------------------------------------------

interface Doc {
  id: string;
  created_at: string;
  name: string;
  email: string;
  company: string;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * What the search promises: the term inside name, company or email, letters compared
 * case-insensitively (Unicode simple case folding, which the `iu` flags apply), newest
 * first, then by id.
 */
function expected(docs: Doc[], term: string): string[] {
  const re = new RegExp(escapeRegExp(term), 'iu');
  return docs
    .filter((d) => re.test(d.name) || re.test(d.company) || re.test(d.email))
    .sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1))
    .map((d) => d.id);
}

// Letters whose other case both databases agree on, LIKE/GLOB/FTS5 metacharacters,
// letters without case, and a character beyond the BMP. (Left out, and said in the README:
// a few letters fold differently per database, e.g. 'ſ'/'s', 'ς'/'σ', 'İ'/'i'.)
const ALPHABET = [...'abkxABKX09 .@-\'"%_\\*?[]()^:+', 'é', 'É', 'ø', 'Ø', 'ł', 'Ł', 'ñ', 'Ñ', 'ü', 'Ü', 'ß', 'ẞ', 'α', 'Α', 'ж', 'Ж', 'ı', '中', '😀'];
const OTHER_CASE: Record<string, string> = { ß: 'ẞ', ẞ: 'ß' };
const otherCase = (c: string) => OTHER_CASE[c] ?? (c.toUpperCase() !== c && c.toUpperCase().length === c.length ? c.toUpperCase() : c.toLowerCase().length === c.length ? c.toLowerCase() : c);
const text = (min: number, max: number) => fc.array(fc.constantFrom(...ALPHABET), { minLength: min, maxLength: max }).map((a) => a.join(''));

async function insertDoc(db: Kysely<Database>, personId: string, doc: Doc): Promise<void> {
  await db
    .insertInto('inquiry')
    .values({
      id: doc.id,
      reference: `LT-${randomBytes(6).toString('hex')}`,
      form: 'demo',
      person_id: personId,
      company: doc.company,
      role: 'Owner',
      country: 'GB',
      context: null,
      free_mail: 0,
      notice_version: '2026-11-25',
      submission_key: randomBytes(16).toString('hex'),
      created_at: doc.created_at,
      delete_after: '2030-01-01T00:00:00.000Z',
      outcome: null,
      closed_at: null,
      last_activity_at: null,
    })
    .execute();
}

async function insertPerson(db: Kysely<Database>, name: string, email: string): Promise<string> {
  const id = randomUUID();
  await db.insertInto('person').values({ id, subject_key: `test:${id}`, email, name, created_at: '2026-11-01T00:00:00.000Z', updated_at: '2026-11-01T00:00:00.000Z' }).execute();
  return id;
}

/** Every page, following the keyset cursor as the console does (pages of 3). */
async function allPages(db: Kysely<Database>, term: string, options: SearchOptions): Promise<string[]> {
  const ids: string[] = [];
  let cursor: InboxCursor | undefined;
  for (;;) {
    const page: InboxRow[] = await inboxPage(db, { text: term }, cursor, 3, options);
    ids.push(...page.map((r) => r.id));
    if (page.length < 3) return ids;
    const last = page.at(-1)!;
    cursor = { createdAt: last.created_at, id: last.id };
  }
}

/**
 * Every way a page is found: trigram index or reading the tables, and for each the ids of
 * a few matches or (probe 1: any term matching two rows of a column counts as common)
 * reading inquiries newest first.
 */
const WAYS: SearchOptions[] = [{ search: 'trigram' }, { search: 'trigram', probe: 1 }, { search: 'scan' }, { search: 'scan', probe: 1 }];

const { kinds, skipped } = await availableDbKinds();

describe('inbox text search: the same rows as a plain substring filter', () => {
  if (skipped) test(skipped, { skip: true }, () => undefined);

  for (const kind of kinds) {
    test(`${kind}: trigram index and scan, few matches and common terms, all equal the in-memory filter: rows, order and pages (fast-check)`, async () => {
      const { storage, close } = await testDb(kind);
      const db = storage.db;
      try {
        const times = ['2026-11-01T10:00:00.000Z', '2026-11-02T10:00:00.000Z', '2026-11-03T10:00:00.000Z'];
        const person = fc.record({ name: text(0, 12), email: text(0, 12), inquiries: fc.array(fc.record({ company: text(0, 12), at: fc.constantFrom(...times) }), { minLength: 1, maxLength: 3 }) });
        const scenario = fc.array(person, { minLength: 1, maxLength: 5 }).chain((people) => {
          const values = people.flatMap((p) => [p.name, p.email, ...p.inquiries.map((i) => i.company)]).filter((v) => v.length > 0);
          // Terms taken from the stored values (in another case, so most find something),
          // and arbitrary ones; of one to six characters, so both sides of the trigram
          // threshold are covered.
          const fromValue = values.length
            ? fc.tuple(fc.constantFrom(...values), fc.nat(), fc.integer({ min: 1, max: 6 }), fc.array(fc.boolean(), { minLength: 6, maxLength: 6 })).map(([v, start, len, flips]) => {
                const chars = [...v];
                const from = start % chars.length;
                return chars.slice(from, from + len).map((c, k) => (flips[k] ? otherCase(c) : c)).join('');
              })
            : text(1, 6);
          return fc.tuple(fc.constant(people), fc.array(fc.oneof(fromValue, text(1, 6)), { minLength: 1, maxLength: 5 }));
        });
        await fc.assert(
          fc.asyncProperty(scenario, async ([people, terms]) => {
            const docs: Doc[] = [];
            for (const p of people) {
              const personId = await insertPerson(db, p.name, p.email);
              for (const q of p.inquiries) {
                const doc = { id: randomUUID(), created_at: q.at, name: p.name, email: p.email, company: q.company };
                await insertDoc(db, personId, doc);
                docs.push(doc);
              }
            }
            try {
              for (const term of terms) {
                if (!term) continue;
                const want = expected(docs, term);
                for (const options of WAYS) {
                  assert.deepEqual(await allPages(db, term, options), want, `${JSON.stringify(options)} search for ${JSON.stringify(term)}`);
                }
              }
            } finally {
              // Deleting the people deletes their inquiries (foreign-key cascade): the
              // index must follow, or the next run's results would show it.
              await db.deleteFrom('person').execute();
            }
          }),
          { numRuns: Number(process.env.FC_RUNS ?? 60) },
        );
        if (kind === 'sqlite') {
          // Every row was deleted: the index holds not one trigram, nor a key.
          await sql`create virtual table temp.person_terms using fts5vocab(main, person_search, 'row')`.execute(db);
          await sql`create virtual table temp.inquiry_terms using fts5vocab(main, inquiry_search, 'row')`.execute(db);
          for (const table of ['temp.person_terms', 'temp.inquiry_terms', 'person_search_key', 'inquiry_search_key']) {
            const { rows } = await sql<{ n: number }>`select count(*) as n from ${sql.raw(table)}`.execute(db);
            assert.equal(Number(rows[0].n), 0, `${table} is empty after every row was deleted`);
          }
        }
      } finally {
        await close();
      }
    });
  }
});

describe('inbox text search: the migration indexes the rows already there', () => {
  for (const kind of kinds) {
    test(`${kind}: people and inquiries stored before the migration are found through the new index`, async () => {
      const database = await createTestDatabase(kind);
      const storage = openStorage(database.target);
      try {
        await migrateTo(storage.db, '2026-11-30-inbox-indexes');
        const personId = await insertPerson(storage.db, 'Élodie Brûlé', 'elodie@before.example.com');
        const doc = { id: randomUUID(), created_at: '2026-11-01T10:00:00.000Z', name: 'Élodie Brûlé', email: 'elodie@before.example.com', company: 'Vorher GmbH' };
        await insertDoc(storage.db, personId, doc);
        await migrateToLatest(storage.db);
        for (const q of ['BRÛLÉ', 'vorher', 'before.example']) {
          assert.deepEqual(await allPages(storage.db, q, { search: 'trigram' }), [doc.id], q);
        }
        if (kind === 'sqlite') {
          const { rows } = await sql<{ n: number }>`select count(*) as n from person_search where person_search match '"brûlé"'`.execute(storage.db);
          assert.equal(Number(rows[0].n), 1, 'through the FTS table itself');
        }
      } finally {
        await storage.close();
        await database.drop();
      }
    });
  }
});

describe('inbox text search: deleting a person leaves nothing of them in the SQLite index', () => {
  /** The trigrams FTS5 makes of a lower-case ASCII value. */
  const trigrams = (...values: string[]) => new Set(values.flatMap((v) => Array.from({ length: Math.max(0, v.length - 2) }, (_x, k) => v.slice(k, k + 3))));

  test('sqlite: a person deleted (their inquiries by cascade), an inquiry deleted, a name changed: their own trigrams are gone from the index and its pages', async () => {
    const { storage, close } = await testDb('sqlite');
    const db = storage.db;
    try {
      await sql`create virtual table temp.person_terms using fts5vocab(main, person_search, 'instance')`.execute(db);
      await sql`create virtual table temp.inquiry_terms using fts5vocab(main, inquiry_search, 'instance')`.execute(db);
      const indexed = async (vocab: string, terms: Set<string>) => {
        const { rows } = await sql<{ term: string }>`select distinct term from ${sql.raw(vocab)}`.execute(db);
        return rows.map((r) => r.term).filter((t) => terms.has(t));
      };
      /** Index pages (the shadow tables' blobs) holding any of these byte strings. */
      const inPages = async (table: string, terms: Set<string>) => {
        const { rows } = await sql<{ block: Uint8Array | null }>`select block from ${sql.table(table)}`.execute(db);
        return [...terms].filter((t) => rows.some((r) => r.block && Buffer.from(r.block).includes(t)));
      };

      const gone = { name: 'qxzwv jyqkp', email: 'qxzwv.jyqkp@vwqzx.example', company: 'zqxwj fyvkm' };
      const stays = { name: 'ada lovelace', email: 'ada@engines.example', company: 'analytical engines' };
      const goneId = await insertPerson(db, gone.name, gone.email);
      const staysId = await insertPerson(db, stays.name, stays.email);
      for (const at of ['2026-11-01T10:00:00.000Z', '2026-11-02T10:00:00.000Z']) await insertDoc(db, goneId, { id: randomUUID(), created_at: at, company: gone.company, name: '', email: '' });
      await insertDoc(db, staysId, { id: randomUUID(), created_at: '2026-11-03T10:00:00.000Z', company: stays.company, name: '', email: '' });
      const kept = trigrams(stays.name, stays.email, stays.company);
      const personOnly = new Set([...trigrams(gone.name, gone.email)].filter((t) => !kept.has(t)));
      const companyOnly = new Set([...trigrams(gone.company)].filter((t) => !kept.has(t)));
      assert.ok(personOnly.size > 15 && companyOnly.size > 5);
      // Before: all of them indexed, and some readable in the pages (so the checks below can fail).
      assert.equal((await indexed('temp.person_terms', personOnly)).length, personOnly.size);
      assert.equal((await indexed('temp.inquiry_terms', companyOnly)).length, companyOnly.size);
      assert.ok((await inPages('person_search_data', personOnly)).length > 0);
      assert.equal((await inboxPage(db, { text: 'JYQKP' }, undefined, 10)).length, 2);

      // As the code of today erases someone: the person row, inquiries by cascade.
      await db.deleteFrom('person').where('id', '=', goneId).execute();
      assert.deepEqual(await indexed('temp.person_terms', personOnly), [], 'no trigram of the name or address');
      assert.deepEqual(await indexed('temp.inquiry_terms', companyOnly), [], 'no trigram of their inquiries (deleted by cascade)');
      assert.deepEqual(await inPages('person_search_data', personOnly), [], 'nor in the index pages (secure-delete)');
      assert.deepEqual(await inPages('inquiry_search_data', companyOnly), []);
      assert.equal((await sql<{ n: number }>`select count(*) as n from person_search_key where person_id = ${goneId}`.execute(db)).rows[0].n, 0);
      assert.equal((await sql<{ n: number }>`select count(*) as n from inquiry_search_key`.execute(db)).rows[0].n, 1);
      assert.equal((await inboxPage(db, { text: 'JYQKP' }, undefined, 10)).length, 0);
      // The other person is all there.
      assert.equal((await indexed('temp.person_terms', trigrams(stays.name, stays.email))).length, trigrams(stays.name, stays.email).size);
      assert.equal((await inboxPage(db, { text: 'LOVELACE' }, undefined, 10)).length, 1);

      // An inquiry deleted alone (as retention will), and a corrected name and company.
      const otherId = await insertPerson(db, 'wkqzj vyxpf', 'wkqzj@zvxqy.example');
      const inquiryId = randomUUID();
      await insertDoc(db, otherId, { id: inquiryId, created_at: '2026-11-04T10:00:00.000Z', company: 'jvqkx zwypf', name: '', email: '' });
      await db.deleteFrom('inquiry').where('id', '=', inquiryId).execute();
      assert.deepEqual(await indexed('temp.inquiry_terms', trigrams('jvqkx zwypf')), []);
      await db.updateTable('person').set({ name: 'ada byron' }).where('id', '=', staysId).execute();
      const oldName = new Set([...trigrams('ada lovelace')].filter((t) => !trigrams('ada byron', stays.email, stays.company).has(t)));
      assert.deepEqual(await indexed('temp.person_terms', oldName), [], 'the old name is gone after a correction');
      assert.equal((await inboxPage(db, { text: 'Lovelace' }, undefined, 10)).length, 0);
      assert.equal((await inboxPage(db, { text: 'Byron' }, undefined, 10)).length, 1);
      await db.updateTable('inquiry').set({ company: 'babbage works' }).where('person_id', '=', staysId).execute();
      assert.deepEqual(await indexed('temp.inquiry_terms', new Set(['ana', 'nal', 'aly', 'lyt', 'yti', 'tic', 'ica'])), []);
      assert.equal((await inboxPage(db, { text: 'babbage' }, undefined, 10)).length, 1);
    } finally {
      await close();
    }
  });
});

describe('inbox text search: an update that changes no indexed text leaves the SQLite index alone', () => {
  // A returning visitor's submission refreshes their person row with the same name and
  // address. Rewriting their trigrams then cost, with FTS5's secure-delete, work in
  // proportion to everyone stored (trigrams like "com" are in almost every address).
  test('sqlite: the same name and address, or the same company, written again: only the row itself changes; a real change still reindexes', async () => {
    const { storage, close } = await testDb('sqlite');
    const db = storage.db;
    try {
      const personId = await insertPerson(db, 'ada lovelace', 'ada@engines.example');
      const inquiryId = randomUUID();
      await insertDoc(db, personId, { id: inquiryId, created_at: '2026-11-03T10:00:00.000Z', company: 'analytical engines', name: '', email: '' });
      // total_changes() counts rows changed by triggers too, on this one connection.
      const changedBy = async (run: () => Promise<unknown>) => {
        const total = async () => (await sql<{ n: number }>`select total_changes() as n`.execute(db)).rows[0].n;
        const before = await total();
        await run();
        return (await total()) - before;
      };
      assert.equal(await changedBy(() => db.updateTable('person').set({ name: 'ada lovelace', email: 'ada@engines.example', updated_at: '2026-11-04T10:00:00.000Z' }).where('id', '=', personId).execute()), 1);
      assert.equal(await changedBy(() => db.updateTable('inquiry').set({ company: 'analytical engines' }).where('id', '=', inquiryId).execute()), 1);
      assert.equal((await inboxPage(db, { text: 'lovelace' }, undefined, 10)).length, 1);
      assert.equal((await inboxPage(db, { text: 'engines' }, undefined, 10)).length, 1);
      // A changed name: the row, the old trigrams out, the key row, the new trigrams in.
      assert.ok((await changedBy(() => db.updateTable('person').set({ name: 'ada byron' }).where('id', '=', personId).execute())) > 1);
      assert.equal((await inboxPage(db, { text: 'lovelace' }, undefined, 10)).length, 0);
      assert.equal((await inboxPage(db, { text: 'byron' }, undefined, 10)).length, 1);
      assert.ok((await changedBy(() => db.updateTable('inquiry').set({ company: 'babbage works' }).where('id', '=', inquiryId).execute())) > 1);
      assert.equal((await inboxPage(db, { text: 'babbage' }, undefined, 10)).length, 1);
      assert.equal((await inboxPage(db, { text: 'analytical' }, undefined, 10)).length, 0);
    } finally {
      await close();
    }
  });
});

describe('inbox text search over HTTP: a term is text, never query syntax', () => {
  let server: TestServer;
  let sales: Staff;
  const clock = new Clock();
  const people = [
    { name: 'Élodie Durand', email: 'elodie@cava.example.com', company: 'Ça Va SA' },
    { name: 'Zoë Ó Súilleabháin', email: 'zoe@near.example.com', company: 'The "Quoted" Co (NEAR) *star*' },
    { name: 'Grace Hopper', email: 'grace@compilers.example.com', company: 'Compilers 100%_Inc \\ AND OR NOT' },
  ];

  before(async () => {
    server = await startTestServer({ now: clock.now, env: { MAIL_POLL_MS: '3600000' } });
    sales = await makeStaff(server, clock, 'sales');
    for (const p of people) {
      assert.equal((await submitForm(server.url, 'demo', { ...validFields, ...p })).status, 303);
      clock.advance(1000);
    }
  });
  after(async () => {
    await server.close();
  });

  const names = async (q: string) => {
    const res = await get(server.url, `/console/inquiries?q=${encodeURIComponent(q)}`, sales.cookie);
    const body = await res.text();
    assert.equal(res.status, 200, `${JSON.stringify(q)}: ${res.status}`);
    return people.filter((p) => body.includes(p.email)).map((p) => p.name);
  };

  test('accented capitals find their lower case and back, long and short terms alike', async () => {
    for (const q of ['ÉLODIE', 'élodie', 'Élodie', 'ÉL', 'él', 'ÇA VA', 'ça', 'Ç', 'ZOË', 'zoë', 'SÚILLEABHÁIN', 'Ó S']) {
      const want = people.filter((p) => expected([{ id: p.email, created_at: '', ...p }], q).length).map((p) => p.name);
      assert.ok(want.length > 0, q);
      assert.deepEqual(await names(q), want, q);
    }
    assert.deepEqual(await names('elodie durand'), [], 'no accent folding: e is not é');
  });

  test('FTS5, LIKE and GLOB syntax in a term is matched literally, never a 500', async () => {
    const terms = ['"a" OR b*', 'NEAR(', 'NEAR(a b)', '"Quoted"', '"', '""', '*star*', '(NEAR)', 'AND OR NOT', 'OR', '*', '^', '[', ']', '%', '_', '100%_', '\\', '\\ AND', "'", "O'", ':', '-', '+', 'co (near) *', '?', '[a-z]'];
    for (const q of terms) {
      const want = people.filter((p) => expected([{ id: p.email, created_at: '', ...p }], q).length).map((p) => p.name);
      assert.deepEqual(await names(q), want, JSON.stringify(q));
    }
    assert.deepEqual(await names('(NEAR) *star*'), ['Zoë Ó Súilleabháin']);
    assert.deepEqual(await names('100%_Inc \\'), ['Grace Hopper']);
    for (const q of ['a\u0000b', '\u0000']) {
      const res = await get(server.url, `/console/inquiries?q=${encodeURIComponent(q)}`, sales.cookie);
      assert.equal(res.status, 400, 'a NUL is named as the problem');
      assert.match(await res.text(), /Search text cannot contain a NUL character/);
    }
  });
});

describe('inbox text search on PostgreSQL without pg_trgm', () => {
  test('a role that may not create the extension: the migration succeeds without the indexes, the service says so once, and search scans with the same results', async (t) => {
    if (!(await postgresReachable())) return t.skip(`PostgreSQL not reachable at ${PG_BASE_URL}`);
    // A database of its own, where pg_trgm is not installed, and a role without CREATE on
    // it (so it cannot create even a trusted extension), owning the one schema it uses.
    const suffix = randomBytes(5).toString('hex');
    const dbName = `lt_notrgm_${suffix}`;
    const role = `lt_notrgm_${suffix}`;
    const admin = async (f: (c: pg.Client) => Promise<unknown>, database?: string) => {
      const url = new URL(PG_BASE_URL);
      if (database) url.pathname = `/${database}`;
      const c = new pg.Client({ connectionString: url.toString() });
      await c.connect();
      try {
        await f(c);
      } finally {
        await c.end();
      }
    };
    await admin(async (c) => {
      await c.query(`create database ${dbName}`);
      await c.query(`create role ${role} login`);
    });
    const roleUrl = new URL(PG_BASE_URL);
    roleUrl.username = role;
    roleUrl.pathname = `/${dbName}`;
    const url = `${roleUrl.toString()}?options=${encodeURIComponent('-c search_path=app')}`;
    let server: TestServer | undefined;
    try {
      await admin(async (c) => {
        await c.query(`create schema app authorization ${role}`);
        await c.query(`revoke create on schema public from public`);
      }, dbName);
      const database: TestDatabase = { kind: 'postgres', target: { kind: 'postgres', url }, url, drop: async () => undefined };
      const clock = new Clock();
      server = await startTestServer({ database, now: clock.now, env: { MAIL_POLL_MS: '3600000' } });
      const db = server.running.deps.storage.db;
      const { rows: ext } = await sql<{ n: number }>`select count(*)::int as n from pg_extension where extname = 'pg_trgm'`.execute(db);
      assert.equal(ext[0].n, 0, 'the extension is absent');
      const { rows: idx } = await sql<{ n: number }>`select count(*)::int as n from pg_indexes where indexname like '%trgm%'`.execute(db);
      assert.equal(idx[0].n, 0, 'so are the indexes');
      const { rows: done } = await sql<{ name: string }>`select name from kysely_migration where name = '2026-12-01-inbox-search'`.execute(db);
      assert.equal(done.length, 1, 'the migration succeeded');
      const warnings = server.logs.filter((l) => l.includes('pg_trgm'));
      assert.equal(warnings.length, 1, 'said once at start');

      const docs: Doc[] = [];
      const people = [
        ['Élodie Durand', 'elodie@cava.example.com', 'Ça Va SA'],
        ['Grace Hopper', 'grace@compilers.example.com', 'Compilers 100%_Inc'],
        ['Ada Lovelace', 'ada@engines.example.com', 'Analytical "Engines" (NEAR)'],
      ];
      for (const [k, [name, email, company]] of people.entries()) {
        const personId = await insertPerson(db, name, email);
        for (let j = 0; j < 3; j++) {
          const doc = { id: randomUUID(), created_at: `2026-11-0${j + 1}T10:00:0${k}.000Z`, name, email, company };
          await insertDoc(db, personId, doc);
          docs.push(doc);
        }
      }
      const sales = await makeStaff(server, clock, 'sales');
      for (const q of ['ÉLODIE', 'él', 'engines', 'ENGINES', '100%_', '%', '"Engines" (NEAR)', 'example.com', 'zz', 'nobody here']) {
        const want = expected(docs, q);
        for (const options of WAYS) assert.deepEqual(await allPages(db, q, options), want, `${JSON.stringify(options)} ${q}`);
        const res = await get(server.url, `/console/inquiries?q=${encodeURIComponent(q)}`, sales.cookie);
        const body = await res.text();
        assert.equal(res.status, 200);
        assert.equal(body.split('<th scope="row">').length - 1, want.length, `HTTP ${q}`);
      }
      assert.equal(server.logs.filter((l) => l.includes('pg_trgm')).length, 1, 'and not again per search');
      assert.ok(!server.logs.some((l) => l.includes('Élodie') || l.includes('elodie@')), 'the log holds no name or address');
    } finally {
      await server?.close();
      await admin(async (c) => {
        await c.query(`drop database if exists ${dbName} with (force)`);
        await c.query(`drop role if exists ${role}`);
      });
    }
  });
});
