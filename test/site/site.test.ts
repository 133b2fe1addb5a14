// The public pages are rendered from the policy: what is published cannot drift from
// what runs. Real HTTP against the real server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/config.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describe('public site', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  const get = async (path: string) => {
    const res = await fetch(`${server.url}${path}`);
    return { res, body: await res.text() };
  };

  test('every public page answers 200 with HTML, no cookie and a strict CSP', async () => {
    for (const path of ['/', '/demo', '/contact', '/privacy', '/privacy/versions', '/privacy/retention', '/privacy/deadlines', '/privacy/preferences', '/security', '/thanks']) {
      const { res, body } = await get(path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/, path);
      assert.equal(res.headers.get('set-cookie'), null, `${path} set a cookie`);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
      assert.doesNotMatch(body, /\{\{|@@/, `${path} has an unsubstituted placeholder`);
      // Nothing from another origin: every src/href is relative or mailto.
      for (const [, url] of body.matchAll(/(?:src|href|action)="([^"]*)"/g)) {
        assert.ok(url.startsWith('/') || url.startsWith('#') || url.startsWith('mailto:'), `${path} refers to ${url}`);
      }
    }
  });

  test('the notice is the current version, with the material-change banner and policy tables', async () => {
    const { policy } = server.running.deps.policy;
    const current = policy.notice.versions.find((v) => v.version === policy.notice.current)!;
    const { body } = await get('/privacy');
    if (current.material) {
      assert.match(body, /class="notice-banner"/);
      assert.ok(body.includes(new Date(`${current.effective}T12:00:00Z`).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' })));
    }
    for (const cookie of policy.cookies) assert.ok(body.includes(`<th scope="row">${cookie.name}</th>`), `cookie table lacks ${cookie.name}`);
    for (const purpose of policy.purposes) assert.ok(body.includes(purpose.name), `purposes table lacks ${purpose.id}`);
    assert.ok(body.includes(policy.organisation.privacy_address));
    assert.ok(body.includes(policy.organisation.privacy_subject));
    assert.ok(body.includes(`${policy.retention.follow_up_window_days}`));
  });

  test('every published version stays readable at a stable URL; drafts awaiting review and unknown versions are 404', async () => {
    const { policy } = server.running.deps.policy;
    const { body: list } = await get('/privacy/versions');
    const drafts = policy.notice.versions.filter((v) => !v.review);
    assert.ok(drafts.length > 0, 'the shipped policy carries a draft for counsel (2026-12-15)');
    for (const v of drafts) {
      assert.ok(!list.includes(`/privacy/versions/${v.version}`), `draft ${v.version} is not listed`);
      assert.equal((await get(`/privacy/versions/${v.version}`)).res.status, 404, `draft ${v.version} is not readable`);
    }
    for (const v of policy.notice.versions.filter((x) => x.review)) {
      assert.ok(list.includes(`/privacy/versions/${v.version}`));
      const { res, body } = await get(`/privacy/versions/${v.version}`);
      assert.equal(res.status, 200);
      assert.ok(body.includes(`Version ${v.version}`));
      if (v.version !== policy.notice.current) assert.match(body, /earlier version of our privacy notice/);
    }
    const missing = await get('/privacy/versions/1999-01-01');
    assert.equal(missing.res.status, 404);
  });

  test('the security page lists the policy commitments, each naming a test that exists', async () => {
    const { policy } = server.running.deps.policy;
    const { body } = await get('/security');
    for (const c of policy.security_commitments) {
      assert.ok(body.includes(c.proven_by), c.title);
      assert.ok(existsSync(join(projectRoot, c.proven_by)), `${c.proven_by} (named by "${c.title}") does not exist`);
    }
  });

  test('the retention schedule is generated from the policy', async () => {
    const { policy } = server.running.deps.policy;
    const { body } = await get('/privacy/retention');
    for (const rule of policy.retention.rules) assert.ok(body.includes(rule.data.replace(/&/g, '&amp;')), rule.data);
    assert.match(body, /Our deletion job runs <span id="sweep-cadence">at 03:00, every day \(Europe\/Dublin time\)<\/span>/);
  });

  test('the request deadlines page is generated from the regional table, with each law and its sources', async () => {
    const { policy, regionalRules } = server.running.deps.policy;
    const { body } = await get('/privacy/deadlines');
    const escaped = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
    assert.ok(body.includes(`within ${policy.deadlines.answer_business_days} business days`));
    // Every row's law and every source appear; the page is the table the clock reads.
    for (const r of regionalRules) {
      assert.ok(body.includes(escaped(r.citation)), `${r.jurisdiction} ${r.requestType}: citation`);
      for (const s of r.source.split(/\s+;\s+/)) assert.ok(body.includes(escaped(s)), `${r.jurisdiction} ${r.requestType}: source ${s}`);
    }
    // Argentina: 10 calendar days for access, 5 business days for correction and deletion.
    const argentina = /<th scope="row">Argentina[^<]*<span class="muted">AR<\/span><\/th><td>([^<]*)<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td>/.exec(body);
    assert.deepEqual(argentina?.slice(1), ['10 calendar days', '5 business days', '5 business days']);
    // Chile changes law on 1 December 2026: both periods are listed with their dates.
    assert.match(body, /Chile[^<]*\(requests received until 30 November 2026\)/);
    assert.match(body, /Chile[^<]*\(requests received from 1 December 2026\)/);
    // Kenya's correction and deletion periods are unconfirmed, and the page says so.
    assert.match(body, /<span class="muted">KE<\/span><\/th><td>7 calendar days<\/td><td>7 calendar days<\/td><td>7 calendar days<\/td><td>[^<]*<strong>\(not yet confirmed against the legal text\)<\/strong>/);
    // The footer of every page leads here.
    assert.match((await get('/')).body, /<a href="\/privacy\/deadlines">Request deadlines<\/a>/);
  });

  test('unknown pages get an HTML 404, or a problem+json 404 for JSON clients', async () => {
    const { res, body } = await get('/no-such-page');
    assert.equal(res.status, 404);
    assert.match(body, /Page not found/);
    const json = await fetch(`${server.url}/no-such-page`, { headers: { accept: 'application/json' } });
    assert.equal(json.status, 404);
    assert.match(json.headers.get('content-type') ?? '', /application\/problem\+json/);
  });

  test('/thanks without a valid receipt thanks nobody: it says there is nothing to show and links to the forms', async () => {
    for (const cookie of [undefined, 'lt_receipt=demo~LT-FORGED12', 'lt_receipt=garbage']) {
      const res = await fetch(`${server.url}/thanks`, cookie ? { headers: { cookie } } : {});
      assert.equal(res.status, 200, String(cookie));
      const body = await res.text();
      assert.match(body, /<h1>Nothing to show here<\/h1>/, String(cookie));
      assert.doesNotMatch(body, /Thank you|we have (your|received)|received what you sent/i, `${cookie}: claims a receipt`);
      assert.match(body, /href="\/demo"/);
      assert.match(body, /href="\/contact"/);
      assert.match(body, /<meta name="robots" content="noindex">/);
      assert.equal(res.headers.get('cache-control'), 'no-store');
    }
  });

  test('the postal address is printed only when the policy gives one', async () => {
    const organisation = server.running.deps.policy.policy.organisation as { postal_address?: string };
    const address = organisation.postal_address;
    assert.ok(address, 'the shipped policy has an address');
    try {
      const withAddress = (await get('/privacy')).body;
      assert.ok(withAddress.includes(address.replace(/&/g, '&amp;')), 'shown when given');
      assert.match(withAddress, /By post/);
      for (const none of [undefined, '', '   ']) {
        organisation.postal_address = none;
        for (const path of ['/privacy', '/privacy/versions/2026-06-01']) {
          const { res, body } = await get(path);
          assert.equal(res.status, 200, `${path} with postal_address ${JSON.stringify(none)}`);
          assert.doesNotMatch(body, /By post|by post at|undefined|\{\{|@@/, `${path}: an empty postal address line`);
        }
      }
    } finally {
      organisation.postal_address = address;
    }
  });

  test('tables for visitors name kinds of data in plain words, not fideslang ids', async () => {
    const { policy } = server.running.deps.policy;
    for (const path of ['/privacy', '/privacy/versions/2026-06-01', '/privacy/retention']) {
      const { body } = await get(path);
      for (const [, cell] of body.matchAll(/<t[dh][^>]*>([^<]*)<\/t[dh]>/g)) {
        assert.doesNotMatch(cell, /\b(user|system|account)\.[a-z_]+/, `${path}: table cell "${cell}"`);
      }
    }
    const { body } = await get('/privacy');
    const fieldsTable = /<caption>What the demo and contact forms ask for<\/caption>[\s\S]*?<\/table>/.exec(body)?.[0] ?? '';
    for (const words of ['Name', 'Email address', 'Company', 'Job title', 'Country', 'Your message', 'Your marketing choice']) {
      assert.ok(fieldsTable.includes(`<td>${words}</td>`), `the fields table says "${words}"`);
    }
    for (const field of Object.values(policy.fields)) assert.ok(!fieldsTable.includes(field.category), field.category);
    const { categoryLabel } = await import('../../src/site/policy-tables.ts');
    assert.equal(categoryLabel('user.contact.email'), 'Email address');
    assert.equal(categoryLabel('user.financial.bank_account'), 'Bank account', 'an unknown id reads as words');
  });

  test('every public page has a meta description of its own', async () => {
    const seen = new Map<string, string>();
    for (const path of ['/', '/demo', '/contact', '/privacy', '/privacy/versions', '/privacy/versions/2026-06-01', '/privacy/retention', '/privacy/deadlines', '/privacy/preferences', '/security', '/thanks', '/no-such-page']) {
      const { body } = await get(path);
      const descriptions = [...body.matchAll(/<meta name="description" content="([^"]*)">/g)].map((m) => m[1]);
      assert.equal(descriptions.length, 1, `${path}: one meta description`);
      assert.ok(descriptions[0].length >= 20, `${path}: "${descriptions[0]}"`);
      seen.set(path, descriptions[0]);
    }
    const own = ['/', '/demo', '/contact', '/privacy', '/privacy/versions', '/privacy/versions/2026-06-01', '/privacy/retention', '/privacy/deadlines', '/security', '/thanks'];
    assert.equal(new Set(own.map((p) => seen.get(p))).size, own.length, 'each page describes itself');
  });

  test('/robots.txt allows everything and names no sitemap; /favicon.ico leads to the icon', async () => {
    const robots = await fetch(`${server.url}/robots.txt`);
    assert.equal(robots.status, 200);
    assert.match(robots.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await robots.text();
    assert.match(text, /^User-agent: \*$/m);
    assert.match(text, /^Allow: \/$/m);
    assert.doesNotMatch(text, /Disallow: \/|Sitemap/i);
    assert.equal(robots.headers.get('set-cookie'), null);

    const ico = await fetch(`${server.url}/favicon.ico`, { redirect: 'manual' });
    assert.equal(ico.status, 301);
    assert.equal(ico.headers.get('location'), '/static/favicon.svg');
    const icon = await fetch(`${server.url}/favicon.ico`);
    assert.equal(icon.status, 200);
    assert.match(icon.headers.get('content-type') ?? '', /^image\/svg\+xml/);
    assert.match(await icon.text(), /<svg\b/);
  });

  test('/healthz reports the database', async () => {
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok', database: server.database.kind });
  });
});
