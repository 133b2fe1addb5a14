// The correction form in a real browser (Debian's Chromium): shown on a verified
// correction request, zero axe-core violations with and without field errors, and a
// correction saved by pressing its button.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { makeStaff } from '../auth/helpers.ts';
import { axeViolations, describeViolations, launchBrowser } from '../e2e/browser.ts';
import { postForm, submitForm, validFields } from '../support/server.ts';
import { delivered, requests, submitRequestForm, verifyLinkIn, withDesk } from './support.ts';

async function noViolations(page: Page, what: string) {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `${what}:\n${describeViolations(violations)}`);
}

describe('correction form in a real browser', () => {
  test('accessible with and without errors; saving corrects the record', async () => {
    await withDesk(async (env) => {
      const { server, clock } = env;
      const email = 'katherine.johnson@orbits.example.org';
      assert.equal((await submitForm(server.url, 'demo', { ...validFields, email, name: 'Katherine Jonson' })).status, 303);
      await submitRequestForm(server.url, { email, type: 'correction', jurisdiction: 'IE', message: 'My surname is misspelt' });
      const mails = await delivered(env, 3);
      await postForm(server.url, new URL(verifyLinkIn(mails.find((m) => (m.parsed.text ?? '').includes('/verify/'))!)).pathname, {});
      const [r] = await requests(server);
      const db = server.running.deps.storage.db;
      const inquiry = await db.selectFrom('inquiry').select('id').executeTakeFirstOrThrow();

      const browser = await launchBrowser();
      try {
        const context = await browser.newContext();
        const page = await context.newPage();
        const staff = await makeStaff(server, clock, 'privacy');
        const [name, value] = staff.cookie.split('=');
        await context.addCookies([{ name, value, url: `${server.url}/console` }]);
        await page.goto(`${server.url}/console/requests/${r.id}`);
        await page.waitForSelector('h2:has-text("Correct their data")');
        assert.equal(await page.inputValue('#correct-person-name'), 'Katherine Jonson');
        await noViolations(page, 'request page with the correction form');

        await page.fill('#correct-person-name', '');
        await page.fill(`#correct-inquiry-${inquiry.id}-country`, 'ZZ');
        await page.click('button:has-text("Save the correction and tell the requester")');
        await page.waitForSelector('.error-summary');
        assert.match((await page.textContent('.error-summary'))!, /Nothing was changed: correct the 2 fields marked below/);
        assert.equal(await page.inputValue(`#correct-inquiry-${inquiry.id}-country`), 'ZZ', 'the input is kept');
        await noViolations(page, 'correction form with errors');

        await page.fill('#correct-person-name', 'Katherine Johnson');
        await page.fill(`#correct-inquiry-${inquiry.id}-country`, 'GB');
        await page.click('button:has-text("Save the correction and tell the requester")');
        await page.waitForSelector('dd:has-text("Fulfilled")');
        assert.equal((await db.selectFrom('person').select('name').executeTakeFirstOrThrow()).name, 'Katherine Johnson');
        assert.equal((await requests(server))[0].status, 'fulfilled');
        await context.close();
      } finally {
        await browser.close();
      }
    });
  });
});
