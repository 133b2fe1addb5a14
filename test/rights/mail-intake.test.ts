// Requests by mail, over a real SMTP exchange with the inbound listener: subjects as
// people write them open a request (and only mail to the privacy address), the same
// Message-ID twice opens one, a reply in the thread or to the acknowledgement joins
// it, other mail stays in triage, and the acknowledgement reaches a real SMTP sink
// with the due dates worked out by hand.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { meansPrivacySubject } from '../../src/rights/privacy-subject.ts';
import { listTriage } from '../../src/correspondence/list-triage.ts';
import { assertLogsClean, audit, delivered, events, requests, verifyLinkIn, withDesk } from './support.ts';

const requester = 'grace.hopper@cobol.example.org';

describe('subjects that mean "Privacy question"', () => {
  test('any case, spacing, punctuation and reply prefixes in several languages; not look-alikes', () => {
    const yes = ['Privacy question', 'RE: privacy  QUESTION', 'Re: Re: Fwd: Privacy question', 'AW: WG: privacy question', 'TR: Privacy question!', 'SV: VS: privacy question?', 'FW: [Privacy question]', 'Re[2]: Privacy-question', '  privacy   question  ', 'Privacy question - please delete my data', 'PRIVACY QUESTION: access', 'Ｐｒｉｖａｃｙ　ｑｕｅｓｔｉｏｎ'];
    const no = ['Privacy questions', 'A privacy question', 'Privacy questionnaire', 'Question about privacy', 'Re: Question about my data', '', 'privacy'];
    for (const s of yes) assert.ok(meansPrivacySubject(s, 'Privacy question'), `matches ${JSON.stringify(s)}`);
    for (const s of no) assert.ok(!meansPrivacySubject(s, 'Privacy question'), `does not match ${JSON.stringify(s)}`);
  });
});

describe('requests by mail over SMTP', () => {
  test('"RE: privacy  QUESTION" opens a request; the acknowledgement reaches the sink with the dates; a duplicate opens nothing; a reply joins it', async () => {
    await withDesk(async (env) => {
      const { server, client } = env;
      const privacy = server.running.deps.policy.policy.organisation.privacy_address;
      const first = { from: `Grace Hopper <${requester}>`, to: privacy, subject: 'RE: privacy  QUESTION', text: 'Please tell me what you hold about me.', messageId: '<pq-1@cobol.example.org>' };
      const info = await client.sendMail(first);
      assert.match(String(info.response), /^250 /);

      let rows = await requests(server);
      assert.equal(rows.length, 1);
      const [r] = rows;
      assert.equal(r.channel, 'mail');
      assert.equal(r.type, 'unspecified', 'mail says no type: staff set it');
      assert.equal(r.jurisdiction, 'unspecified');
      assert.equal(r.status, 'verifying');
      assert.equal(r.requester_email, requester);
      assert.equal(r.received_at, '2026-12-02T10:00:00.000Z');
      // Received Wednesday 2 December 2026 in Dublin: one business day is Thursday 3
      // December; ten are 3, 4, 7, 8, 9, 10, 11, 14, 15, 16 December (no Irish public
      // holiday among them), ending at 23:59:59.999 Dublin time (UTC+0 in December).
      assert.equal(r.acknowledge_by, '2026-12-03T23:59:59.999Z');
      assert.equal(r.respond_by, '2026-12-16T23:59:59.999Z');
      assert.equal(r.respond_rule_kind, 'company', 'type and jurisdiction unknown: the company rule');
      assert.ok(r.thread_id, 'the mail is kept in the request\'s thread');
      assert.ok(r.verify_token_hash && !r.verify_token_hash.includes(r.id), 'the link is stored as a keyed hash');
      assert.deepEqual((await events(server, r.id)).map((e) => e.event), ['received', 'acknowledged', 'verifying']);

      const [ack] = await delivered(env, 1);
      assert.deepEqual(ack.envelopeTo, [requester]);
      assert.match(ack.parsed.subject ?? '', new RegExp(`${r.reference}`));
      assert.equal(ack.parsed.inReplyTo, '<pq-1@cobol.example.org>', 'threads under their mail');
      const text = ack.parsed.text ?? '';
      assert.match(text, /by Wednesday 16 December 2026 at the latest/);
      assert.match(text, /by Thursday 3 December 2026/);
      assert.match(text, /privacy question/i);
      assert.match(text, /tell us where you live/, 'the company deadline is said to be ours until we know where they live');
      const link = verifyLinkIn(ack);
      assert.ok(!r.verify_token_hash.includes(link.split('/').at(-1)!), 'the stored hash is not the token');

      // The same message delivered again: accepted, nothing new.
      const again = await client.sendMail({ ...first, text: 'a second copy' });
      assert.match(String(again.response), /^250 /);
      assert.equal((await requests(server)).length, 1);
      await server.running.jobs.runNow('outbox.deliver');
      assert.equal(env.sink.messages.length, 1, 'one acknowledgement');

      // Their reply to our acknowledgement joins the request (and its thread).
      env.clock.advance(3600_000);
      await client.sendMail({ from: requester, to: privacy, subject: `Re: Privacy question (${r.reference})`, text: 'I live in Ireland; a copy please.', inReplyTo: ack.parsed.messageId, references: [ack.parsed.messageId!], messageId: '<pq-2@cobol.example.org>' });
      rows = await requests(server);
      assert.equal(rows.length, 1, 'a reply opens nothing new');
      const msgs = await server.running.deps.storage.db.selectFrom('mail_message').select(['thread_id', 'message_id']).orderBy('at').orderBy('id').execute();
      assert.equal(msgs.length, 2);
      assert.ok(msgs.every((m) => m.thread_id === r.thread_id));
      assert.deepEqual((await events(server, r.id)).map((e) => e.event), ['received', 'acknowledged', 'verifying', 'mail_received']);

      // Request threads are the privacy desk's, not triage's.
      assert.equal((await listTriage(server.running.deps, { staffAccountId: 'a', sessionId: 's' })).threads.length, 0);
      const entries = (await audit(server)).filter((a) => a.entity_type === 'privacy_request');
      assert.deepEqual(entries.map((a) => a.action), ['privacy_request.received', 'privacy_request.acknowledged', 'privacy_request.verifying', 'privacy_request.mail_received']);
      for (const e of entries) assert.ok(!e.details.includes('@') && !e.details.toLowerCase().includes('hopper'), 'ids and states only');
      assertLogsClean(server, [requester, 'Hopper']);
    });
  });

  test('an RFC 2047 encoded subject opens a request; mail to another address or about something else does not', async () => {
    await withDesk(async (env) => {
      const { server, client } = env;
      const org = server.running.deps.policy.policy.organisation;
      const encoded = `=?UTF-8?B?${Buffer.from('AW: Privacy question ✉').toString('base64')}?=`;
      await client.sendMail({ from: requester, to: org.privacy_address, subject: encoded, text: 'Bitte löschen.', messageId: '<pq-enc@cobol.example.org>' });
      const q = `=?ISO-8859-1?Q?SV=3A_privacy_question?=`;
      await client.sendMail({ from: 'ada@example.net', to: org.privacy_address, subject: q, text: 'Hej.', messageId: '<pq-q@example.net>' });
      // To the sales inbox, and another subject to the privacy address: triage as before.
      await client.sendMail({ from: 'bob@example.net', to: org.staff_inbox, subject: 'Privacy question', text: 'x', messageId: '<other-1@example.net>' });
      await client.sendMail({ from: 'bob@example.net', to: org.privacy_address, subject: 'Question about my data', text: 'x', messageId: '<other-2@example.net>' });
      const rows = await requests(server);
      assert.equal(rows.length, 2);
      assert.deepEqual(rows.map((r) => r.requester_email).sort(), ['ada@example.net', requester]);
      const triage = await listTriage(server.running.deps, { staffAccountId: 'a', sessionId: 's' });
      assert.equal(triage.threads.length, 2, 'the other two wait in triage');
      const mails = await delivered(env, 2);
      assert.deepEqual(mails.map((m) => m.envelopeTo[0]).sort(), ['ada@example.net', requester]);
      assertLogsClean(server, [requester, 'ada@example.net']);
    });
  });
});
