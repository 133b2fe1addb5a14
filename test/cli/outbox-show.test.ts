// `lumetrax outbox show ID`: with no mail server set, the operator reads a queued
// message in full on their own terminal. Every showing is in the audit trail; stored
// text cannot drive the terminal; a bad or unknown id is one line and exit 1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { insertMessages, markSent } from '../../src/mail/outbox-store.ts';
import { availableDbKinds, testDb, type DbKind } from '../support/db.ts';
import { assertOneLineFailure, runCli } from './run-cli.ts';

const { kinds, skipped } = await availableDbKinds();
if (skipped) console.log(`# ${skipped}`);

for (const kind of kinds as DbKind[]) {
  describe(`lumetrax outbox show (${kind})`, () => {
    let db: Awaited<ReturnType<typeof testDb>>;
    const pending = randomUUID();
    const sent = randomUUID();
    const to = 'ada@analytical-engines.example.com';
    // A visitor's text with a terminal escape, a carriage return and a bidi override in it.
    const body = 'Hello Ada,\r\nWe have your request.\n\u001b[2J\rOVERWRITTEN \u202Eevil';

    before(async () => {
      db = await testDb(kind);
      const queuedAt = '2026-11-29T09:00:00.000Z';
      await insertMessages(db.storage.db, [
        { id: pending, kind: 'inquiry-confirmation', inquiryId: null, personId: null, to, subject: 'We have your request', text: body, headers: { 'Reply-To': 'info@lumetrax.com', 'List-Unsubscribe': '<https://lumetrax.example/u/abc>' }, queuedAt },
        { id: sent, kind: 'staff-notification', inquiryId: null, personId: null, to: 'staff@lumetrax.com', subject: 'New demo request', text: 'Name: Ada', headers: {}, queuedAt },
      ]);
      await markSent(db.storage.db, sent, '2026-11-29T09:00:05.000Z');
    });
    after(() => db.close());

    const auditRows = () => db.storage.db.selectFrom('audit_log').selectAll().orderBy('seq').execute();

    test('prints the whole message and records that it was shown', async () => {
      const before = (await auditRows()).length;
      const res = await runCli(['outbox', 'show', pending], { DATABASE_URL: db.database.url });
      assert.equal(res.code, 0, res.stderr);
      const out = res.stdout;
      assert.match(out, new RegExp(`^Outbox message ${pending}$`, 'm'));
      assert.match(out, /^ {2}kind: +inquiry-confirmation$/m);
      assert.match(out, /^ {2}status: +pending$/m);
      assert.match(out, /^ {2}to: +ada@analytical-engines\.example\.com$/m);
      assert.match(out, /^ {2}subject: +We have your request$/m);
      assert.match(out, /^ {2}attempts: +0$/m);
      assert.match(out, /^ {2}queued: +2026-11-29T09:00:00\.000Z$/m);
      assert.match(out, /^ {2}next attempt: +2026-11-29T09:00:00\.000Z$/m);
      assert.match(out, /^ {2}List-Unsubscribe: <https:\/\/lumetrax\.example\/u\/abc>$/m);
      assert.match(out, /^ {2}Reply-To: info@lumetrax\.com$/m);
      assert.match(out, /^Body:\nHello Ada,\nWe have your request\.\n/m);

      assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/.test(out), 'no raw control or bidi character reaches the terminal');
      assert.ok(out.includes('\\u001b[2J\\u000dOVERWRITTEN \\u202eevil'), 'they are shown escaped');

      const rows = await auditRows();
      assert.equal(rows.length, before + 1, 'one audit entry per showing');
      const entry = rows.at(-1)!;
      assert.equal(entry.action, 'outbox.message_shown');
      assert.equal(entry.actor, 'cli');
      assert.equal(entry.entity_type, 'outbox');
      assert.equal(entry.entity_id, pending);
      assert.ok(!JSON.stringify(entry).includes('ada@'), 'the entry holds no personal value');
      const verify = await runCli(['audit', 'verify'], { DATABASE_URL: db.database.url });
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    });

    test('a sent message shows that its contents were erased', async () => {
      const res = await runCli(['outbox', 'show', sent.toUpperCase()], { DATABASE_URL: db.database.url });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /^ {2}status: +sent$/m);
      assert.match(res.stdout, /^ {2}sent: +2026-11-29T09:00:05\.000Z$/m);
      assert.match(res.stdout, /^ {2}to: +\(erased once the mail server took it\)$/m);
      assert.doesNotMatch(res.stdout, /Name: Ada|staff@lumetrax\.com/);
    });

    test('an unknown id is one line, exit 1, and nothing is audited', async () => {
      const before = (await auditRows()).length;
      const unknown = randomUUID();
      const res = await runCli(['outbox', 'show', unknown], { DATABASE_URL: db.database.url });
      assertOneLineFailure(res, new RegExp(`^outbox show: no message ${unknown} in the outbox: \`lumetrax outbox list --all\` lists the ids there$`));
      assert.equal((await auditRows()).length, before);
    });

    test('a malformed id is one line, exit 1, without echoing what was typed', async () => {
      const before = (await auditRows()).length;
      for (const typed of ['ada@analytical-engines.example.com', '42', `${pending}x`]) {
        const res = await runCli(['outbox', 'show', typed], { DATABASE_URL: db.database.url });
        assertOneLineFailure(res, /^outbox show: ID must be a message id such as [0-9a-f-]{36}, as `lumetrax outbox list --all` shows them$/);
        assert.ok(!res.stderr.includes(typed), 'what was typed is not echoed');
      }
      assert.equal((await auditRows()).length, before);
    });
  });
}
