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
    for (const path of ['/', '/demo', '/contact', '/privacy', '/privacy/versions', '/privacy/retention', '/privacy/preferences', '/security', '/thanks']) {
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

  test('every version stays readable at a stable URL; unknown versions are 404', async () => {
    const { policy } = server.running.deps.policy;
    const { body: list } = await get('/privacy/versions');
    for (const v of policy.notice.versions) {
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
    assert.ok(body.includes(policy.retention.sweep_cadence));
  });

  test('unknown pages get an HTML 404, or a problem+json 404 for JSON clients', async () => {
    const { res, body } = await get('/no-such-page');
    assert.equal(res.status, 404);
    assert.match(body, /Page not found/);
    const json = await fetch(`${server.url}/no-such-page`, { headers: { accept: 'application/json' } });
    assert.equal(json.status, 404);
    assert.match(json.headers.get('content-type') ?? '', /application\/problem\+json/);
  });

  test('/healthz reports the database', async () => {
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok', database: server.database.kind });
  });
});
