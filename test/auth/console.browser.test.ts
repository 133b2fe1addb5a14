// Set-up, sign-in and the console home in a real browser (Debian's Chromium): every page
// has zero axe-core violations, loads nothing from another origin, and the only cookie is
// the declared, HttpOnly, SameSite=Strict console cookie after sign-in.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { addAccount } from '../../src/auth/accounts.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { axeViolations, describeViolations, launchBrowser } from '../e2e/browser.ts';
import { Clock, STRONG_PASSWORD, totpCode } from './helpers.ts';

describe('console in a real browser', () => {
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

  test('set-up with TOTP, sign-in, the console home and accounts page, sign-out', async () => {
    const email = 'browser.admin@staff.example.com';
    const link = await addAccount(server.running.deps, { email, role: 'admin' }, { kind: 'cli' });
    const context = await browser.newContext();
    const requests: string[] = [];
    const errors: string[] = [];
    context.on('request', (r) => requests.push(r.url()));
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });

    await page.goto(link.url);
    assert.equal((await context.cookies()).length, 0, 'the set-up page sets no cookie');
    await noViolations(page, 'set-up page');
    const secret = (await page.locator('code').first().innerText()).replace(/\s+/g, '');
    await page.fill('#password', STRONG_PASSWORD);
    await page.fill('#confirm', STRONG_PASSWORD);
    await page.fill('#code', totpCode(secret, clock.t));
    await page.click('button[type=submit]');
    await page.waitForSelector('text=Your account is ready');
    await noViolations(page, 'recovery codes page');

    clock.advance(30_000);
    await page.goto(`${server.url}/console/sign-in`);
    await noViolations(page, 'sign-in page');
    await page.fill('#email', email);
    await page.fill('#password', 'wrong password entirely');
    await page.fill('#code', totpCode(secret, clock.t));
    await page.click('button[type=submit]');
    await page.waitForSelector('text=is not right');
    await noViolations(page, 'sign-in page with an error');
    assert.equal((await context.cookies()).length, 0);

    await page.fill('#email', email);
    await page.fill('#password', STRONG_PASSWORD);
    await page.fill('#code', totpCode(secret, clock.t));
    await page.click('button[type=submit]');
    await page.waitForURL(`${server.url}/console`);
    await noViolations(page, 'console home');
    const cookies = await context.cookies();
    assert.deepEqual(cookies.map((c) => [c.name, c.httpOnly, c.sameSite, c.path]), [['lt_console', true, 'Strict', '/console']]);

    await page.click('a[href="/console/accounts"]');
    await page.waitForSelector('h1:has-text("Accounts")');
    await noViolations(page, 'accounts page');

    await page.click('text=Sign out');
    await page.waitForURL(`${server.url}/console/sign-in`);
    await page.goto(`${server.url}/console`);
    assert.equal(new URL(page.url()).pathname, '/console/sign-in', 'signed out on the server');

    const origin = new URL(server.url).origin;
    assert.deepEqual(requests.filter((u) => new URL(u).origin !== origin), [], 'nothing from another origin');
    // The refused sign-in is a 401, which the browser reports; anything else (a CSP block) is a failure.
    assert.deepEqual(errors.filter((e) => !/status of 401/.test(e)), [], 'no console errors (nothing blocked by the CSP)');
    await context.close();
  });
});
