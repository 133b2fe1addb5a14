// The inbox in a real browser (Debian's Chromium), with hostile content: an inquiry whose
// fields carry script payloads and naughty strings, and an inbound email whose HTML tries
// scripts, event handlers, remote images, CSS loads and frames. No script runs, nothing
// loads from elsewhere, and every console page has zero axe-core violations.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { addAccount } from '../../src/auth/accounts.ts';
import { receiveMail } from '../../src/correspondence/receive-mail.ts';
import { inquiriesByEmail } from '../support/people.ts';
import { startTestServer, submitForm, validFields, type TestServer } from '../support/server.ts';
import { axeViolations, describeViolations, launchBrowser } from '../e2e/browser.ts';
import { Clock, STRONG_PASSWORD } from '../auth/helpers.ts';

const XSS = `"><img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>`;

describe('console inbox in a real browser', () => {
  const clock = new Clock();
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    server = await startTestServer({ now: clock.now });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  async function noViolations(page: Page, what: string) {
    const violations = await axeViolations(page);
    assert.deepEqual(violations, [], `${what}:\n${describeViolations(violations)}`);
  }

  test('hostile inquiry fields and HTML mail run nothing and load nothing; every page passes axe', async () => {
    const email = 'xss@hostile.example.com';
    const fields = { ...validFields, name: `Eve ${XSS}`.slice(0, 200), email, company: `<svg onload=alert(1)> Corp \u{1F600}`, role: `'; DROP TABLE inquiry; --`, context: `${XSS}\nNaughty but valid: e\u0301 \u{1F1EE}\u{1F1EA} ${'\u{1D54F}'.repeat(20)} %s %n {{7*7}} \${7*7}` };
    assert.equal((await submitForm(server.url, 'demo', fields)).status, 303);
    const [inquiry] = await inquiriesByEmail(server.running.deps.storage.db, email);
    const confirmation = await server.running.deps.storage.db.selectFrom('outbox').select('id').where('inquiry_id', '=', inquiry.id).where('kind', '=', 'inquiry-confirmation').executeTakeFirstOrThrow();
    const domain = /@([^>]+)>/.exec(server.running.deps.policy.policy.organisation.mail_from)![1];
    const htmlMail = [
      `From: Eve <${email}>`,
      `To: ${server.running.deps.policy.policy.organisation.staff_inbox}`,
      'Subject: Re: your demo <script>alert(1)</script>',
      'Message-ID: <hostile-1@hostile.example.com>',
      `In-Reply-To: <${confirmation.id}@${domain}>`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `Plain part ${XSS}`,
      '--b',
      'Content-Type: text/html; charset=utf-8',
      '',
      `<p onclick="window.__pwned=1">Hello</p><script>window.__pwned=1</script><img src="http://192.0.2.1/pixel.png"><div style="background:url(http://192.0.2.1/bg.png)">bg</div><iframe src="http://192.0.2.1/"></iframe><a href="javascript:window.__pwned=1">link</a><style>@import url(http://192.0.2.1/x.css);</style>`,
      '--b--',
      '',
    ].join('\r\n');
    const stored = await receiveMail(server.running.deps, Buffer.from(htmlMail), { source: 'smtp' });
    assert.notEqual(stored.status, 'duplicate');

    const staffEmail = 'browser.sales@staff.example.com';
    const link = await addAccount(server.running.deps, { email: staffEmail, role: 'sales' }, { kind: 'cli' });
    const context = await browser.newContext();
    const requests: string[] = [];
    const dialogs: string[] = [];
    context.on('request', (r) => requests.push(r.url()));
    const page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(link.url);
    await page.fill('#password', STRONG_PASSWORD);
    await page.fill('#confirm', STRONG_PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForSelector('text=Your account is ready');
    await page.goto(`${server.url}/console/sign-in`);
    await page.fill('#email', staffEmail);
    await page.fill('#password', STRONG_PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${server.url}/console`);

    await page.click('a[href="/console/inquiries"]');
    await page.waitForSelector('h1:has-text("Inquiries")');
    await noViolations(page, 'inbox');
    await page.fill('#q', 'hostile');
    await page.click('button:has-text("Show")');
    await page.waitForSelector(`text=${inquiry.reference}`);
    await noViolations(page, 'inbox filtered');

    await page.click(`a:has-text("${inquiry.reference}")`);
    await page.waitForSelector(`h1:has-text("Inquiry ${inquiry.reference}")`);
    assert.ok((await page.textContent('body'))!.includes('<script>window.__pwned=1</script>'), 'the payload is shown as text');
    await page.click('summary');
    await page.waitForTimeout(300);
    await noViolations(page, 'inquiry with hostile fields and HTML mail');

    await page.fill('#reply-text', 'Thanks, Eve.');
    await page.click('button:has-text("Send reply")');
    await page.waitForSelector('text=Your reply is in the outbox');
    await page.click('a[href="/console/triage"]');
    await page.waitForSelector('h1:has-text("Triage")');
    await noViolations(page, 'triage');

    assert.equal(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned), undefined, 'no script ran');
    assert.deepEqual(dialogs, []);
    const frame = page.frames().find((f) => f !== page.mainFrame());
    if (frame) assert.equal(await frame.evaluate(() => (globalThis as { __pwned?: number }).__pwned).catch(() => undefined), undefined, 'no script ran in the mail frame');
    const origin = new URL(server.url).origin;
    const elsewhere = requests.filter((r) => !r.startsWith(origin) && !r.startsWith('about:') && !r.startsWith('data:'));
    assert.deepEqual(elsewhere, [], 'nothing is loaded from another origin');
    await context.close();
  });
});
