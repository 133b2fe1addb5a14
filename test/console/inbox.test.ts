// The inquiry inbox in the console, over real HTTP with real signed-in staff: filters,
// keyset pages, the detail view with the thread, replies that reach a real SMTP sink
// with the threading headers, closing, triage, and an audit entry for every read.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { receiveMail } from '../../src/correspondence/receive-mail.ts';
import { decodeCursor, encodeCursor, readFilters } from '../../src/console/inbox.ts';
import { Clock, get, makeStaff, post, type Staff } from '../auth/helpers.ts';
import { inquiriesByEmail } from '../support/people.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp.ts';
import { startTestServer, submitForm, validFields, type TestServer } from '../support/server.ts';

describe('console inbox', () => {
  let server: TestServer;
  let sink: SmtpSink;
  let sales: Staff;
  let admin: Staff;
  const clock = new Clock();

  before(async () => {
    sink = await startSmtpSink();
    server = await startTestServer({ now: clock.now, mailTransport: sink.transport, env: { MAIL_POLL_MS: '3600000' } });
    sales = await makeStaff(server, clock, 'sales');
    admin = await makeStaff(server, clock, 'admin');
    const people = [
      { name: 'Ada Lovelace', email: 'ada@engines.example.com', company: 'Analytical Engines', country: 'GB' },
      { name: 'Grace Hopper', email: 'grace@gmail.com', company: 'Compilers 100%_Inc', country: 'US' },
      { name: '<script>alert(1)</script>', email: 'eve@evil.example.com', company: 'Evil <b>Corp</b>', country: 'IE' },
    ];
    for (const [i, p] of people.entries()) {
      const res = await submitForm(server.url, i === 1 ? 'contact' : 'demo', { ...validFields, ...p, context: `Context of ${p.name}` });
      assert.equal(res.status, 303);
      clock.advance(1000);
    }
  });
  after(async () => {
    await server.close();
    await sink.close();
  });

  const page = async (query: string, staff: Staff = sales) => {
    const res = await get(server.url, `/console/inquiries${query}`, staff.cookie);
    return { status: res.status, body: await res.text() };
  };
  const references = (body: string) => [...body.matchAll(/<th scope="row"><a href="\/console\/inquiries\/[^"]+">(LT-[A-Z0-9]+)<\/a>/g)].map((m) => m[1]);

  test('only sales and privacy open the inbox; anonymous visitors are sent to sign in', async () => {
    assert.equal((await get(server.url, '/console/inquiries')).status, 303);
    assert.equal((await page('', admin)).status, 403);
    const { status, body } = await page('');
    assert.equal(status, 200);
    assert.equal(references(body).length, 3);
    assert.ok(body.includes('&lt;script&gt;alert(1)&lt;/script&gt;') && !body.includes('<script>alert'), 'names are escaped');
  });

  test('filters: text in name, company or email (literal % and _), form, country, free-mail, dates; bad values are named, never a 500', async () => {
    const only = async (query: string) => references((await page(query)).body).length;
    assert.equal(await only('?q=LOVELACE'), 1, 'case-insensitive name');
    assert.equal(await only('?q=100%25_'), 1, 'a literal % and _ in a company');
    assert.equal(await only('?q=%25'), 1, 'a lone % matches only a real %');
    assert.equal(await only('?q=evil.example'), 1, 'email');
    assert.equal(await only('?form=contact'), 1);
    assert.equal(await only('?country=IE'), 1);
    assert.equal(await only('?free_mail=yes'), 1);
    assert.equal(await only('?free_mail=no'), 2);
    assert.equal(await only('?status=new'), 3);
    const today = new Date(clock.t).toISOString().slice(0, 10);
    assert.equal(await only(`?from=${today}&to=${today}`), 3);
    assert.equal(await only('?to=2020-01-01'), 0);
    for (const bad of ['?status=lost', '?form=x', '?country=ZZ', '?from=yesterday', '?free_mail=maybe', `?q=${'x'.repeat(201)}`, '?after=not-a-cursor', '?from=2026-12-01&to=2026-11-01']) {
      const { status, body } = await page(bad);
      assert.equal(status, 400, bad);
      assert.match(body, /class="error-summary"/, `${bad} says what was wrong`);
    }
  });

  test('keyset pages: every inquiry exactly once across pages, newest first, unaffected by new arrivals', async () => {
    for (let i = 0; i < 52; i++) {
      assert.equal((await submitForm(server.url, 'demo', { ...validFields, email: `bulk${i}@pages.example.com` })).status, 303);
      clock.advance(1000);
    }
    const first = await page('?q=pages.example');
    const firstRefs = references(first.body);
    assert.equal(firstRefs.length, 50);
    const next = /href="\/console\/inquiries\?([^"]+)" rel="next"/.exec(first.body)?.[1].replace(/&amp;/g, '&');
    assert.ok(next, 'a next-page link keeping the filter');
    // A new inquiry arriving between pages does not shift the second page.
    await submitForm(server.url, 'demo', { ...validFields, email: 'late@pages.example.com' });
    const second = await page(`?${next}`);
    const secondRefs = references(second.body);
    assert.equal(secondRefs.length, 2);
    assert.equal(new Set([...firstRefs, ...secondRefs]).size, 52);
    assert.match(second.body, /End of the list/);
    const cursor = { createdAt: '2026-11-29T10:00:00.000Z', id: '0b7e4c6a-1111-4222-8333-944455556666' };
    assert.deepEqual(decodeCursor(encodeCursor(cursor)), cursor);
    assert.equal(decodeCursor(Buffer.from('2026~x').toString('base64url')), undefined);
    assert.deepEqual(readFilters({ q: ['one', 'two'] }, 'Europe/Dublin').filters, { text: 'one' }, 'a repeated parameter counts once');
  });

  test('the detail view, a reply that threads under the confirmation mail, closing; each read audited with the session', async () => {
    const [inquiry] = await inquiriesByEmail(server.running.deps.storage.db, 'ada@engines.example.com');
    const detail = await get(server.url, `/console/inquiries/${inquiry.id}`, sales.cookie);
    assert.equal(detail.status, 200);
    const body = await detail.text();
    assert.match(body, /Context of Ada Lovelace/);
    assert.match(body, /No email yet/);
    const receivedAt = Date.parse(inquiry.created_at);
    const unanswered = server.running.deps.policy.policy.retention.rules.find((r) => r.id === 'inquiries_unanswered')!;
    const due = new Date(receivedAt + Number(unanswered.keep_days) * 86_400_000).toISOString();
    assert.ok(body.includes(`<dt>Due for deletion</dt><dd>${due.slice(0, 16).replace('T', ' ')} UTC <span class="muted">(rule inquiries_unanswered)</span></dd>`), 'the date the retention rules give a new inquiry');

    const empty = await post(server.url, `/console/inquiries/${inquiry.id}/reply`, { csrf: sales.csrf, thread: '', text: '   ' }, sales.cookie);
    assert.equal(empty.status, 422);
    assert.match(await empty.text(), /The reply was not sent: the reply is empty/);
    const noCsrf = await post(server.url, `/console/inquiries/${inquiry.id}/reply`, { thread: '', text: 'Hello' }, sales.cookie);
    assert.equal(noCsrf.status, 403, 'console posts need the session token');

    const sent = await post(server.url, `/console/inquiries/${inquiry.id}/reply`, { csrf: sales.csrf, thread: '', text: 'Hello Ada, when suits you for a demo?' }, sales.cookie);
    assert.equal(sent.status, 303);
    await server.running.jobs.idle();
    await server.running.jobs.runNow('outbox.deliver');
    const replyMail = sink.messages.find((m) => m.parsed.subject?.startsWith('Re:'));
    assert.ok(replyMail, 'the reply reached the mail server');
    const confirmation = await server.running.deps.storage.db.selectFrom('outbox').select('id').where('inquiry_id', '=', inquiry.id).where('kind', '=', 'inquiry-confirmation').executeTakeFirstOrThrow();
    assert.ok(String(replyMail.parsed.inReplyTo).includes(confirmation.id), 'the reply threads under the confirmation the visitor received');
    assert.equal(replyMail.envelopeTo[0], 'ada@engines.example.com');

    const after = await (await get(server.url, `/console/inquiries/${inquiry.id}?sent=1`, sales.cookie)).text();
    assert.match(after, /Hello Ada, when suits you for a demo\?/);
    assert.match(after, /In conversation/);
    assert.match(after, /name="thread" value="[0-9a-f-]{36}"/, 'the next reply goes to the same thread');

    const badClose = await post(server.url, `/console/inquiries/${inquiry.id}/close`, { csrf: sales.csrf, outcome: '' }, sales.cookie);
    assert.equal(badClose.status, 422);
    const closed = await post(server.url, `/console/inquiries/${inquiry.id}/close`, { csrf: sales.csrf, outcome: 'demo booked' }, sales.cookie);
    assert.equal(closed.status, 303);
    const row = await server.running.deps.storage.db.selectFrom('inquiry').select(['status', 'outcome', 'closed_at']).where('id', '=', inquiry.id).executeTakeFirstOrThrow();
    assert.deepEqual({ status: row.status, outcome: row.outcome }, { status: 'closed', outcome: 'demo booked' });
    assert.ok(row.closed_at);
    const closedDue = new Date(Date.parse(row.closed_at) + 180 * 86_400_000).toISOString();
    assert.ok((await (await get(server.url, `/console/inquiries/${inquiry.id}`, sales.cookie)).text()).includes(`${closedDue.slice(0, 16).replace('T', ' ')} UTC <span class="muted">(rule inquiries_closed)</span>`), 'closing moves the date to the closed rule');

    assert.equal((await get(server.url, '/console/inquiries/not-an-id', sales.cookie)).status, 404);
    assert.equal((await get(server.url, '/console/inquiries/0b7e4c6a-1111-4222-8333-944455556666', sales.cookie)).status, 404);

    const audits = await server.running.deps.storage.db.selectFrom('audit_log').select(['action', 'actor', 'entity_id', 'details']).where('actor', '=', `staff:${sales.accountId}`).execute();
    const actions = new Set(audits.map((a) => a.action));
    for (const action of ['inquiry.listed', 'inquiry.viewed', 'correspondence.replied', 'correspondence.thread_started']) assert.ok(actions.has(action), `${action} audited`);
    const viewed = audits.find((a) => a.action === 'inquiry.viewed' && a.entity_id === inquiry.id)!;
    assert.ok(JSON.parse(viewed.details).session, 'the session is recorded');
    const all = JSON.stringify(audits);
    for (const secret of ['Ada', 'ada@engines', 'Lovelace', 'LOVELACE']) assert.ok(!all.includes(secret), `audit holds no ${secret}`);
  });

  test('triage: mail from nobody we know waits there and is given to an inquiry by its reference', async () => {
    const raw = Buffer.from(['From: Stranger <stranger@elsewhere.example.com>', `To: ${server.running.deps.policy.policy.organisation.staff_inbox}`, 'Subject: A question about pricing', 'Message-ID: <triage-1@elsewhere.example.com>', 'Date: Sun, 29 Nov 2026 10:00:00 +0000', '', 'How much is it?', ''].join('\r\n'));
    await receiveMail(server.running.deps, raw, { source: 'smtp' });
    const triage = await get(server.url, '/console/triage', sales.cookie);
    assert.equal(triage.status, 200);
    const body = await triage.text();
    assert.match(body, /A question about pricing/);
    const threadId = /action="\/console\/triage\/([0-9a-f-]{36})\/assign"/.exec(body)![1];
    const wrong = await post(server.url, `/console/triage/${threadId}/assign`, { csrf: sales.csrf, reference: 'LT-NOPE' }, sales.cookie);
    assert.equal(wrong.status, 422);
    const [grace] = await inquiriesByEmail(server.running.deps.storage.db, 'grace@gmail.com');
    const given = await post(server.url, `/console/triage/${threadId}/assign`, { csrf: sales.csrf, reference: grace.reference.toLowerCase() }, sales.cookie);
    assert.equal(given.status, 303);
    assert.equal(given.headers.get('location'), `/console/inquiries/${grace.id}`);
    assert.match(await (await get(server.url, `/console/inquiries/${grace.id}`, sales.cookie)).text(), /How much is it\?/);
    assert.doesNotMatch(await (await get(server.url, '/console/triage', sales.cookie)).text(), /A question about pricing/);
  });

  test('an attachment is always a download: a hostile name or content cannot inject headers or run in our origin; other roles are refused', async () => {
    const raw = Buffer.from([
      'From: Grace <grace@gmail.com>',
      `To: ${server.running.deps.policy.policy.organisation.staff_inbox}`,
      'Subject: Our sites',
      'Message-ID: <attachment-1@gmail.com>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'List attached.',
      '--b',
      'Content-Type: text/html; name="=?utf-8?B?' + Buffer.from('x"\r\nSet-Cookie: stolen=1; "<b>.html').toString('base64') + '?="',
      'Content-Disposition: attachment',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('<script>window.__pwned=1</script>').toString('base64'),
      '--b--',
      '',
    ].join('\r\n'));
    await receiveMail(server.running.deps, raw, { source: 'smtp' });
    const [grace] = await inquiriesByEmail(server.running.deps.storage.db, 'grace@gmail.com');
    const detail = await (await get(server.url, `/console/inquiries/${grace.id}`, sales.cookie)).text();
    const href = /href="(\/console\/attachments\/[0-9a-f-]{36})" download/.exec(detail)?.[1];
    assert.ok(href, 'the attachment is listed with a download link');
    const file = await get(server.url, href, sales.cookie);
    assert.equal(file.status, 200);
    assert.equal(file.headers.get('content-type'), 'application/octet-stream');
    assert.match(file.headers.get('content-disposition') ?? '', /^attachment; filename="[\w.\- ]+"; filename\*=UTF-8''[^\s"]+$/);
    assert.equal(file.headers.get('set-cookie'), null, 'nothing in the name became a header');
    assert.equal(await file.text(), '<script>window.__pwned=1</script>', 'the bytes as received, served as a download');
    assert.equal((await get(server.url, href, admin.cookie)).status, 403);
    assert.equal((await get(server.url, href)).status, 303);
    assert.equal((await get(server.url, '/console/attachments/0b7e4c6a-1111-4222-8333-944455556666', sales.cookie)).status, 404);
    const audited = await server.running.deps.storage.db.selectFrom('audit_log').select('action').where('action', '=', 'correspondence.attachment_viewed').execute();
    assert.equal(audited.length, 1, 'the download is audited');
  });

  test('logs of the whole console flow hold no submitted name or address', () => {
    const logs = server.logs.join('');
    assert.ok(logs.length > 0);
    for (const secret of ['Ada Lovelace', 'ada@engines.example.com', 'Grace Hopper', 'grace@gmail.com', 'eve@evil.example.com', 'stranger@elsewhere.example.com', 'Hello Ada', sales.email]) {
      assert.ok(!logs.includes(secret), `the logs hold ${secret}`);
    }
  });
});
