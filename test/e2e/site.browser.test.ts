// The site as a visitor's browser sees it: no cookie, no storage, nothing from another
// origin and no accessibility violations on any public page; forms that work with and
// without JavaScript; after submission only the cookies the policy declares.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { inquiriesByEmail } from '../support/people.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { axeViolations, describeViolations, launchBrowser } from './browser.ts';

const publicPages = [
  '/',
  '/demo',
  '/contact',
  '/privacy',
  '/privacy/versions',
  '/privacy/versions/2026-06-01',
  '/privacy/retention',
  '/privacy/deadlines',
  '/privacy/preferences',
  '/security',
  '/thanks',
  '/no-such-page',
];

describe('public site in a real browser', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  /** A fresh context that records every request and console error. */
  async function openContext(options: Parameters<Browser['newContext']>[0] = {}) {
    const context = await browser.newContext(options);
    const requests: string[] = [];
    const consoleErrors: string[] = [];
    context.on('request', (r) => requests.push(r.url()));
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    return { context, page, requests, consoleErrors };
  }

  async function storageWrites(context: BrowserContext, page: Page): Promise<string[]> {
    const state = await context.storageState({ indexedDB: true });
    const found: string[] = [];
    for (const origin of state.origins) {
      if (origin.localStorage.length > 0) found.push(`localStorage at ${origin.origin}`);
      if (((origin as { indexedDB?: unknown[] }).indexedDB ?? []).length > 0) found.push(`indexedDB at ${origin.origin}`);
    }
    const session = await page.evaluate(() => sessionStorage.length);
    if (session > 0) found.push('sessionStorage');
    return found;
  }

  for (const path of publicPages) {
    test(`${path}: no cookie, no storage, first-party only, no axe violations`, async () => {
      const { context, page, requests, consoleErrors } = await openContext();
      try {
        const response = await page.goto(`${server.url}${path}`, { waitUntil: 'load' });
        assert.equal(response?.status(), path === '/no-such-page' ? 404 : 200);
        assert.deepEqual(await context.cookies(), [], 'cookies after viewing');
        assert.deepEqual(await storageWrites(context, page), [], 'storage writes after viewing');
        const foreign = requests.filter((u) => !u.startsWith(`${server.url}/`));
        assert.deepEqual(foreign, [], 'requests to other origins');
        assert.ok(requests.some((u) => u.endsWith('/static/site.css')), 'the stylesheet loads');
        const violations = await axeViolations(page);
        assert.equal(violations.length, 0, describeViolations(violations));
        // The 404 page's own status is reported as a console error; nothing else may be.
        const unexpected = consoleErrors.filter((e) => !(path === '/no-such-page' && /status of 404/.test(e)));
        assert.deepEqual(unexpected, [], 'console errors (a CSP violation shows here)');
      } finally {
        await context.close();
      }
    });
  }

  test('a demo request submitted in the browser lands in the database; only declared cookies follow', async () => {
    const { context, page, requests } = await openContext();
    try {
      await page.goto(`${server.url}/demo`);
      assert.equal(await page.isChecked('#marketing_opt_in'), false, 'the opt-in box starts unticked');
      await page.fill('#name', 'Grace Hopper');
      await page.fill('#email', 'grace@compilers.example.com');
      await page.fill('#company', 'Compilers Inc');
      await page.fill('#role', 'Rear Admiral');
      await page.selectOption('#country', 'US');
      await page.fill('#context', 'Twelve data centres, 300 sites.');
      await page.check('#marketing_opt_in');
      await Promise.all([page.waitForURL(`${server.url}/thanks`), page.click('button[type=submit]')]);
      const reference = (await page.textContent('.reference'))?.trim();
      assert.match(reference ?? '', /^LT-[A-Z2-9]{8}$/);

      const row = await server.running.deps.storage.db.selectFrom('inquiry').innerJoin('person', 'person.id', 'inquiry.person_id').selectAll('inquiry').select('person.email').where('reference', '=', reference!).executeTakeFirst();
      assert.ok(row, 'the inquiry is in the database');
      assert.equal(row.email, 'grace@compilers.example.com');
      assert.equal(row.country, 'US');

      const declared = new Map(server.running.deps.policy.policy.cookies.map((c) => [c.name, c]));
      const cookies = await context.cookies();
      assert.ok(cookies.length > 0, 'the receipt cookie is set after submission');
      for (const cookie of cookies) {
        const d = declared.get(cookie.name);
        assert.ok(d, `undeclared cookie ${cookie.name}`);
        assert.equal(cookie.httpOnly, d.http_only);
        assert.equal(cookie.sameSite.toLowerCase(), d.same_site);
        assert.ok(cookie.expires > 0 && cookie.expires - Date.now() / 1000 <= d.lifetime_seconds + 5, 'lifetime as declared');
      }
      assert.deepEqual(requests.filter((u) => !u.startsWith(`${server.url}/`)), []);
      assert.deepEqual(await storageWrites(context, page), []);
    } finally {
      await context.close();
    }
  });

  test('errors come back with the input kept, a summary, focus on the first error, and no axe violations', async () => {
    const { context, page } = await openContext();
    try {
      await page.goto(`${server.url}/demo`);
      await page.fill('#email', 'someone@mailinator.com');
      await page.fill('#company', 'Acme <b>&</b> Sons');
      await page.fill('#role', 'Buyer');
      await page.selectOption('#country', 'FR');
      await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
      await page.waitForSelector('.error-summary');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'name', 'focus is on the first field in error');
      assert.equal(await page.inputValue('#email'), 'someone@mailinator.com');
      assert.equal(await page.inputValue('#company'), 'Acme <b>&</b> Sons');
      assert.equal(await page.inputValue('#country'), 'FR');
      assert.match((await page.textContent('.error-summary')) ?? '', /disposable/);
      const violations = await axeViolations(page);
      assert.equal(violations.length, 0, describeViolations(violations));
      assert.deepEqual(await context.cookies(), [], 'no cookie when nothing was stored');
    } finally {
      await context.close();
    }
  });

  test('the contact form works with JavaScript disabled', async () => {
    const { context, page } = await openContext({ javaScriptEnabled: false });
    try {
      await page.goto(`${server.url}/contact`);
      await page.fill('#name', 'Katherine Johnson');
      await page.fill('#email', 'katherine@orbits.example.com');
      await page.fill('#company', 'Orbits');
      await page.fill('#role', 'Mathematician');
      await page.selectOption('#country', 'US');
      await Promise.all([page.waitForURL(`${server.url}/thanks`), page.click('button[type=submit]')]);
      assert.match((await page.textContent('h1')) ?? '', /Thank you/);
      const rows = await inquiriesByEmail(server.running.deps.storage.db, 'katherine@orbits.example.com');
      assert.equal(rows.length, 1);
    } finally {
      await context.close();
    }
  });

  test('the demo form has no axe violations on a narrow screen', async () => {
    const { context, page } = await openContext({ viewport: { width: 375, height: 740 } });
    try {
      await page.goto(`${server.url}/demo`);
      const violations = await axeViolations(page);
      assert.equal(violations.length, 0, describeViolations(violations));
    } finally {
      await context.close();
    }
  });
});
