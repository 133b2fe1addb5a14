// The access package (issue 9, "Access"): everything held about the person, as JSON with
// stable field names and attachment bytes, and as a readable HTML page that loads
// nothing and passes axe-core in Chromium; nothing of the other person, whose address
// starts like hers, and nothing of the mail that person wrote into her conversation.
import { inquiryDeletion } from '../../src/retention/schedule.ts';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessPackageHtml, accessPackageJson, buildAccessPackage, type AccessPackage } from '../../src/rights/access-package.ts';
import { axeViolations, describeViolations, launchBrowser } from '../e2e/browser.ts';
import { assertAllOf, assertNoneOf, buildWorld, closeWorld, startWorld } from './erase-support.ts';
import { submitRequestForm } from './support.ts';

const actor = 'staff:acct-privacy-1';

describe('access package', () => {
  test('the JSON holds everything about her (attachments with their bytes) and nothing of the other person; building it is audited without values', async () => {
    const world = await buildWorld();
    try {
      const { server, a, b } = world;
      const deps = server.running.deps;
      // Her earlier privacy requests (one typed in capitals) and one of B's.
      assert.equal((await submitRequestForm(server.url, { email: a.email.toUpperCase(), type: 'access', jurisdiction: 'IE', message: '' })).status, 303);
      assert.equal((await submitRequestForm(server.url, { email: a.email, type: 'deletion', jurisdiction: 'GB', message: '' })).status, 303);
      assert.equal((await submitRequestForm(server.url, { email: b.email, type: 'access', jurisdiction: 'IE', message: '' })).status, 303);
      const theirs = await deps.storage.db.selectFrom('privacy_request').selectAll().orderBy('received_at').orderBy('id').execute();
      const pkg = await buildAccessPackage(deps, { actor, email: ` ${a.email.toUpperCase()}`, requestId: 'req-9' });
      const json = accessPackageJson(pkg);
      const parsed = JSON.parse(json) as AccessPackage;

      assert.deepEqual(Object.keys(parsed), ['format', 'version', 'generatedAt', 'organisation', 'address', 'person', 'inquiries', 'consentRecords', 'pendingConsentConfirmations', 'correspondence', 'outbox', 'marketing', 'earlierErasures', 'privacyRequests', 'counts']);
      assert.equal(parsed.format, 'lumetrax-access-package');
      assert.equal(parsed.version, 1);
      assert.equal(parsed.address, a.email);
      assert.deepEqual({ email: parsed.person?.email, name: parsed.person?.name }, { email: a.email, name: a.name });
      assert.deepEqual(parsed.inquiries.map((i) => i.id), world.aInquiries);
      assert.equal(parsed.inquiries[0].context, a.context);
      // The date the retention rules give for it as it stands, not the one written at submission.
      for (const i of parsed.inquiries) {
        const row = await deps.storage.db.selectFrom('inquiry').selectAll().where('id', '=', i.id).executeTakeFirstOrThrow();
        assert.equal(i.deleteAfter, inquiryDeletion(deps.policy.policy.retention.rules, row)?.at ?? null, `inquiry ${i.id} (${row.status})`);
      }
      assert.equal(parsed.consentRecords.length, 1);
      assert.equal(parsed.consentRecords[0].action, 'granted');

      // Her triage thread and her inquiry thread, and her answer in B's conversation.
      assert.equal(parsed.correspondence.threads.length, 2);
      const all = [...parsed.correspondence.threads.flatMap((t) => t.messages), ...parsed.correspondence.messagesElsewhere];
      assert.equal(parsed.correspondence.messagesElsewhere.length, 1);
      assert.equal(parsed.correspondence.messagesElsewhere[0].from, 'you');
      assert.ok(all.some((m) => m.from === 'staff' && m.text.includes(a.company)), 'the staff reply is in');
      const attachment = all.flatMap((m) => m.attachments)[0];
      assert.equal(attachment.filename, `${a.mailText[4]}.txt`);
      assert.equal(Buffer.from(attachment.contentBase64, 'base64').toString('utf8'), `bytes ${a.mailText[2]}`);
      assert.equal(attachment.size, `bytes ${a.mailText[2]}`.length);
      assert.ok(parsed.outbox.some((o) => o.id === world.staffReplyOutboxId && o.status === 'pending' && o.to === a.email));
      assert.ok(parsed.outbox.some((o) => o.status === 'sent' && o.text === ''), 'sent mail is listed, its contents already erased');

      const bKey = theirs.find((r) => r.requester_email === b.email)!.requester_key;
      const aRows = theirs.filter((r) => r.requester_key !== bKey);
      assert.equal(aRows.length, 2);
      assert.deepEqual(
        parsed.privacyRequests.map((r) => ({ id: r.id, type: r.type, channel: r.channel, status: r.status, receivedAt: r.receivedAt, respondBy: r.respondBy, reference: r.reference })),
        aRows.map((r) => ({ id: r.id, type: r.type, channel: 'form', status: r.status, receivedAt: r.received_at, respondBy: r.respond_by, reference: r.reference })),
        'both of her requests, not B\'s',
      );
      assert.deepEqual(new Set(parsed.privacyRequests.map((r) => r.type)), new Set(['access', 'deletion']));
      assert.equal(parsed.counts.privacy_request, 2);
      assertAllOf(json, [a.email, a.name, a.company, a.role, a.mailText[0], a.mailText[1], a.mailText[3], a.mailText[4], a.mailText[5]], 'the package');
      assertNoneOf(json, [...b.secrets, world.bPersonId], "the package holds the other person's data");

      const entry = await deps.storage.db.selectFrom('audit_log').selectAll().where('action', '=', 'rights.access_package_built').executeTakeFirstOrThrow();
      assert.equal(entry.entity_id, world.aPersonId);
      const details = JSON.parse(entry.details);
      assert.equal(details.request, 'req-9');
      assert.equal(details.inquiry, 2);
      assert.equal(details.privacy_request, 2);
      assertNoneOf(JSON.stringify(entry), a.secrets, 'the audit entry');
    } finally {
      await closeWorld(world);
    }
  });

  test('the HTML page shows it all escaped, loads nothing, and passes axe-core in Chromium', async () => {
    const world = await buildWorld();
    const browser = await launchBrowser();
    try {
      const { server, a, b } = world;
      assert.equal((await submitRequestForm(server.url, { email: a.email, type: 'access', jurisdiction: 'IE', message: '' })).status, 303);
      const pkg = await buildAccessPackage(server.running.deps, { actor, email: a.email });
      assert.equal(pkg.privacyRequests.length, 1);
      const page = accessPackageHtml(pkg);
      assertNoneOf(page, b.secrets, 'the page');
      assert.ok(!page.includes('<img'), 'markup from a value is escaped');
      assert.doesNotMatch(page, /<(script|link|style|iframe|object)\b/i);

      const tab = await browser.newPage();
      const requests: string[] = [];
      await tab.route('**/*', (route) => {
        requests.push(route.request().url());
        return route.abort();
      });
      await tab.setContent(page, { waitUntil: 'load' });
      assert.deepEqual(requests, [], 'the page loads nothing');
      assert.equal(await tab.locator('img, script').count(), 0);
      const text = (await tab.locator('main').innerText()).toLowerCase();
      assertAllOf(text, [a.email, a.name, a.company, a.role, a.context, a.mailText[1], `${a.mailText[4]}.txt`, pkg.privacyRequests[0].reference], 'the page text');
      const violations = await axeViolations(tab);
      assert.deepEqual(violations, [], describeViolations(violations));
    } finally {
      await browser.close();
      await closeWorld(world);
    }
  });

  test('an address nobody has gets an empty package, not an error', async () => {
    const world = await startWorld();
    try {
      const pkg = await buildAccessPackage(world.server.running.deps, { actor, email: 'no.one@example.com' });
      assert.equal(pkg.person, null);
      assert.equal(pkg.inquiries.length + pkg.correspondence.threads.length + pkg.outbox.length, 0);
      assert.ok(Object.values(pkg.counts).every((n) => n === 0));
      assert.match(accessPackageHtml(pkg), /Nothing held\./);
    } finally {
      await closeWorld(world);
    }
  });
});
