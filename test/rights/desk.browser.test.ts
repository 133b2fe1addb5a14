// The privacy desk's pages in a real browser (Debian's Chromium): the request form with
// its error messages, the verification page and its button, and the console's queue,
// request, triage and report pages. No page runs a script or loads anything from
// another origin, the public pages set no cookie, and every page has zero axe-core
// violations.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { makeStaff } from '../auth/helpers.ts';
import { axeViolations, describeViolations, launchBrowser } from '../e2e/browser.ts';
import { delivered, requests, verifyLinkIn, withDesk } from './support.ts';

async function noViolations(page: Page, what: string) {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `${what}:\n${describeViolations(violations)}`);
}

describe('privacy desk in a real browser', () => {
  test('form, verification and console pages: accessible, no scripts, nothing from elsewhere', async () => {
    await withDesk(async (env) => {
      const { server, clock } = env;
      const browser = await launchBrowser();
      try {
        const context = await browser.newContext();
        const seen: string[] = [];
        context.on('request', (r) => seen.push(r.url()));
        const page = await context.newPage();

        await page.goto(`${server.url}/privacy/request`);
        await noViolations(page, 'request form');
        await page.click('button:has-text("Send my request")');
        await page.waitForSelector('.error-summary');
        assert.match((await page.textContent('.error-summary'))!, /Enter your email address/);
        await noViolations(page, 'request form with errors');
        await page.fill('#email', 'annie.easley@centaur.example.org');
        await page.check('#type-deletion');
        await page.selectOption('#jurisdiction', 'US-CA');
        await page.fill('#message', 'Please delete <b>everything</b>.');
        await page.click('button:has-text("Send my request")');
        await page.waitForURL(`${server.url}/privacy/request/sent`);
        await noViolations(page, 'sent page');
        assert.deepEqual(await context.cookies(), [], 'no cookie on the public pages');

        const [r] = await requests(server);
        assert.equal(r.type, 'deletion');
        assert.equal(r.jurisdiction, 'US-CA');
        const [ack] = await delivered(env, 1);
        await page.goto(verifyLinkIn(ack));
        await noViolations(page, 'verification page');
        assert.equal((await requests(server))[0].verified_at, null, 'opening the page verified nothing');
        await page.click('button:has-text("Yes, this is my request")');
        await page.waitForSelector('h1:has-text("your request is confirmed")');
        await noViolations(page, 'confirmed page');
        assert.ok((await requests(server))[0].verified_at);

        await env.client.sendMail({ from: 'triage@example.org', to: server.running.deps.policy.policy.organisation.privacy_address, subject: 'My data', text: 'What do you hold?', messageId: '<b-1@example.org>' });
        const staff = await makeStaff(server, clock, 'privacy');
        const [name, value] = staff.cookie.split('=');
        await context.addCookies([{ name, value, url: `${server.url}/console` }]);
        await page.goto(`${server.url}/console/requests`);
        await page.waitForSelector(`a:has-text("${r.reference}")`);
        await noViolations(page, 'queue');
        await page.click(`a:has-text("${r.reference}")`);
        await page.waitForSelector(`h1:has-text("Privacy request ${r.reference}")`);
        assert.ok((await page.textContent('body'))!.includes('Please delete <b>everything</b>.'), 'their words as text');
        await noViolations(page, 'request page');
        await page.selectOption('#set-jurisdiction', 'GB');
        await page.click('button:has-text("Set type and jurisdiction")');
        await page.waitForSelector('text=classified');
        assert.equal((await requests(server))[0].jurisdiction, 'GB');
        await page.goto(`${server.url}/console/requests/triage`);
        await noViolations(page, 'triage to request');
        await page.goto(`${server.url}/console/requests/report?month=2026-12`);
        await page.waitForSelector('svg.chart');
        await noViolations(page, 'monthly report');

        const origin = new URL(server.url).origin;
        assert.deepEqual(seen.filter((u) => !u.startsWith(origin) && !u.startsWith('about:') && !u.startsWith('data:')), [], 'nothing from another origin');
        await context.close();
      } finally {
        await browser.close();
      }
    });
  });
});
