// Hostile input at POST /api/event and on counted page loads: random bodies, content
// types, paths, referrers and headers get a clear 2xx/4xx answer, never a 500, and the
// server keeps counting afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startTestServer, type TestServer } from '../support/server.ts';
import { beacon, browserHeaders, flush, rawEvents, visit } from './helpers.ts';

describe('analytics ingest under hostile input', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { TRUST_PROXY: 'true', ANALYTICS_RATE_LIMIT_MAX: '1000000', ANALYTICS_MAX_VIEWS_PER_MINUTE: '1000000' } });
  });
  after(async () => {
    await server?.close();
  });

  const anyValue = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.string(), { maxLength: 3 }), fc.object({ maxDepth: 2 }));

  test('random event bodies and content types never get a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ p: anyValue, r: anyValue, w: anyValue }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
          fc.record({ p: fc.webPath().map((p) => `/${p}`), r: fc.oneof(fc.webUrl(), fc.string()), w: fc.constantFrom('s', 'm', 'l') }).map((o) => JSON.stringify(o)),
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
        ),
        fc.constantFrom('text/plain', 'text/plain;charset=UTF-8', 'application/json', 'application/octet-stream', 'multipart/form-data; boundary=x', ''),
        fc.ipV4(),
        async (body, type, ip) => {
          const res = await beacon(server, body, { 'content-type': type, 'x-forwarded-for': ip });
          await res.arrayBuffer();
          assert.ok([202, 400, 403, 413, 415].includes(res.status), `status ${res.status} for ${JSON.stringify(body).slice(0, 80)} as ${type}`);
        },
      ),
      { numRuns: 150 },
    );
  });

  test('random paths, referrers and addresses on page loads never get a 500 and never break counting', async () => {
    await fc.assert(
      fc.asyncProperty(fc.webQueryParameters(), fc.oneof(fc.webUrl(), fc.string({ unit: 'binary', maxLength: 100 }).map((s) => encodeURIComponent(s))), fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant('not-an-ip')), async (query, referer, ip) => {
        const res = await visit(server, `/?${query}`, { referer: referer.replace(/[^\x20-\x7e]/g, ''), 'x-forwarded-for': ip });
        assert.ok(res.status < 500, `status ${res.status}`);
      }),
      { numRuns: 100 },
    );
    await flush(server);
    assert.ok((await rawEvents(server)).length > 0, 'the random page loads were counted');
    await server.running.deps.storage.db.deleteFrom('analytics_event').execute();
    assert.equal((await beacon(server, { p: '/after' })).status, 202);
    await visit(server, '/', browserHeaders());
    await flush(server);
    assert.deepEqual((await rawEvents(server)).map((r) => r.path), ['/', '/after']);
    assert.ok(!server.logs.join('').includes('"level":50'), 'no error logged');
  });
});
