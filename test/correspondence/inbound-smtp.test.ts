// Inbound mail through the built-in SMTP listener, spoken to by a real SMTP client
// (nodemailer): threading by In-Reply-To to our confirmation mail, by sender, triage,
// de-duplication by Message-ID, refusals with the right codes, sanitised HTML, the
// attachment limit, a malformed message, and logs that name no one.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { listTriage } from '../../src/correspondence/list-triage.ts';
import { assignTriageThread } from '../../src/correspondence/assign-triage-thread.ts';
import { getThread } from '../../src/correspondence/get-thread.ts';
import { getAttachment } from '../../src/correspondence/get-attachment.ts';
import { validFields } from '../support/server.ts';
import { assertLogsClean, auditActions, inquiryWithConfirmation, LIMITS, messages, smtpDialogue, threads, withCorrespondence } from './support.ts';

const staff = { staffAccountId: 'acct-sales-1', sessionId: 'sess-1' };
const visitor = { ...validFields, email: 'ada@analytical-engines.example.com', name: 'Ada Lovelace' };
const stranger = 'charles.babbage@difference.example.org';

describe('inbound mail over SMTP', () => {
  test('a reply to the confirmation lands in its inquiry\'s thread; the same Message-ID twice is stored once', async () => {
    await withCorrespondence(async (env) => {
      const { server, client } = env;
      const db = server.running.deps.storage.db;
      const staffInbox = server.running.deps.policy.policy.organisation.staff_inbox;
      const { inquiryId, personId, confirmationId } = await inquiryWithConfirmation(env, visitor);

      const reply = {
        from: `${visitor.name} <${visitor.email}>`,
        to: staffInbox,
        subject: 'Re: We received your demo request',
        text: 'Tuesday at 10 works for us.',
        inReplyTo: confirmationId,
        references: [confirmationId],
        messageId: '<reply-1@analytical-engines.example.com>',
      };
      const info = await client.sendMail(reply);
      assert.match(String(info.response), /^250 /);

      let stored = await messages(server);
      assert.equal(stored.length, 1);
      const [m] = stored;
      assert.equal(m.direction, 'in');
      assert.equal(m.source, 'smtp');
      assert.equal(m.message_id, '<reply-1@analytical-engines.example.com>');
      assert.equal(m.in_reply_to, confirmationId);
      assert.equal(m.from_person_id, personId, 'the sender is the inquiry\'s person');
      assert.equal(m.from_address, null, 'a known sender\'s address stays in the person row only');
      assert.equal(m.text_body.trim(), reply.text);
      const [thread] = await threads(server);
      assert.equal(thread.inquiry_id, inquiryId);
      assert.equal(thread.person_id, personId);
      const inquiry = await db.selectFrom('inquiry').selectAll().where('id', '=', inquiryId).executeTakeFirstOrThrow();
      assert.equal(inquiry.status, 'new', 'only a staff reply starts the conversation');
      assert.ok(inquiry.last_activity_at, 'last activity is recorded');

      // Delivered again (a retrying server, a second MX): accepted, stored once.
      const again = await client.sendMail({ ...reply, text: 'a second copy' });
      assert.match(String(again.response), /^250 /);
      stored = await messages(server);
      assert.equal(stored.length, 1);
      assert.equal((await threads(server)).length, 1);
      const received = (await auditActions(server)).filter((a) => a.action === 'correspondence.received');
      assert.equal(received.length, 1);
      assert.equal(received[0].actor, 'mail:smtp');
      assert.ok(!received[0].details.includes('@'), 'audit details hold ids only');

      // A later message from the same person, without threading headers: by sender.
      await client.sendMail({ from: visitor.email, to: staffInbox, subject: 'One more thing', text: 'We have 40 sites.', messageId: '<later-1@analytical-engines.example.com>' });
      stored = await messages(server);
      assert.equal(stored.length, 2);
      assert.equal(stored[1].thread_id, thread.id);
      assertLogsClean(server, [visitor.email, visitor.name, 'analytical-engines']);
    });
  });

  test('an unknown sender lands in triage; staff see and assign it, audited with their session', async () => {
    await withCorrespondence(async (env) => {
      const { server, client } = env;
      const deps = server.running.deps;
      const privacy = deps.policy.policy.organisation.privacy_address;
      const { inquiryId, personId } = await inquiryWithConfirmation(env, visitor);

      await client.sendMail({ from: `Charles Babbage <${stranger}>`, to: privacy, subject: 'Question about my data', text: 'What do you hold about me?', messageId: '<q-1@difference.example.org>' });
      const [m] = await messages(server);
      assert.equal(m.from_person_id, null);
      assert.equal(m.from_address, stranger, 'an unknown sender is kept by address until matched');
      const page = await listTriage(deps, staff);
      assert.equal(page.threads.length, 1);
      assert.equal(page.threads[0].inquiryId, null);
      assert.deepEqual(page.threads[0].firstFrom, { kind: 'address', address: stranger });
      assert.equal(page.next, undefined);

      // Their follow-up, replying to their own first message, joins the same triage thread.
      await client.sendMail({ from: stranger, to: privacy, subject: 'Re: Question about my data', text: 'Any news?', inReplyTo: '<q-1@difference.example.org>', references: ['<q-1@difference.example.org>'], messageId: '<q-2@difference.example.org>' });
      assert.equal((await threads(server)).length, 1);
      assert.equal((await listTriage(deps, staff)).threads[0].messages, 2);

      await assignTriageThread(deps, { ...staff, threadId: page.threads[0].id, inquiryId });
      assert.equal((await listTriage(deps, staff)).threads.length, 0);
      const view = await getThread(deps, { ...staff, threadId: page.threads[0].id });
      assert.equal(view?.inquiryId, inquiryId);
      assert.equal(view?.personId, personId);
      assert.equal(view?.messageList.length, 2);

      const audit = await auditActions(server);
      const staffEntries = audit.filter((a) => a.actor === `staff:${staff.staffAccountId}`);
      assert.deepEqual(staffEntries.map((a) => a.action), ['correspondence.triage_viewed', 'correspondence.triage_viewed', 'correspondence.thread_assigned', 'correspondence.triage_viewed', 'correspondence.thread_viewed']);
      for (const e of staffEntries) {
        assert.equal(JSON.parse(e.details).session, staff.sessionId, 'every staff entry names the session');
        assert.ok(!e.details.includes('@') && !e.entity_id.includes('@'), 'ids only');
      }
      assertLogsClean(server, [visitor.email, visitor.name, stranger, 'Babbage']);
    });
  });

  test('a recipient we do not serve is refused 550; a message over the size limit 552; nothing is stored', async () => {
    await withCorrespondence(async ({ server, client }) => {
      const staffInbox = server.running.deps.policy.policy.organisation.staff_inbox;
      await assert.rejects(client.sendMail({ from: stranger, to: 'someone@elsewhere.example', subject: 'relay?', text: 'x' }), (e: { responseCode?: number }) => e.responseCode === 550);
      await assert.rejects(client.sendMail({ from: stranger, to: 'nobody@lumetrax.com', subject: 'guess', text: 'x' }), (e: { responseCode?: number }) => e.responseCode === 550);
      const big = 'x'.repeat(LIMITS.message_max_bytes + 1000);
      await assert.rejects(client.sendMail({ from: stranger, to: staffInbox, subject: 'big', text: big }), (e: { responseCode?: number }) => e.responseCode === 552);
      assert.equal((await messages(server)).length, 0);
      // A client declaring the size up front is refused at MAIL FROM.
      const reply = await smtpDialogue(server.running.inboundSmtp!.port, ['EHLO client.example', `MAIL FROM:<${stranger}> SIZE=${LIMITS.message_max_bytes + 1}`, 'QUIT']);
      assert.match(reply[1], /\bSIZE 200000\b/, 'the limit is announced');
      assert.match(reply[2], /^552 /);
      assertLogsClean(server, [stranger]);
    });
  });

  test('HTML is stored without script, handlers or anything remote; text stays text', async () => {
    await withCorrespondence(async ({ server, client }) => {
      const staffInbox = server.running.deps.policy.policy.organisation.staff_inbox;
      const html = [
        '<html><head><style>body { background: url(https://tracker.example/bg.png) }</style><script>alert(1)</script></head><body>',
        '<p onclick="alert(2)">Hello <b>team</b></p>',
        '<img src="https://tracker.example/pixel.gif" onerror="alert(3)" width="1">',
        '<img src="http://tracker.example/p2.gif">',
        '<div style="background-image: url(\'https://tracker.example/x.png\')">styled</div>',
        '<a href="javascript:alert(4)">js link</a> <a href="https://lumetrax.example/docs">docs</a>',
        '<form action="https://phish.example/"><input name="password"></form>',
        '<iframe src="https://tracker.example/frame"></iframe>',
        '<svg onload="alert(5)"><image href="https://tracker.example/svg.png"/></svg>',
        '<object data="https://tracker.example/obj"></object><link rel="stylesheet" href="https://tracker.example/s.css">',
        '</body></html>',
      ].join('\n');
      await client.sendMail({ from: stranger, to: staffInbox, subject: 'HTML', text: 'Hello team <script>kept as text</script>', html, messageId: '<html-1@difference.example.org>' });
      const [m] = await messages(server);
      const stored = m.html_body ?? '';
      assert.ok(stored.includes('Hello <b>team</b>'), stored);
      for (const banned of ['<script', 'alert(', 'onclick', 'onerror', 'onload', '<img', 'tracker.example', 'url(', 'style=', '<style', '<form', '<input', '<iframe', '<svg', '<object', '<link', 'javascript:']) {
        assert.ok(!stored.toLowerCase().includes(banned), `stored HTML still has ${banned}: ${stored}`);
      }
      assert.match(stored, /<a href="https:\/\/lumetrax\.example\/docs" rel="noopener noreferrer[^"]*"/, 'links kept, with rel=noopener noreferrer');
      assert.equal(m.text_body.trim(), 'Hello team <script>kept as text</script>', 'the text part is kept as it came');
    });
  });

  test('attachments within the limit are stored with the message; one over it is dropped with a note', async () => {
    await withCorrespondence(async ({ server, client }) => {
      const deps = server.running.deps;
      const staffInbox = deps.policy.policy.organisation.staff_inbox;
      const small = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 256));
      const large = Buffer.alloc(LIMITS.attachment_max_bytes + 1, 7);
      await client.sendMail({
        from: stranger,
        to: staffInbox,
        subject: 'files',
        text: 'see attached',
        attachments: [
          { filename: 'site-plan.pdf', content: small, contentType: 'application/pdf' },
          { filename: 'huge.bin', content: large, contentType: 'application/octet-stream' },
        ],
      });
      const [m] = await messages(server);
      assert.match(m.note ?? '', /1 attachment over the limit of 20000 bytes dropped/);
      const view = await getThread(deps, { ...staff, threadId: m.thread_id });
      const attachments = view!.messageList[0].attachments;
      assert.deepEqual(attachments.map((a) => [a.filename, a.contentType, a.size]), [['site-plan.pdf', 'application/pdf', 5000]]);
      const file = await getAttachment(deps, { ...staff, role: 'sales', attachmentId: attachments[0].id });
      assert.ok(file && Buffer.compare(file.content, small) === 0, 'the bytes are stored with the message');
      assert.ok((await auditActions(server)).some((a) => a.action === 'correspondence.attachment_viewed' && JSON.parse(a.details).session === staff.sessionId));
    });
  });

  test('with oversize_attachment: refuse, a message carrying one is refused 552', async () => {
    await withCorrespondence(
      async ({ server, client }) => {
        const staffInbox = server.running.deps.policy.policy.organisation.staff_inbox;
        await assert.rejects(
          client.sendMail({ from: stranger, to: staffInbox, subject: 'files', text: 'x', attachments: [{ filename: 'huge.bin', content: Buffer.alloc(LIMITS.attachment_max_bytes + 1, 1) }] }),
          (e: { responseCode?: number }) => e.responseCode === 552,
        );
        assert.equal((await messages(server)).length, 0);
      },
      { policy: { oversize_attachment: 'refuse' } },
    );
  });

  test('a malformed message is kept in triage with a note, never an error', async () => {
    await withCorrespondence(async ({ server, client }) => {
      const staffInbox = server.running.deps.policy.policy.organisation.staff_inbox;
      const raw = 'From: <<<not an address\r\nContent-Type: multipart/mixed; boundary="\r\n\r\n--\x00\xff garbage\r\n';
      const info = await client.sendMail({ envelope: { from: stranger, to: [staffInbox] }, raw });
      assert.match(String(info.response), /^250 /);
      const [m] = await messages(server);
      assert.match(m.message_id, /^<[0-9a-f]{64}@no-message-id\.invalid>$/, 'a stand-in Message-ID, stable for a second delivery');
      assert.match(m.note ?? '', /no usable sender address/);
      assert.equal((await threads(server))[0].inquiry_id, null);
      await client.sendMail({ envelope: { from: stranger, to: [staffInbox] }, raw });
      assert.equal((await messages(server)).length, 1);
      // The service is still answering.
      assert.equal((await fetch(server.url)).status, 200);
    });
  });
});
