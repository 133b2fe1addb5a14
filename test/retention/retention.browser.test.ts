// The retention pages in a real browser (Debian's Chromium) with axe-core: the public
// schedule, and the console's holds page used as privacy staff use it (place a hold with
// a hostile reason, see it listed, lift it). No axe violations, no script runs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { axeViolations, describeViolations, launchBrowser } from '../e2e/browser.ts';
import { Clock, makeStaff } from '../auth/helpers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { addPerson, iso } from './seed.ts';

describe('retention pages in a real browser', () => {
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

  test('the public schedule and the console holds page work and pass axe', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/privacy/retention`);
    assert.match((await page.textContent('#sweep-cadence')) ?? '', /at 03:00, every day/);
    assert.match((await page.textContent('#backup-retention')) ?? '', /kept for 35 days/);
    await noViolations(page, '/privacy/retention');

    const privacy = await makeStaff(server, clock, 'privacy');
    const [name, value] = privacy.cookie.split('=');
    await context.addCookies([{ name, value, url: `${server.url}/console` }]);
    const person = await addPerson(server.running.deps.storage.db, { email: 'held@browser.example', at: iso(clock.t) });
    await page.goto(`${server.url}/console/retention`);
    await noViolations(page, '/console/retention');
    await page.selectOption('#kind', 'legal_hold');
    await page.selectOption('#scope', 'person');
    await page.fill('#target', person);
    await page.fill('#reason', `Matter <script>window.__pwned=1</script>`);
    await Promise.all([page.waitForNavigation(), page.click('button.primary')]);
    assert.match((await page.textContent('[role=status]')) ?? '', /Legal hold placed on person/);
    assert.match((await page.textContent('#holds')) ?? '', /Matter <script>window.__pwned=1<\/script>/, 'the reason is shown as text');
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined, 'no script ran');
    await noViolations(page, '/console/retention with a hold');
    await Promise.all([page.waitForNavigation(), page.click('#holds button')]);
    assert.match((await page.textContent('[role=status]')) ?? '', /lifted/);
    assert.match((await page.textContent('#holds')) ?? '', /No holds are in place/);
    await context.close();
  });
});
