// Authorisation, enumerated from the server itself: every route it has declares who may
// use it, and every route that is not public refuses an anonymous client and every role
// it does not name. A route without a declaration stops the start.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ROLES, type Role } from '../../src/auth/roles.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { Clock, makeStaff, sameOrigin, type Staff } from '../auth/helpers.ts';

describe('console access', () => {
  const clock = new Clock();
  let server: TestServer;
  const staff = {} as Record<Role, Staff>;
  before(async () => {
    server = await startTestServer({ now: clock.now });
    for (const role of ROLES) staff[role] = await makeStaff(server, clock, role);
  });
  after(() => server.close());

  const concrete = (url: string) => url.replace(/:[A-Za-z_]+/g, () => randomUUID());

  const ask = (method: string, url: string, who?: Staff) =>
    fetch(`${server.url}${url}`, {
      method,
      redirect: 'manual',
      headers: { ...(method === 'GET' || method === 'HEAD' ? {} : sameOrigin(server.url)), ...(who ? { cookie: who.cookie } : {}) },
      // A valid CSRF token: the refusal must come from the role, not from the form check.
      body: method === 'GET' || method === 'HEAD' ? undefined : new URLSearchParams({ csrf: who?.csrf ?? '' }).toString(),
    });

  test('every route declares its access; the console routes are not public', () => {
    const routes = server.running.app.declaredRoutes;
    assert.ok(routes.length > 10, 'the server lists its routes');
    for (const r of routes) assert.ok(r.access === 'public' || (Array.isArray(r.access) && r.access.length > 0), `${r.method} ${r.url}`);
    const consoleRoutes = routes.filter((r) => r.url.startsWith('/console') && !['/console/sign-in', '/console/setup'].includes(r.url));
    assert.ok(consoleRoutes.length >= 5);
    for (const r of consoleRoutes) assert.notEqual(r.access, 'public', `${r.method} ${r.url} must not be public`);
  });

  test('each non-public route refuses an anonymous client and every role it does not name', async () => {
    const guarded = server.running.app.declaredRoutes.filter((r) => r.access !== 'public');
    for (const r of guarded) {
      const url = concrete(r.url);
      const anonymous = await ask(r.method, url);
      await anonymous.arrayBuffer();
      if (r.method === 'GET' || r.method === 'HEAD') {
        assert.equal(anonymous.status, 303, `anonymous ${r.method} ${r.url}`);
        assert.equal(anonymous.headers.get('location'), '/console/sign-in');
      } else {
        assert.equal(anonymous.status, 401, `anonymous ${r.method} ${r.url}`);
      }
      // A forged or stale cookie is anonymous too.
      const forged = await fetch(`${server.url}${url}`, { method: r.method, redirect: 'manual', headers: { cookie: 'lt_console=' + 'x'.repeat(43), ...sameOrigin(server.url) } });
      await forged.arrayBuffer();
      assert.ok(forged.status === 303 || forged.status === 401, `forged cookie ${r.method} ${r.url}: ${forged.status}`);
      for (const role of ROLES) {
        if ((r.access as readonly Role[]).includes(role)) continue;
        const res = await ask(r.method, url, staff[role]);
        await res.arrayBuffer();
        assert.equal(res.status, 403, `${role} ${r.method} ${r.url}`);
      }
    }
  });

  test('the roles a page names can open it', async () => {
    const pages = server.running.app.declaredRoutes.filter((r) => r.access !== 'public' && r.method === 'GET' && !r.url.includes(':'));
    for (const r of pages) {
      for (const role of r.access as readonly Role[]) {
        const res = await ask('GET', r.url, staff[role]);
        assert.equal(res.status, 200, `${role} GET ${r.url}`);
        assert.match(res.headers.get('cache-control') ?? '', /no-store/);
        await res.arrayBuffer();
      }
    }
  });

  test('a console post without the session token, or from another site, is refused', async () => {
    const admin = staff.admin;
    const noToken = await fetch(`${server.url}/console/accounts`, { method: 'POST', redirect: 'manual', headers: { ...sameOrigin(server.url), cookie: admin.cookie }, body: 'email=a%40b.example.com&role=sales' });
    assert.equal(noToken.status, 403);
    const crossSite = await fetch(`${server.url}/console/accounts`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...sameOrigin(server.url), 'sec-fetch-site': 'cross-site', cookie: admin.cookie },
      body: new URLSearchParams({ csrf: admin.csrf, email: 'a@b.example.com', role: 'sales' }).toString(),
    });
    assert.equal(crossSite.status, 403);
    const otherToken = await fetch(`${server.url}/console/accounts`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...sameOrigin(server.url), cookie: admin.cookie },
      body: new URLSearchParams({ csrf: staff.privacy.csrf, email: 'a@b.example.com', role: 'sales' }).toString(),
    });
    assert.equal(otherToken.status, 403, "another session's token is refused");
  });

});

describe('buildApp with an undeclared route', () => {
  test('a plugin registering a route without access makes the app fail to start', async () => {
    const { buildApp } = await import('../../src/app.ts');
    const server = await startTestServer();
    try {
      const app = await buildApp(server.running.deps, { logger: false });
      assert.throws(() => app.get('/console/undeclared', async () => 'x'), /GET \/console\/undeclared declares no access/);
      assert.throws(() => app.get('/console/odd', { config: { access: ['root' as Role] } }, async () => 'x'), /access must be/);
      app.register(async (scope) => {
        scope.get('/console/forgotten', async () => 'x');
      });
      await assert.rejects(async () => {
        await app.ready();
      }, /GET \/console\/forgotten declares no access/);
      await app.close().catch(() => undefined);
    } finally {
      await server.close();
    }
  });
});
