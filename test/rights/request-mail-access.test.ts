// A privacy request's mail is the privacy desk's: a sales account that has an attachment's
// or thread's id (ids are not shown to it, but ids leak) gets neither the attachment nor
// the thread into an inquiry; the privacy role downloads the attachment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get, makeStaff, post } from '../auth/helpers.ts';
import { submitForm, validFields } from '../support/server.ts';
import { requests, withDesk } from './support.ts';

test('sales cannot download a privacy request\'s attachment or pull its thread into an inquiry; privacy can download it', async () => {
  await withDesk(async (env) => {
    const { server, client, clock } = env;
    const privacyAddress = server.running.deps.policy.policy.organisation.privacy_address;
    await client.sendMail({
      from: 'Ada <ada@engine.example.org>',
      to: privacyAddress,
      subject: 'Privacy question',
      text: 'My passport scan is attached.',
      messageId: '<pq-attach@engine.example.org>',
      attachments: [{ filename: 'passport.txt', content: 'ID-DOCUMENT-0451' }],
    });
    const [request] = await requests(server);
    assert.ok(request?.thread_id, 'the request has its thread');
    const db = server.running.deps.storage.db;
    const attachment = await db
      .selectFrom('mail_attachment')
      .innerJoin('mail_message', 'mail_message.id', 'mail_attachment.message_id')
      .select('mail_attachment.id')
      .where('mail_message.thread_id', '=', request.thread_id)
      .executeTakeFirstOrThrow();

    const sales = await makeStaff(server, clock, 'sales');
    const privacy = await makeStaff(server, clock, 'privacy');
    const bySales = await get(server.url, `/console/attachments/${attachment.id}`, sales.cookie);
    assert.equal(bySales.status, 404);
    assert.doesNotMatch(await bySales.text(), /ID-DOCUMENT-0451/);
    const byPrivacy = await get(server.url, `/console/attachments/${attachment.id}`, privacy.cookie);
    assert.equal(byPrivacy.status, 200);
    assert.equal(Buffer.from(await byPrivacy.arrayBuffer()).toString(), 'ID-DOCUMENT-0451');

    // Pulling the request's thread into an inquiry by id is refused like a thread that does not exist.
    await submitForm(server.url, 'demo', { ...validFields, email: 'buyer@shop.example.com' });
    const { reference } = await db.selectFrom('inquiry').select('reference').executeTakeFirstOrThrow();
    const assign = await post(server.url, `/console/triage/${request.thread_id}/assign`, { csrf: sales.csrf, reference }, sales.cookie);
    assert.ok(assign.status >= 400 && assign.status < 500, `refused, not ${assign.status}`);
    const thread = await db.selectFrom('mail_thread').select('inquiry_id').where('id', '=', request.thread_id).executeTakeFirstOrThrow();
    assert.equal(thread.inquiry_id, null, 'the thread stays the request\'s');
  });
});
