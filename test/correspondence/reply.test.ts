// Staff replies from the console's use case: through the outbox to a real SMTP sink, with
// their own Message-ID and the thread's In-Reply-To/References; the customer's answer to
// it comes back into the same thread; the lifecycle dates move; closing works; staff
// reads are audited with their session; logs name no one.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { replyToThread } from '../../src/correspondence/reply-to-thread.ts';
import { listThreadsForInquiry } from '../../src/correspondence/list-threads-for-inquiry.ts';
import { getThread } from '../../src/correspondence/get-thread.ts';
import { closeInquiry } from '../../src/correspondence/close-inquiry.ts';
import { listTriage } from '../../src/correspondence/list-triage.ts';
import { CorrespondenceError } from '../../src/correspondence/staff-actor.ts';
import { assertSafeDraft } from '../../src/mail/queue-mail.ts';
import { validFields } from '../support/server.ts';
import { assertLogsClean, auditActions, inquiryWithConfirmation, messages, withCorrespondence } from './support.ts';

const staff = { staffAccountId: 'acct-sales-7', sessionId: 'sess-77' };
const visitor = { ...validFields, email: 'grace@compilers.example.net', name: 'Grace Hopper' };

function rawHeader(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
  return head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))?.slice(name.length + 1).trim();
}

describe('staff replies', () => {
  test('a reply reaches the customer with its own Message-ID and the thread\'s In-Reply-To/References; their answer threads back', async () => {
    await withCorrespondence(async (env) => {
      const { server, sink, client } = env;
      const deps = server.running.deps;
      const { organisation, correspondence } = deps.policy.policy;
      const { inquiryId, confirmationId } = await inquiryWithConfirmation(env, visitor);
      await client.sendMail({ from: visitor.email, to: organisation.staff_inbox, subject: 'Re: We received your demo request', text: 'When can we talk?', inReplyTo: confirmationId, references: [confirmationId], messageId: '<grace-1@compilers.example.net>' });
      const [inbound] = await messages(server);

      const threadsBefore = await listThreadsForInquiry(deps, { ...staff, inquiryId });
      assert.equal(threadsBefore.length, 1);
      const threadId = threadsBefore[0].id;
      const sent = await replyToThread(deps, { threadId, staffAccountId: staff.staffAccountId, sessionId: staff.sessionId, text: 'Thursday at 14:00?\nBest,\nSales' });
      const mail = (await sink.waitFor(3))[2];
      await server.running.jobs.idle();

      assert.deepEqual(mail.envelopeTo, [visitor.email]);
      const domain = organisation.mail_from.replace(/^.*@|>$/g, '');
      assert.equal(mail.parsed.messageId, `<${sent.outboxId}@${domain}>`, 'its own Message-ID, the outbox id');
      assert.equal(sent.messageId, mail.parsed.messageId);
      assert.equal(rawHeader(mail.raw, 'in-reply-to'), '<grace-1@compilers.example.net>');
      assert.equal(rawHeader(mail.raw, 'references'), `${confirmationId} <grace-1@compilers.example.net>`);
      assert.equal(mail.parsed.inReplyTo, '<grace-1@compilers.example.net>');
      assert.equal(rawHeader(mail.raw, 'reply-to'), correspondence.reply_address);
      assert.equal(mail.parsed.subject, 'Re: We received your demo request');
      assert.equal(mail.parsed.text?.trim(), 'Thursday at 14:00?\nBest,\nSales');

      const stored = await messages(server);
      assert.equal(stored.length, 2);
      const out = stored.find((m) => m.direction === 'out')!;
      assert.equal(out.message_id, sent.messageId);
      assert.equal(out.thread_id, inbound.thread_id);
      assert.equal(out.staff_account_id, staff.staffAccountId);
      const inquiry = await deps.storage.db.selectFrom('inquiry').selectAll().where('id', '=', inquiryId).executeTakeFirstOrThrow();
      assert.equal(inquiry.status, 'in_conversation', 'the first staff reply starts the conversation');
      assert.equal(inquiry.last_activity_at, out.at);

      // Their answer to the staff reply: threaded by In-Reply-To to our outbound Message-ID.
      await client.sendMail({ from: visitor.email, to: correspondence.reply_address, subject: 'Re: Re: We received your demo request', text: 'Thursday is fine.', inReplyTo: sent.messageId, references: [confirmationId, '<grace-1@compilers.example.net>', sent.messageId], messageId: '<grace-2@compilers.example.net>' });
      const view = await getThread(deps, { ...staff, threadId });
      assert.deepEqual(view?.messageList.map((m) => [m.direction, m.messageId]), [
        ['in', '<grace-1@compilers.example.net>'],
        ['out', sent.messageId],
        ['in', '<grace-2@compilers.example.net>'],
      ]);
      assert.deepEqual(view?.messageList[1].from, { kind: 'staff', staffAccountId: staff.staffAccountId });

      // A second reply carries the whole chain.
      const second = await replyToThread(deps, { threadId, staffAccountId: staff.staffAccountId, sessionId: staff.sessionId, text: 'See you then.' });
      const mail2 = (await sink.waitFor(4))[3];
      assert.equal(rawHeader(mail2.raw, 'in-reply-to'), '<grace-2@compilers.example.net>');
      assert.equal(rawHeader(mail2.raw, 'references'), `${confirmationId} <grace-1@compilers.example.net> ${sent.messageId} <grace-2@compilers.example.net>`);
      assert.equal(mail2.parsed.messageId, second.messageId);

      // Closing: status, outcome and date; later mail from them goes to triage (no open inquiry).
      const { closedAt } = await closeInquiry(deps, { ...staff, inquiryId, outcome: 'Demo booked' });
      const closed = await deps.storage.db.selectFrom('inquiry').selectAll().where('id', '=', inquiryId).executeTakeFirstOrThrow();
      assert.deepEqual([closed.status, closed.outcome, closed.closed_at], ['closed', 'Demo booked', closedAt]);
      await assert.rejects(closeInquiry(deps, { ...staff, inquiryId, outcome: 'again' }), (e: unknown) => e instanceof CorrespondenceError && e.code === 'conflict');
      await client.sendMail({ from: visitor.email, to: organisation.staff_inbox, subject: 'New question', text: 'Another thing', messageId: '<grace-3@compilers.example.net>' });
      const triage = await listTriage(deps, staff);
      assert.equal(triage.threads.length, 1);
      assert.equal(triage.threads[0].firstFrom.kind, 'person', 'a known person without an open inquiry: triage, by person id');

      const audit = await auditActions(server);
      const mine = audit.filter((a) => a.actor === `staff:${staff.staffAccountId}`);
      assert.deepEqual(mine.map((a) => a.action), ['correspondence.threads_viewed', 'correspondence.replied', 'correspondence.thread_viewed', 'correspondence.replied', 'inquiry.closed', 'correspondence.triage_viewed']);
      for (const e of mine) {
        assert.equal(JSON.parse(e.details).session, staff.sessionId);
        assert.ok(!e.details.includes('@'), 'ids only');
      }
      assertLogsClean(server, [visitor.email, visitor.name, 'compilers.example']);
    });
  });

  test('a triage thread cannot be answered before it is assigned; an empty reply is refused', async () => {
    await withCorrespondence(async ({ server, client }) => {
      const deps = server.running.deps;
      await client.sendMail({ from: 'someone@unknown.example', to: deps.policy.policy.organisation.staff_inbox, subject: 'hi', text: 'hello' });
      const [m] = await messages(server);
      await assert.rejects(replyToThread(deps, { threadId: m.thread_id, staffAccountId: 'a', text: 'hi' }), (e: unknown) => e instanceof CorrespondenceError && e.code === 'conflict');
      await assert.rejects(replyToThread(deps, { threadId: m.thread_id, staffAccountId: 'a', text: '  \n ' }), (e: unknown) => e instanceof CorrespondenceError && e.code === 'invalid');
      await assert.rejects(replyToThread(deps, { threadId: 'no-such-thread', staffAccountId: 'a', text: 'x' }), (e: unknown) => e instanceof CorrespondenceError && e.code === 'not_found');
      assert.equal(await getThread(deps, { staffAccountId: 'a', sessionId: 's', threadId: 'no-such-thread' }), undefined);
    });
  });

  test('the outbox check takes threading headers with <message-id>s only', () => {
    const ok = { to: 'a@b.example', headers: { 'In-Reply-To': '<x@y.example>', References: '<a@b.example> <x@y.example>' } };
    assert.doesNotThrow(() => assertSafeDraft(ok));
    const bad: Array<Record<string, string>> = [
      { 'In-Reply-To': 'x@y.example' },
      { 'In-Reply-To': '<a@b.example> <x@y.example>' },
      { 'In-Reply-To': '<x@y.example>\r\nBcc: evil@attacker.example' },
      { References: '<a@b.example>, evil@attacker.example' },
      { References: '<a@b.example>\nBcc: evil@attacker.example' },
      { References: 'evil@attacker.example' },
      { References: '' },
    ];
    for (const headers of bad) {
      assert.throws(() => assertSafeDraft({ to: 'a@b.example', headers }), /refused/, JSON.stringify(headers));
    }
  });
});
