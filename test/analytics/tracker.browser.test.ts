// The tracker in a real browser (Debian's Chromium): no cookie and no storage, no request
// on a full page load (the server counts it), one request for a history-API navigation,
// nothing at all with Global Privacy Control on, the fetch fallback without sendBeacon,
// and the dashboard showing the visit after the rollup, with zero axe-core violations.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ANALYTICS_ROLLUP_JOB } from '../../src/analytics/roll-up.ts';
import { projectRoot } from '../../src/config.ts';
import { Clock, makeStaff } from '../auth/helpers.ts';
import { axeViolations, describeViolations, launchBrowser } from '../e2e/browser.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { CHROME_UA, flush, rawEvents } from './helpers.ts';

describe('the tracker in a real browser', () => {
  let server: TestServer;
  let browser: Browser;
  const clock = new Clock();

  before(async () => {
    clock.t = Date.parse('2031-06-02T09:10:00Z');
    server = await startTestServer({ now: clock.now });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  async function open(options: { gpc?: boolean; dnt?: boolean; noBeacon?: boolean } = {}) {
    // A desktop Chrome's user agent: the headless one is (rightly) dropped as a bot.
    const context = await browser.newContext({ userAgent: CHROME_UA, locale: 'en-GB', extraHTTPHeaders: options.gpc ? { 'Sec-GPC': '1' } : options.dnt ? { DNT: '1' } : {} });
    if (options.dnt) await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' }));
    if (options.gpc) await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
    if (options.noBeacon) await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'sendBeacon', { value: undefined }));
    const events: string[] = [];
    context.on('request', (r) => {
      if (r.url().endsWith('/api/event')) events.push(r.postData() ?? '');
    });
    const page = await context.newPage();
    return { context, page, events };
  }

  async function storageUsed(context: BrowserContext, page: Page): Promise<string[]> {
    const state = await context.storageState({ indexedDB: true });
    const found: string[] = [];
    for (const origin of state.origins) {
      if (origin.localStorage.length > 0) found.push(`localStorage at ${origin.origin}`);
      if (((origin as { indexedDB?: unknown[] }).indexedDB ?? []).length > 0) found.push(`indexedDB at ${origin.origin}`);
    }
    if ((await page.evaluate(() => sessionStorage.length)) > 0) found.push('sessionStorage');
    return found;
  }

  test('the tracker is small, first-party, and names no cookie, storage or fingerprinting API', () => {
    const source = readFileSync(`${projectRoot}/public/t.js`, 'utf8');
    const size = gzipSync(source, { level: 9 }).length;
    assert.ok(size < 1000, `tracker is ${size} bytes gzipped`);
    const code = source.replace(/\/\*[\s\S]*?\*\//g, '');
    const forbidden = /cookie|localStorage|sessionStorage|indexedDB|caches|openDatabase|canvas|getContext|WebGL|AudioContext|plugins|mimeTypes|hardwareConcurrency|deviceMemory|userAgent|language|platform|getBattery|mediaDevices|timezone|Intl|screen\.|colorDepth|https?:\/\//;
    assert.doesNotMatch(code, forbidden);
    assert.match(code, /sendBeacon\('\/api\/event'/);
    assert.match(code, /keepalive: true/);
  });

  test('a page load sends nothing (the server counts it); a history-API navigation is counted once; no cookie, no storage', async () => {
    await server.running.deps.storage.db.deleteFrom('analytics_event').execute();
    const { context, page, events } = await open();
    try {
      const response = await page.goto(`${server.url}/`, { waitUntil: 'load' });
      assert.equal(response?.status(), 200);
      assert.equal(await page.evaluate(() => document.querySelectorAll('script[src="/static/t.js"]').length), 1);
      const sent = page.waitForRequest((r) => r.url().endsWith('/api/event'));
      await page.evaluate(() => history.pushState({}, '', '/spa-page?utm_campaign=launch&session=123'));
      const request = await sent;
      assert.equal((await request.response())?.status(), 202);
      // The same path again is not another view.
      await page.evaluate(() => history.pushState({ again: true }, '', '/spa-page?utm_campaign=launch&session=123'));
      await page.waitForTimeout(300);
      assert.equal(events.length, 1, `one report: ${events.join(' | ')}`);
      assert.deepEqual(JSON.parse(events[0]), { p: '/spa-page?utm_campaign=launch&session=123', r: '', w: 'l' });
      assert.deepEqual(await context.cookies(), []);
      assert.deepEqual(await storageUsed(context, page), []);
      await flush(server);
      const rows = await rawEvents(server);
      assert.deepEqual(rows.map((r) => r.path), ['/', '/spa-page?utm_campaign=launch']);
      assert.equal(rows[0].visitor, rows[1].visitor, 'the same anonymous visit');
    } finally {
      await context.close();
    }
  });

  test('with Global Privacy Control on, no request goes out and the server counts nothing', async () => {
    await server.running.deps.storage.db.deleteFrom('analytics_event').execute();
    const { context, page, events } = await open({ gpc: true });
    try {
      await page.goto(`${server.url}/`, { waitUntil: 'load' });
      assert.equal(await page.evaluate(() => (navigator as unknown as { globalPrivacyControl: boolean }).globalPrivacyControl), true);
      await page.evaluate(() => history.pushState({}, '', '/another'));
      await page.evaluate(() => history.back());
      await page.waitForTimeout(500);
      assert.deepEqual(events, []);
      await flush(server);
      assert.deepEqual(await rawEvents(server), []);
    } finally {
      await context.close();
    }
  });

  test('with Do Not Track on, no request goes out and the server counts nothing', async () => {
    await server.running.deps.storage.db.deleteFrom('analytics_event').execute();
    const { context, page, events } = await open({ dnt: true });
    try {
      await page.goto(`${server.url}/privacy`, { waitUntil: 'load' });
      await page.evaluate(() => history.pushState({}, '', '/privacy/elsewhere'));
      await page.waitForTimeout(500);
      assert.deepEqual(events, []);
      await flush(server);
      assert.deepEqual(await rawEvents(server), []);
    } finally {
      await context.close();
    }
  });

  test('without sendBeacon the tracker falls back to fetch with keepalive', async () => {
    const { context, page, events } = await open({ noBeacon: true });
    try {
      await page.goto(`${server.url}/contact`, { waitUntil: 'load' });
      const sent = page.waitForRequest((r) => r.url().endsWith('/api/event'));
      await page.evaluate(() => history.pushState({}, '', '/contact/step-2'));
      assert.equal((await (await sent).response())?.status(), 202);
      assert.equal(events.length, 1);
      assert.deepEqual(await context.cookies(), []);
    } finally {
      await context.close();
    }
  });

  test('after the rollup the dashboard shows the visit, with no axe-core violations; so does the public summary', async () => {
    await server.running.deps.storage.db.deleteFrom('analytics_event').execute();
    const visitor = await open();
    await visitor.page.goto(`${server.url}/`, { waitUntil: 'load' });
    const sent = visitor.page.waitForRequest((r) => r.url().endsWith('/api/event'));
    await visitor.page.evaluate(() => history.pushState({}, '', '/spa-dashboard-check'));
    assert.equal((await (await sent).response())?.status(), 202);
    await visitor.context.close();
    await flush(server);
    clock.advance(3600_000);
    assert.equal((await server.running.jobs.runNow(ANALYTICS_ROLLUP_JOB)).status, 'done');
    assert.deepEqual(await rawEvents(server), []);

    const staff = await makeStaff(server, clock, 'sales');
    const context = await browser.newContext();
    try {
      const [name, value] = staff.cookie.split('=');
      await context.addCookies([{ name, value, url: `${server.url}/console` }]);
      const page = await context.newPage();
      const day = clock.now().toISOString().slice(0, 10);
      const response = await page.goto(`${server.url}/console/analytics?from=${day}&to=${day}`, { waitUntil: 'load' });
      assert.equal(response?.status(), 200);
      const pages = await page.locator('table:has(caption:text("Pages by page views")) tbody tr').allInnerTexts();
      assert.ok(pages.some((row) => row.includes('/spa-dashboard-check') && row.includes('fewer than 5')), `the visit is shown: ${pages.join(' / ')}`);
      assert.ok(await page.locator('svg[role="img"]').isVisible());
      const violations = await axeViolations(page);
      assert.equal(violations.length, 0, describeViolations(violations));

      server.running.deps.policy.policy.analytics.public_summary = true;
      const summary = await page.goto(`${server.url}/stats`, { waitUntil: 'load' });
      assert.equal(summary?.status(), 200);
      const publicViolations = await axeViolations(page);
      assert.equal(publicViolations.length, 0, describeViolations(publicViolations));
    } finally {
      server.running.deps.policy.policy.analytics.public_summary = false;
      await context.close();
    }
  });
});
