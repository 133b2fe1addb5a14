// Storage on every reachable database: migrations, the node:sqlite driver, group commit
// (a failing job reruns alone, collectors run once per batch), and the hash-chained
// audit trail.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type Kysely } from 'kysely';
import { auditCollector, verifyAuditChain, type AuditInput } from '../../src/audit/append-audit.ts';
import type { Storage } from '../../src/storage/db.ts';
import type { Collector, Lead } from '../../src/storage/write-batcher.ts';
import { inBatch, inTransaction } from '../../src/unit-of-work.ts';
import { insertInquiriesWithPeople, insertInquiry, type InquiryWithPerson } from '../../src/inquiries/store.ts';
import { migrateTo, migrateToLatest } from '../../src/storage/migrate.ts';
import { insertRows } from '../../src/storage/insert-rows.ts';
import { openStorage } from '../../src/storage/db.ts';
import { availableDbKinds, createTestDatabase, testDb } from '../support/db.ts';

const { kinds, skipped } = await availableDbKinds();

function inquiryRow(i: number) {
  const at = new Date(Date.UTC(2026, 10, 25, 10, 0, i)).toISOString();
  return {
    id: `id-${i}`,
    reference: `LT-REF${String(i).padStart(5, '0')}`,
    form: 'demo',
    person_id: PERSON,
    company: 'Co',
    role: 'Role',
    country: 'IE',
    context: null,
    free_mail: 0,
    notice_version: '2026-11-25',
    submission_key: `key-${i}`,
    created_at: at,
    delete_after: at,
  };
}

const PERSON = 'person-1';

/** A fresh database with the one person every test inquiry belongs to. */
async function freshDb(kind: Parameters<typeof testDb>[0]) {
  const t = await testDb(kind);
  const at = '2026-11-25T10:00:00.000Z';
  await t.storage.db.insertInto('person').values({ id: PERSON, subject_key: 'k:1', email: 'p1@example.com', name: 'P One', created_at: at, updated_at: at }).execute();
  return t;
}

/** An audit entry in a transaction of its own, through the unit of work. */
function auditAlone(storage: Storage, at: Date, input: AuditInput): Promise<void> {
  return inTransaction({ storage, now: () => at, mailQueued: () => undefined }, async (uow) => uow.audit(input));
}

describe('storage', () => {
  if (skipped) test(skipped, { skip: skipped }, () => undefined);

  for (const kind of kinds) {
    describe(kind, () => {
      test('migrations apply to a fresh database and are idempotent', async () => {
        const t = await freshDb(kind);
        try {
          assert.deepEqual(await migrateToLatest(t.storage.db), [], 'already up to date');
          const head = await t.storage.db.selectFrom('audit_head').selectAll().executeTakeFirstOrThrow();
          assert.equal(Number(head.seq), 0);
        } finally {
          await t.close();
        }
      });

      test('queries: insert, select, update with returning; booleans, dates and undefined as parameters', async () => {
        const t = await freshDb(kind);
        try {
          const db = t.storage.db;
          await db.insertInto('inquiry').values(inquiryRow(1)).execute();
          const updated = await db.updateTable('inquiry').set({ role: 'CTO' }).where('id', '=', 'id-1').returning(['id', 'role']).execute();
          assert.deepEqual(updated.map((r) => ({ ...r })), [{ id: 'id-1', role: 'CTO' }]);
          const res = await db.updateTable('inquiry').set({ company: 'New' }).where('id', '=', 'missing').executeTakeFirst();
          assert.equal(Number(res.numUpdatedRows), 0);
          const row = await db.selectFrom('inquiry').selectAll().where('id', '=', 'id-1').executeTakeFirstOrThrow();
          assert.equal(row.context, null);
          await sql`insert into suppression (subject_key, reason, created_at) values (${'k'}, ${'r'}, ${new Date('2026-01-01T00:00:00Z').toISOString()})`.execute(db);
          const s = await db.selectFrom('suppression').selectAll().executeTakeFirstOrThrow();
          assert.equal(s.created_at, '2026-01-01T00:00:00.000Z');
          await assert.rejects(db.insertInto('inquiry').values(inquiryRow(1)).execute(), 'the primary key holds');
        } finally {
          await t.close();
        }
      });

      if (kind === 'sqlite') {
        test('SQLite runs with WAL, synchronous FULL and secure_delete', async () => {
          const t = await freshDb(kind);
          try {
            const pragma = async (name: string) => Object.values((await sql.raw(`PRAGMA ${name}`).execute(t.storage.db)).rows[0] as object)[0];
            assert.equal(String(await pragma('journal_mode')), 'wal');
            assert.equal(Number(await pragma('synchronous')), 2);
            assert.equal(Number(await pragma('secure_delete')), 1);
          } finally {
            await t.close();
          }
        });
      }

      test('group commit: concurrent jobs all commit; a failing job rejects alone; results come after commit', async () => {
        const t = await freshDb(kind);
        try {
          const jobs = Array.from({ length: 40 }, (_, i) =>
            t.storage.batcher.run(async (trx) => {
              await trx.insertInto('inquiry').values(inquiryRow(i)).execute();
              if (i % 10 === 7) throw new Error(`job ${i} fails`);
              return i;
            }),
          );
          const settled = await Promise.allSettled(jobs);
          const failed = settled.flatMap((s, i) => (s.status === 'rejected' ? [i] : []));
          assert.deepEqual(failed, [7, 17, 27, 37]);
          // Every resolved job's row is visible from outside the transaction the moment it resolved.
          const ids = (await t.storage.db.selectFrom('inquiry').select('id').execute()).map((r) => r.id).sort();
          const expected = Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 10 !== 7).map((i) => `id-${i}`).sort();
          assert.deepEqual(ids, expected);
        } finally {
          await t.close();
        }
      });

      test('when the transaction itself cannot run, every job in the batch is rejected', async () => {
        const t = await freshDb(kind);
        try {
          // The database goes away before the batch runs: no caller may be told success.
          const jobs = [1, 2, 3].map((i) =>
            t.storage.batcher.run(async (trx) => {
              await trx.insertInto('inquiry').values(inquiryRow(200 + i)).execute();
              return i;
            }),
          );
          await t.storage.close();
          const settled = await Promise.allSettled(jobs);
          assert.ok(settled.every((s) => s.status === 'rejected'), 'a batch whose transaction cannot run rejects every job');
        } finally {
          await t.database.drop();
        }
      });

      test('audit: concurrent appends form one unforked chain; edits, removals and truncation are detected', async () => {
        const t = await freshDb(kind);
        try {
          const at = new Date('2026-11-25T12:00:00Z');
          await Promise.all(
            Array.from({ length: 30 }, (_, i) =>
              // Straight transactions, not the batcher: on PostgreSQL these run on several pool connections at once.
              auditAlone(t.storage, at, { actor: 'test', action: 'thing.done', entityType: 'thing', entityId: `t${i}`, details: { n: i } }),
            ),
          );
          const check = await verifyAuditChain(t.storage.db);
          assert.deepEqual(check, { ok: true, entries: 30 });
          const seqs = (await t.storage.db.selectFrom('audit_log').select('seq').orderBy('seq').execute()).map((r) => Number(r.seq));
          assert.deepEqual(seqs, Array.from({ length: 30 }, (_, i) => i + 1));

          await t.storage.db.updateTable('audit_log').set({ details: '{"n":999}' }).where('seq', '=', 10).execute();
          assert.deepEqual(await verifyAuditChain(t.storage.db), { ok: false, entries: 9, brokenAt: 10 });
        } finally {
          await t.close();
        }
      });

      test('group commit: a collector runs once per batch with the items of the jobs that succeeded', async () => {
        const t = await freshDb(kind);
        try {
          await sql`create table collected (item text primary key)`.execute(t.storage.db);
          const calls: string[][] = [];
          const collector: Collector<string> = async (trx, items) => {
            calls.push([...items]);
            if (items.includes('poison')) throw new Error('collector refuses poison');
            for (const item of items) await sql`insert into collected (item) values (${item})`.execute(trx);
          };
          const jobs = Array.from({ length: 20 }, (_, i) =>
            t.storage.batcher.run(async (trx, batch) => {
              await trx.insertInto('inquiry').values(inquiryRow(i)).execute();
              batch.collect(collector, i === 13 ? 'poison' : `item${i}`);
              if (i === 5) throw new Error('job 5 fails in its own work');
              return i;
            }),
          );
          const settled = await Promise.allSettled(jobs);
          const failed = settled.flatMap((s, i) => (s.status === 'rejected' ? [i] : []));
          // Job 5 fails by itself; job 13's item makes the collector fail, and only job 13 is blamed once each job runs alone.
          assert.deepEqual(failed, [5, 13]);
          const ids = (await t.storage.db.selectFrom('inquiry').select('id').execute()).map((r) => r.id).sort();
          assert.deepEqual(ids, Array.from({ length: 20 }, (_, i) => i).filter((i) => i !== 5 && i !== 13).map((i) => `id-${i}`).sort());
          const written = (await sql<{ item: string }>`select item from collected`.execute(t.storage.db)).rows.map((r) => r.item).sort();
          assert.deepEqual(written, ids.map((id) => `item${id.slice(3)}`).sort(), 'collected items of committed jobs only, each once');
          assert.ok(calls.some((items) => items.length > 1), 'the collector saw several jobs at once');
        } finally {
          await t.close();
        }
      });

      test('audit: entries appended in batches form one chain, in order, with none from failed jobs', async () => {
        const t = await freshDb(kind);
        try {
          const at = new Date('2026-11-25T12:00:00Z');
          const jobs = Array.from({ length: 50 }, (_, i) =>
            t.storage.batcher.run(async (trx, batch) => {
              await trx.insertInto('inquiry').values(inquiryRow(i)).execute();
              batch.collect(auditCollector, { at, input: { actor: 'test', action: 'inquiry.created', entityType: 'inquiry', entityId: `id-${i}` } });
              if (i % 9 === 4) throw new Error('fails after auditing');
            }),
          );
          await Promise.allSettled(jobs);
          await auditAlone(t.storage, at, { actor: 'test', action: 'single', entityType: 'x', entityId: 'after' });
          const kept = Array.from({ length: 50 }, (_, i) => i).filter((i) => i % 9 !== 4);
          assert.deepEqual(await verifyAuditChain(t.storage.db), { ok: true, entries: kept.length + 1 });
          const entities = (await t.storage.db.selectFrom('audit_log').select(['seq', 'entity_id']).orderBy('seq').execute()).map((r) => r.entity_id);
          assert.deepEqual(entities.slice(0, -1).sort(), kept.map((i) => `id-${i}`).sort(), 'an entry stands or falls with its job');
          assert.equal(entities.at(-1), 'after');
        } finally {
          await t.close();
        }
      });

      test('audit: two instances over one database, writing at once and in turns, form one unforked chain', async () => {
        const t = await freshDb(kind);
        // A second instance has its own pool and batcher, as another process would.
        const other = openStorage(t.database.target);
        try {
          const at = new Date('2026-11-25T12:00:00Z');
          const append = (storage: Storage, id: string) => storage.batcher.run(async (_trx, batch) => batch.collect(auditCollector, { at, input: { actor: 'test', action: 'x', entityType: 'x', entityId: id } }));
          const ids: string[] = [];
          for (let round = 0; round < 6; round++) {
            // In turns: each instance finds the head where the other one left it.
            for (const [name, storage] of [['a', t.storage], ['b', other]] as const) {
              ids.push(`${name}-${round}`);
              await append(storage, `${name}-${round}`);
            }
            // At once: batches of both instances overlap.
            const burst = Array.from({ length: 40 }, (_, i) => `${i % 2 ? 'a' : 'b'}-${round}-${i}`);
            ids.push(...burst);
            await Promise.all(burst.map((id) => append(id.startsWith('a') ? t.storage : other, id)));
          }
          assert.deepEqual(await verifyAuditChain(t.storage.db), { ok: true, entries: ids.length });
          const stored = (await t.storage.db.selectFrom('audit_log').select('entity_id').execute()).map((r) => r.entity_id);
          assert.deepEqual(stored.sort(), [...ids].sort(), 'every entry once');
        } finally {
          await other.close();
          await t.close();
        }
      });

      test('multi-row insert: every batch size from 1 to 70 stores every row once with its own values', async () => {
        const t = await freshDb(kind);
        try {
          await sql`create table bulk_rows (seq integer not null, label text)`.execute(t.storage.db);
          const expected: Array<{ seq: number; label: string | null }> = [];
          for (let size = 1; size <= 70; size++) {
            const rows = Array.from({ length: size }, () => ({ seq: expected.length + 1, label: size % 3 ? `row ${expected.length + 1} of ${size}` : null }));
            expected.push(...rows.map((r) => ({ ...r })));
            await insertRows(t.storage.db, 'bulk_rows' as never, rows);
          }
          const { rows } = await sql<{ seq: number; label: string | null }>`select seq, label from bulk_rows order by seq`.execute(t.storage.db);
          assert.deepEqual(rows.map((r) => ({ seq: Number(r.seq), label: r.label })), expected, 'each row once, with its own values');
        } finally {
          await t.close();
        }
      });

      test('inquiry insert: a taken submission key or reference answers false and leaves the transaction usable', async () => {
        const t = await freshDb(kind);
        try {
          const outcome = await t.storage.db.transaction().execute(async (trx) => {
            const first = await insertInquiry(trx, inquiryRow(1));
            const sameKey = await insertInquiry(trx, { ...inquiryRow(2), submission_key: 'key-1' });
            const sameReference = await insertInquiry(trx, { ...inquiryRow(3), reference: inquiryRow(1).reference });
            // On PostgreSQL a failed statement would have aborted the transaction here.
            const next = await insertInquiry(trx, inquiryRow(4));
            return [first, sameKey, sameReference, next];
          });
          assert.deepEqual(outcome, [true, false, false, true]);
          const ids = (await t.storage.db.selectFrom('inquiry').select('id').orderBy('id').execute()).map((r) => r.id);
          assert.deepEqual(ids, ['id-1', 'id-4']);
        } finally {
          await t.close();
        }
      });

      test('lead statement: one statement per batch for every job; each job starts with its own row; a failing lead reruns each job alone', async () => {
        const t = await freshDb(kind);
        try {
          const calls: number[][] = [];
          const lead: Lead<number, string> = async (trx, items) => {
            calls.push([...items]);
            if (items.includes(13) && items.length > 1) throw new Error('the lead refuses 13 among others');
            for (const i of items) await trx.insertInto('inquiry').values(inquiryRow(i)).execute();
            return items.map((i) => `row-${i}`);
          };
          const jobs = Array.from({ length: 20 }, (_, i) =>
            t.storage.batcher.runLed(lead, i, async (trx, _batch, led) => {
              const found = await trx.selectFrom('inquiry').select('id').where('id', '=', `id-${i}`).executeTakeFirst();
              return `${led} ${found?.id}`;
            }),
          );
          const results = await Promise.all(jobs);
          assert.deepEqual(results, Array.from({ length: 20 }, (_, i) => `row-${i} id-${i}`), 'each job has its own result, in a transaction that holds its row');
          assert.ok(calls.some((items) => items.length > 1), 'the lead ran once for several jobs');
          assert.ok(calls.some((items) => items.length === 1 && items[0] === 13), 'after the failure, job 13 ran alone');
          assert.equal(Number((await t.storage.db.selectFrom('inquiry').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n), 20, 'no row twice, none lost');
        } finally {
          await t.close();
        }
      });

      test('person and inquiry for a batch: one address twice is one person with the later name; a submission key twice keeps the first', async () => {
        const t = await freshDb(kind);
        try {
          const at = '2026-11-25T11:00:00.000Z';
          const item = (i: number, email: string, name: string, key: string): InquiryWithPerson => {
            const { person_id: _unused, ...inquiry } = inquiryRow(i);
            // The person made by freshDb has the subject key k:1.
            const subjectKey = email === 'p1@example.com' ? 'k:1' : `k:${email}`;
            return { person: { id: `new-${i}`, subjectKey, email, name, at }, inquiry: { ...inquiry, submission_key: key } };
          };
          const items = [
            item(1, 'a@example.com', 'A First', 'key-1'),
            item(2, 'b@example.com', 'B Only', 'key-2'),
            item(3, 'a@example.com', 'A Later', 'key-3'),
            item(4, 'c@example.com', 'C Resend', 'key-2'),
            item(5, 'p1@example.com', 'P Renamed', 'key-5'),
          ];
          const written = await t.storage.db.transaction().execute((trx) => insertInquiriesWithPeople(trx, items));
          const people = await t.storage.db.selectFrom('person').select(['id', 'email', 'name']).orderBy('email').execute();
          const idOf = (email: string) => people.find((p) => p.email === email)?.id;
          assert.deepEqual(people.map((p) => [p.email, p.name]), [['a@example.com', 'A Later'], ['b@example.com', 'B Only'], ['c@example.com', 'C Resend'], ['p1@example.com', 'P Renamed']]);
          assert.deepEqual(written.map((w) => w.inserted), [true, true, true, false, true]);
          assert.deepEqual(written.map((w) => w.personId), [idOf('a@example.com'), idOf('b@example.com'), idOf('a@example.com'), idOf('c@example.com'), PERSON]);
          const inquiries = await t.storage.db.selectFrom('inquiry').select(['id', 'person_id', 'submission_key']).orderBy('id').execute();
          assert.deepEqual(inquiries.map((r) => [r.id, r.person_id, r.submission_key]), [
            ['id-1', idOf('a@example.com'), 'key-1'],
            ['id-2', idOf('b@example.com'), 'key-2'],
            ['id-3', idOf('a@example.com'), 'key-3'],
            ['id-5', PERSON, 'key-5'],
          ]);
        } finally {
          await t.close();
        }
      });

      test('audit: deleting a middle entry or the tail is detected', async () => {
        const t = await freshDb(kind);
        try {
          const at = new Date('2026-11-25T12:00:00Z');
          for (let i = 0; i < 5; i++) {
            await auditAlone(t.storage, at, { actor: 'test', action: 'a', entityType: 'x', entityId: String(i) });
          }
          await t.storage.db.deleteFrom('audit_log').where('seq', '=', 5).execute();
          const tail = await verifyAuditChain(t.storage.db);
          assert.equal(tail.ok, false, 'truncating the tail is detected by the chain head');
          await t.storage.db.deleteFrom('audit_log').where('seq', '=', 3).execute();
          const middle = await verifyAuditChain(t.storage.db);
          assert.equal(middle.ok, false);
          assert.equal(middle.brokenAt, 4);
        } finally {
          await t.close();
        }
      });
    });
  }
});

describe('unit of work and the person migration', () => {
  for (const kind of kinds) {
    test(`${kind}: audit, mail and afterCommit behave alike in a batch and in a transaction of its own; nothing of a failed unit survives`, async () => {
      const t = await freshDb(kind);
      try {
        const at = new Date('2026-11-29T12:00:00Z');
        const woken: string[] = [];
        const deps = { storage: t.storage, now: () => at, mailQueued: () => woken.push('mail') };
        const draft = { to: 'someone@example.com', subject: 's', text: 't', headers: {} };
        const committed: string[] = [];
        for (const [name, run] of [['batch', inBatch], ['alone', inTransaction]] as const) {
          await run(deps, async (uow) => {
            uow.audit({ actor: 'test', action: `unit.${name}`, entityType: 'x', entityId: name });
            uow.queueMail('test', draft, { personId: PERSON });
            uow.queueMail('test', draft);
            uow.afterCommit(() => committed.push(name));
            assert.deepEqual(committed.filter((c) => c === name), [], 'not before COMMIT');
          });
          await assert.rejects(
            run(deps, async (uow) => {
              uow.audit({ actor: 'test', action: `unit.${name}.failed`, entityType: 'x', entityId: name });
              uow.queueMail('test', draft);
              uow.afterCommit(() => committed.push(`${name}-failed`));
              throw new Error('the unit fails');
            }),
            /the unit fails/,
          );
        }
        assert.deepEqual(committed, ['batch', 'alone']);
        assert.deepEqual(woken, ['mail', 'mail'], 'the mail job is woken once per committed unit that queued mail');
        const actions = (await t.storage.db.selectFrom('audit_log').select('action').orderBy('seq').execute()).map((r) => r.action);
        assert.deepEqual(actions, ['unit.batch', 'unit.alone']);
        assert.equal((await t.storage.db.selectFrom('outbox').select('id').execute()).length, 4);
        assert.equal((await t.storage.db.selectFrom('outbox').select('id').where('person_id', '=', PERSON).execute()).length, 2);
        assert.deepEqual(await verifyAuditChain(t.storage.db), { ok: true, entries: 2 });
        // A draft that could add a recipient fails its own unit before anything is written.
        await assert.rejects(inBatch(deps, async (uow) => uow.queueMail('test', { ...draft, to: 'a@example.com, b@example.com' })), /refused/);
      } finally {
        await t.close();
      }
    });

    test(`${kind}: the person migration moves contact details out of inquiries and consent records into one row per address`, async () => {
      const database = await createTestDatabase(kind);
      const storage = openStorage(database.target);
      try {
        await migrateTo(storage.db, '2026-11-25-initial');
        const db = storage.db as unknown as Kysely<any>;
        const row = (i: number, email: string, name: string, at: string) => ({
          id: `i${i}`, reference: `LT-OLD0000${i}`, form: 'demo', name, email, company: 'Co', role: 'R', country: 'IE', context: null,
          free_mail: 0, notice_version: '2026-11-25', submission_key: `k${i}`, created_at: at, delete_after: at,
        });
        await db.insertInto('inquiry').values([row(1, 'Ann@example.com', 'Ann Old', '2026-11-26T10:00:00.000Z'), row(2, 'ann@example.com', 'Ann New', '2026-11-27T10:00:00.000Z'), row(3, 'bob@example.com', 'Bob', '2026-11-26T11:00:00.000Z')]).execute();
        await db.insertInto('consent_record').values({ id: 'c1', subject_key: 'legacy', email: 'ann@example.com', name: 'Ann New', company: 'Co', country: 'IE', inquiry_id: 'i2', purpose: 'marketing', action: 'granted', wording: 'w', notice_version: '2026-11-25', channel: 'web-form:demo', recorded_at: '2026-11-27T10:00:00.000Z' }).execute();
        await db.insertInto('outbox').values({ id: 'o1', kind: 'x', inquiry_id: 'i3', to_address: 'bob@example.com', subject: 's', text_body: 't', headers: '{}', status: 'pending', attempts: 0, next_attempt_at: '2026-11-26T11:00:00.000Z', created_at: '2026-11-26T11:00:00.000Z' }).execute();

        assert.deepEqual(await migrateTo(storage.db, '2026-11-29-person'), ['2026-11-29-person']);
        const people = await storage.db.selectFrom('person').selectAll().orderBy('email').execute();
        assert.deepEqual(people.map((p) => [p.email, p.name]), [['ann@example.com', 'Ann New'], ['bob@example.com', 'Bob']], 'one row per address, latest details');
        const ann = people[0].id;
        const inquiries = await storage.db.selectFrom('inquiry').select(['id', 'person_id']).orderBy('id').execute();
        assert.deepEqual(inquiries.map((i) => i.person_id), [ann, ann, people[1].id]);
        assert.equal((await storage.db.selectFrom('consent_record').select('person_id').executeTakeFirstOrThrow()).person_id, ann);
        assert.equal((await storage.db.selectFrom('outbox').select('person_id').executeTakeFirstOrThrow()).person_id, people[1].id);
        // This schema's own columns only (listing every schema races with other tests).
        const columns = async (table: string) =>
          kind === 'postgres'
            ? (await sql<{ name: string }>`select column_name as name from information_schema.columns where table_schema = current_schema() and table_name = ${table}`.execute(db)).rows.map((r) => r.name)
            : (await sql<{ name: string }>`select name from pragma_table_info(${table})`.execute(db)).rows.map((r) => r.name);
        assert.ok(!(await columns('inquiry')).includes('email') && !(await columns('inquiry')).includes('name'), 'no copy left in inquiries');
        assert.ok(!(await columns('consent_record')).some((c) => ['email', 'name', 'company', 'country', 'subject_key'].includes(c)), 'no copy left in consent records');
        assert.ok(people.every((p) => p.subject_key.startsWith('unkeyed:')), 'keys are made at the next start, which has the secret');
      } finally {
        await storage.close();
        await database.drop();
      }
    });
  }
});
