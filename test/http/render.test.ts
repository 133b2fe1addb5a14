// The page shell is shared: another surface (a staff console) passes its own navigation
// and footer, and every page carries a description; values are escaped.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { html } from '../../src/http/html.ts';
import { page, siteNav } from '../../src/http/layout.ts';

describe('layout', () => {
  test('the public nav by default; a console passes its own nav and no public footer', () => {
    const site = page({ title: 'Home', orgName: 'LumeTrax', path: '/', body: html`<h1>Hi</h1>`, description: 'The home page.' });
    for (const [href] of siteNav) assert.ok(site.includes(`href="${href}"`), href);
    assert.match(site, /<a href="\/" aria-current="page">Home<\/a>/);
    assert.match(site, /<meta name="description" content="The home page\.">/);
    assert.match(site, /class="site-footer"/);

    const consoleNav = [['/staff', 'Inquiries'], ['/staff/requests', 'Requests']] as const;
    const staff = page({ title: 'Inquiries', orgName: 'LumeTrax', path: '/staff', body: html`<h1>Inquiries</h1>`, nav: consoleNav, footer: false, noindex: true });
    assert.match(staff, /<a href="\/staff" aria-current="page">Inquiries<\/a>/);
    assert.ok(staff.includes('href="/staff/requests"'));
    assert.ok(!staff.includes('href="/demo"'), 'not the public nav');
    assert.doesNotMatch(staff, /class="site-footer"/);
    assert.match(staff, /<meta name="robots" content="noindex">/);
    assert.match(staff, /<meta name="description" content="[^"]{10,}">/, 'a description even when none is given');
  });

  test('titles and descriptions are escaped', () => {
    const out = page({ title: '<b>x</b>', orgName: 'A&B', path: '/', body: html``, description: '"quoted" <i>' });
    assert.ok(!out.includes('<b>x</b>') && !out.includes('"quoted" <i>'));
    assert.match(out, /content="&quot;quoted&quot; &lt;i&gt;"/);
  });
});
