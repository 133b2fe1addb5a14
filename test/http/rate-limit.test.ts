// One rate-limit budget per client address, shared by every public form post (demo,
// contact, marketing preferences), as the README says; the unsubscribe POST keeps its
// own. A refusal shows the form again with what was typed, whichever form it was.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { postForm, startTestServer, submitForm, validFields } from '../support/server.ts';

async function preferencesToken(url: string): Promise<string> {
  const page = await (await fetch(`${url}/privacy/preferences`)).text();
  const token = /name="form_token" value="([^"]+)"/.exec(page)?.[1];
  assert.ok(token, 'the preferences form has a token');
  return token;
}

describe('shared form budget', () => {
  test('posts spread across /demo, /contact and /privacy/preferences use up one budget per client; unsubscribe is counted apart', async () => {
    const server = await startTestServer({ env: { RATE_LIMIT_MAX: '4', RATE_LIMIT_WINDOW_SECONDS: '60', TRUST_PROXY: 'true' } });
    const client = { 'x-forwarded-for': '203.0.113.61' };
    try {
      const statuses: number[] = [];
      statuses.push((await submitForm(server.url, 'demo', { ...validFields, email: 'budget1@example.com' }, client)).status);
      statuses.push((await submitForm(server.url, 'contact', { ...validFields, email: 'budget2@example.com' }, client)).status);
      statuses.push((await postForm(server.url, '/privacy/preferences', { email: 'budget3@example.com', form_token: await preferencesToken(server.url) }, client)).status);
      statuses.push((await submitForm(server.url, 'demo', { ...validFields, email: 'budget4@example.com' }, client)).status);
      assert.deepEqual(statuses, [303, 303, 200, 303], 'four posts within the budget of four, over three forms');

      // The fifth post, on any of the forms, is over the one budget.
      const contact = await submitForm(server.url, 'contact', { ...validFields, email: 'budget5@example.com' }, client);
      assert.equal(contact.status, 429, '/contact after posts on the other forms');
      assert.ok(Number(contact.headers.get('retry-after')) >= 1);
      const typed = 'keep.this.address@example.com';
      const prefs = await postForm(server.url, '/privacy/preferences', { email: typed, form_token: await preferencesToken(server.url) }, client);
      assert.equal(prefs.status, 429, '/privacy/preferences after posts on the inquiry forms');
      assert.ok(Number(prefs.headers.get('retry-after')) >= 1);
      const page = await prefs.text();
      assert.match(page, /Too many requests\. Please wait \d+ seconds and try again/);
      assert.match(page, /<form class="inquiry-form" method="post" action="\/privacy\/preferences"/, 'the preferences form comes back');
      assert.match(page, new RegExp(`<input type="email" id="email" name="email"[^>]*value="${typed.replace(/\./g, '\\.')}"`), 'with the typed address kept');

      // Another client has a budget of its own.
      assert.equal((await submitForm(server.url, 'demo', { ...validFields, email: 'other-client@example.com' }, { 'x-forwarded-for': '198.51.100.61' })).status, 303);
      // The unsubscribe POST has its own, separate budget: an invalid link is answered as such, not 429.
      assert.equal((await postForm(server.url, '/privacy/unsubscribe/not-a-real-token', {}, client)).status, 404);
    } finally {
      await server.close();
    }
  });
});
