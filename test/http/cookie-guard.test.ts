// P9, defence in depth: whatever sets it (reply.setCookie, a raw Set-Cookie header), a
// cookie the policy does not declare never leaves the server; a declared one does. The
// routes here are added to the real app before it starts, as a careless change would be.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { loadConfig, projectRoot } from '../../src/config.ts';
import { setDeclaredCookie } from '../../src/http/cookies.ts';
import { startService } from '../../src/runtime.ts';
import { createTestDatabase, suiteDbKind } from '../support/db.ts';
import { TEST_SECRET } from '../support/server.ts';

test('an undeclared cookie is stripped from the answer, however it was set; the declared one passes', async () => {
  const database = await createTestDatabase(suiteDbKind());
  const logs: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, cb) => (logs.push(String(chunk)), cb()) });
  const config = loadConfig({ DATABASE_URL: database.url, SECRET_KEY: TEST_SECRET, LOG_LEVEL: 'info' }, projectRoot);
  const running = await startService(config, { listen: false, logger: { stream } });
  try {
    const { app, deps } = running;
    app.get('/t/set-cookie', { config: { access: 'public' } }, async (_req, reply) => reply.setCookie('tracker', 'abc', { path: '/' }).send('ok'));
    app.get('/t/raw-header', { config: { access: 'public' } }, async (_req, reply) => reply.header('set-cookie', 'other=1; Path=/').send('ok'));
    app.get('/t/declared', { config: { access: 'public' } }, async (_req, reply) => {
      setDeclaredCookie(reply, deps.policy, false, 'lt_receipt', 'signed-value');
      return reply.send('ok');
    });
    for (const path of ['/t/set-cookie', '/t/raw-header']) {
      const res = await app.inject({ method: 'GET', url: path });
      assert.equal(res.statusCode, 200, path);
      assert.equal(res.headers['set-cookie'], undefined, `${path}: no cookie leaves`);
    }
    assert.ok(logs.some((l) => l.includes('undeclared cookie removed from response') && l.includes('tracker')), 'the removal is logged with the cookie name');
    const declared = await app.inject({ method: 'GET', url: '/t/declared' });
    assert.match(String(declared.headers['set-cookie']), /^lt_receipt=signed-value; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Strict$/);
  } finally {
    await running.close();
    await database.drop();
  }
});
