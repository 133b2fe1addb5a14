// The sweep applies the policy's rules: what is due goes (with its threads, messages,
// attachments and outbox mail, and then the person nothing refers to any longer), what a
// hold covers stays, each batch is in the deletion log, and a second run deletes nothing.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runSweep } from '../../src/retention/sweep.ts';
import { placeHold } from '../../src/retention/holds.ts';
import { hashDeletedIds } from '../../src/retention/deletion-log.ts';
import { availableDbKinds, testDb } from '../support/db.ts';
import { runCli } from '../cli/run-cli.ts';
import { addConsent, addFulfilledRequest, addInquiry, addPerson, addPrivacyRequest, addTriageThread, DAY_MS, iso, sweepDeps, tableCount, testSigner } from './seed.ts';

const { kinds, skipped } = await availableDbKinds();
const NOW = Date.parse('2026-12-01T03:00:00Z');
const ago = (days: number) => iso(NOW - days * DAY_MS);

describe('retention sweep', () => {
  if (skipped) test(skipped, { skip: skipped }, () => undefined);
  for (const kind of kinds) {
    test(`${kind}: deletes exactly what the rules make due, never what a hold covers; logs each batch; a second run deletes nothing`, async () => {
      const t = await testDb(kind);
      try {
        const db = t.storage.db;
        const deps = sweepDeps(t.storage, () => new Date(NOW));
        const person = (email: string, days: number) => addPerson(db, { email, at: ago(days) });
        const a = await person('a@engines.example', 200);
        const closedOld = await addInquiry(db, { personId: a, createdAt: ago(400), status: 'closed', closedAt: ago(200), lastActivityAt: ago(200), messages: 3, context: 'closed-old' });
        const b = await person('b@engines.example', 100);
        const closedRecent = await addInquiry(db, { personId: b, createdAt: ago(300), status: 'closed', closedAt: ago(100), lastActivityAt: ago(100), messages: 2 });
        const c = await person('c@quiet.example', 300);
        const quiet = await addInquiry(db, { personId: c, createdAt: ago(400), status: 'in_conversation', lastActivityAt: ago(300), messages: 2 });
        const c2 = await person('c2@quiet.example', 200);
        const quietRecent = await addInquiry(db, { personId: c2, createdAt: ago(400), status: 'in_conversation', lastActivityAt: ago(200) });
        const d = await person('d@held-person.example', 200);
        const heldByPerson = await addInquiry(db, { personId: d, createdAt: ago(200) });
        const e = await person('e@Held-Domain.example', 200);
        const heldByDomain = await addInquiry(db, { personId: e, createdAt: ago(200) });
        const f = await person('f@contract.example', 200);
        const contractEnded = await addInquiry(db, { personId: f, createdAt: ago(200) });
        const g = await person('g@consent.example', 1500);
        await addConsent(db, g, 'granted', ago(1500));
        await addConsent(db, g, 'withdrawn', ago(1200));
        const h = await person('h@consent.example', 2000);
        await addConsent(db, h, 'granted', ago(2000));
        const oldTriage = await addTriageThread(db, { fromAddress: 'stranger@nowhere.example', at: ago(200) });
        const heldTriage = await addTriageThread(db, { fromAddress: 'x@held-domain.example', at: ago(200) });
        const newTriage = await addTriageThread(db, { fromAddress: 'stranger@nowhere.example', at: ago(10) });
        await db.insertInto('outbox').values({ id: '00000000-0000-4000-8000-00000000000a', kind: 'receipt', inquiry_id: null, person_id: h, to_address: '', subject: '', text_body: '', headers: '{}', status: 'sent', attempts: 1, next_attempt_at: ago(40), locked_until: null, last_error: null, created_at: ago(40), sent_at: ago(40) }).execute();

        const oldRequest = await addFulfilledRequest(db, { email: 'asked@long-ago.example', at: ago(1200) });
        const recentRequest = await addFulfilledRequest(db, { email: 'asked@recently.example', at: ago(100) });
        const holdDeps = { storage: t.storage, now: () => new Date(NOW - 400 * DAY_MS), mailQueued: () => undefined };
        await placeHold(holdDeps, { actor: 'cli', kind: 'legal_hold', scope: 'person', target: d, reason: 'matter 1' });
        await placeHold(holdDeps, { actor: 'cli', kind: 'legal_hold', scope: 'domain', target: 'held-domain.example', reason: 'matter 2' });
        await placeHold(holdDeps, { actor: 'cli', kind: 'contract', scope: 'inquiry', target: contractEnded.id, reason: 'ended', until: ago(1).slice(0, 10) });

        const dry = await runSweep(deps, { trigger: 'cli', dryRun: true });
        const byRule = Object.fromEntries(dry.rules.map((r) => [r.rule, r]));
        assert.equal(byRule.inquiries_closed.due, 1);
        assert.equal(byRule.inquiries_closed.oldest, ago(200));
        assert.equal(byRule.inquiries_quiet.due, 1);
        assert.equal(byRule.inquiries_unanswered.due, 1, 'the ended contract no longer holds');
        assert.equal(byRule.inquiries_unanswered.held, 2);
        assert.equal(byRule.triage_mail.due, 1);
        assert.equal(byRule.triage_mail.held, 1);
        assert.equal(byRule.privacy_requests.due, 1, 'a request done 3 years ago is due; one done 100 days ago is not');
        assert.equal(byRule.suppression.applied, false);
        assert.equal(await tableCount(db, 'inquiry'), 7, 'a dry run deletes nothing');
        assert.equal(await tableCount(db, 'deletion_log'), 0);

        const run = await runSweep(deps, { trigger: 'cli', batchSize: 1 });
        const remaining = (await db.selectFrom('inquiry').select('id').execute()).map((r) => r.id).sort();
        assert.deepEqual(remaining, [closedRecent.id, quietRecent.id, heldByPerson.id, heldByDomain.id].sort());
        const threads = (await db.selectFrom('mail_thread').select('id').where('inquiry_id', 'is', null).execute()).map((r) => r.id).sort();
        assert.deepEqual(threads, [heldTriage, newTriage].sort());
        assert.equal(await tableCount(db, 'mail_message'), 2 + 2, 'the closed inquiry\'s 3 and the quiet one\'s 2 messages went, with the old triage message');
        assert.equal(await tableCount(db, 'mail_attachment'), 1, 'the recent closed inquiry keeps its attachment');
        const people = (await db.selectFrom('person').select('id').execute()).map((r) => r.id).sort();
        assert.deepEqual(people, [b, c2, d, e, h].sort(), 'people nothing refers to any longer are gone; the subscribed one stays');
        assert.equal(await tableCount(db, 'consent_record'), 1);
        assert.equal(await tableCount(db, 'outbox'), 0);
        for (const gone of [closedOld.id, quiet.id, contractEnded.id, oldTriage]) assert.ok(!remaining.includes(gone));
        assert.deepEqual((await db.selectFrom('privacy_request').select('id').execute()).map((r) => r.id), [recentRequest]);
        assert.deepEqual((await db.selectFrom('privacy_request_event').select('request_id').execute()).map((r) => r.request_id), [recentRequest], 'the old request\'s events went with it');
        assert.ok(oldRequest);

        // The log: counts add up to what went, ids only as keyed hashes.
        const log = await db.selectFrom('deletion_log').selectAll().where('run_id', '=', run.runId).execute();
        const sum: Record<string, number> = {};
        for (const entry of log) for (const [table, n] of Object.entries(JSON.parse(entry.counts) as Record<string, number>)) sum[table] = (sum[table] ?? 0) + n;
        assert.deepEqual(sum, { inquiry: 3, mail_thread: 3, mail_message: 6, mail_attachment: 2, outbox: 1, consent_record: 2, person: 4, privacy_request: 1, privacy_request_event: 1 });
        const hashes = log.flatMap((entry) => JSON.parse(entry.affected_id_hashes) as string[]);
        for (const id of [closedOld.id, quiet.id, contractEnded.id, oldTriage, a, g]) assert.ok(hashes.includes(hashDeletedIds(testSigner, [id])[0]), 'the deleted id is in the log as its keyed hash');
        const raw = JSON.stringify(log);
        for (const secret of [closedOld.id, a, 'a@engines.example', 'closed-old']) assert.ok(!raw.includes(secret));
        assert.equal((await db.selectFrom('retention_run').select('status').where('id', '=', run.runId).executeTakeFirstOrThrow()).status, 'done');
        const audit = await db.selectFrom('audit_log').select(['action', 'details']).where('action', '=', 'retention.sweep_finished').executeTakeFirstOrThrow();
        assert.equal(JSON.parse(audit.details).deleted_inquiry, 3);

        const again = await runSweep(deps, { trigger: 'cli' });
        assert.equal(again.rules.reduce((s, r) => s + Object.values(r.counts).reduce((x, y) => x + y, 0), 0), 0, 'a second run deletes nothing');
        assert.equal(await tableCount(db, 'deletion_log'), log.length, 'and logs nothing');
      } finally {
        await t.close();
      }
    });

    test(`${kind}: privacy requests: answered ones past the rule go with their history; open ones never; a hold on the requester (by keyed hash once erased, or domain) keeps them`, async () => {
      const t = await testDb(kind);
      try {
        const db = t.storage.db;
        const deps = sweepDeps(t.storage, () => new Date(NOW));
        const keep = Number(deps.policy.policy.retention.rules.find((r) => r.id === 'privacy_requests')!.keep_days);
        assert.ok(keep > 30, 'the rule keeps requests for a number of days');
        const old = keep + 100;
        const fulfilledOld = await addPrivacyRequest(db, { email: 'old@answered.example', status: 'fulfilled', receivedAt: ago(old + 20), fulfilledAt: ago(old), events: 3 });
        const refusedOld = await addPrivacyRequest(db, { email: '[erased]', status: 'refused', receivedAt: ago(old + 20), refusedAt: ago(old), events: 1 });
        const closedOld = await addPrivacyRequest(db, { email: 'closed@answered.example', status: 'closed', receivedAt: ago(old + 50), closedAt: ago(old), events: 2 });
        const fulfilledRecent = await addPrivacyRequest(db, { email: 'recent@answered.example', status: 'fulfilled', receivedAt: ago(keep - 5), fulfilledAt: ago(keep - 1) });
        const openOld = await addPrivacyRequest(db, { email: 'open@waiting.example', status: 'in_progress', receivedAt: ago(old * 2), events: 2 });
        // A fulfilled deletion of a held person: person_id emptied and the address redacted;
        // the person is found by the requester's keyed hash.
        const held = await addPerson(db, { email: 'held@person.example', at: ago(10), subjectKey: 'k:held' });
        const heldByPerson = await addPrivacyRequest(db, { email: '[erased]', requesterKey: 'k:held', status: 'fulfilled', receivedAt: ago(old + 20), fulfilledAt: ago(old), events: 1 });
        const heldByDomain = await addPrivacyRequest(db, { email: 'x@Held-Domain.example', status: 'closed', receivedAt: ago(old + 20), closedAt: ago(old) });
        const holdDeps = { storage: t.storage, now: () => new Date(NOW - 10 * DAY_MS), mailQueued: () => undefined };
        await placeHold(holdDeps, { actor: 'cli', kind: 'legal_hold', scope: 'person', target: held, reason: 'matter 1' });
        await placeHold(holdDeps, { actor: 'cli', kind: 'legal_hold', scope: 'domain', target: 'held-domain.example', reason: 'matter 2' });

        const dry = (await runSweep(deps, { trigger: 'cli', dryRun: true })).rules.find((r) => r.rule === 'privacy_requests')!;
        assert.deepEqual({ applied: dry.applied, due: dry.due, held: dry.held, oldest: dry.oldest }, { applied: true, due: 3, held: 2, oldest: ago(old) });
        assert.equal(await tableCount(db, 'privacy_request'), 7, 'a dry run deletes nothing');

        const run = await runSweep(deps, { trigger: 'cli', batchSize: 1 });
        const result = run.rules.find((r) => r.rule === 'privacy_requests')!;
        assert.deepEqual(result.counts, { privacy_request: 3, privacy_request_event: 6 });
        const remaining = (await db.selectFrom('privacy_request').select('id').execute()).map((r) => r.id).sort();
        assert.deepEqual(remaining, [fulfilledRecent, openOld, heldByPerson, heldByDomain].sort());
        assert.equal(await tableCount(db, 'privacy_request_event'), 2 + 1, 'the kept requests keep their history');
        const log = await db.selectFrom('deletion_log').selectAll().where('rule', '=', 'privacy_requests').execute();
        const hashes = log.flatMap((entry) => JSON.parse(entry.affected_id_hashes) as string[]);
        for (const id of [fulfilledOld, refusedOld, closedOld]) assert.ok(hashes.includes(hashDeletedIds(testSigner, [id])[0]), 'the deleted request is in the log as its keyed hash');
        assert.ok(!JSON.stringify(log).includes('answered.example'));

        const again = await runSweep(deps, { trigger: 'cli' });
        assert.deepEqual(again.rules.find((r) => r.rule === 'privacy_requests')!.counts, {}, 'a second run deletes nothing');
      } finally {
        await t.close();
      }
    });

    test(`${kind}: lumetrax retention run --dry-run --as-of previews a date; bad dates are refused`, async () => {
      const t = await testDb(kind);
      try {
        const db = t.storage.db;
        const p = await addPerson(db, { email: 'preview@x.example', at: iso(Date.now() - 10 * DAY_MS) });
        await addInquiry(db, { personId: p, createdAt: iso(Date.now() - 10 * DAY_MS), status: 'closed', closedAt: iso(Date.now() - 10 * DAY_MS), lastActivityAt: iso(Date.now() - 10 * DAY_MS) });
        const env = { DATABASE_URL: t.database.url };
        const today = await runCli(['retention', 'run', '--dry-run'], env);
        assert.equal(today.code, 0, today.stderr);
        assert.match(today.stdout, /Dry run as of .*nothing was deleted/);
        assert.match(today.stdout, /inquiries_closed\s+inquiries\s+0 due/);
        const later = new Date(Date.now() + 400 * DAY_MS).toISOString().slice(0, 10);
        const preview = await runCli(['retention', 'run', '--dry-run', '--as-of', later], env);
        assert.equal(preview.code, 0, preview.stderr);
        assert.match(preview.stdout, /inquiries_closed\s+inquiries\s+1 due, oldest from \d{4}-/);
        assert.match(preview.stdout, /suppression\s+suppression\s+not swept: kept indefinitely/);
        assert.equal(await tableCount(db, 'inquiry'), 1, 'a preview deletes nothing');
        const future = await runCli(['retention', 'run', '--as-of', later], env);
        assert.equal(future.code, 2);
        assert.match(future.stderr, /a future date needs --dry-run/);
        const nonsense = await runCli(['retention', 'run', '--dry-run', '--as-of', 'next tuesday'], env);
        assert.equal(nonsense.code, 2);
        assert.match(nonsense.stderr, /--as-of needs a date YYYY-MM-DD/);
      } finally {
        await t.close();
      }
    });
  }
});
