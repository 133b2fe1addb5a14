// Nothing acknowledged is ever lost: under load, the server is killed with SIGKILL,
// restarted on the same database, and every submission that got a success answer
// (its reference is in the receipt cookie) must be there, with the audit chain intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../src/config.ts';
import { Signer } from '../../src/http/signing.ts';
import { issueFormToken } from '../../src/inquiries/form-token.ts';
import { verifyAuditChain } from '../../src/audit/append-audit.ts';
import { openStorage } from '../../src/storage/db.ts';
import { createTestDatabase } from '../support/db.ts';
import { TEST_SECRET, validFields } from '../support/server.ts';

const node = join(projectRoot, 'node_modules', '.bin', 'node');

function startServer(databaseUrl: string, port: number): ChildProcess {
  return spawn(node, ['src/main.ts', 'serve'], {
    cwd: projectRoot,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: databaseUrl, SECRET_KEY: TEST_SECRET, FORM_MIN_FILL_SECONDS: '0', RATE_LIMIT_MAX: '10000000', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

async function waitHealthy(url: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

test('kill -9 under load loses no acknowledged submission', { timeout: 60_000 }, async (t) => {
  const database = await createTestDatabase();
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const url = `http://127.0.0.1:${port}`;
  const signer = new Signer(Buffer.from(TEST_SECRET, 'utf8'));
  let server = startServer(database.url, port);
  try {
    await waitHealthy(url);
    const acknowledged: string[] = [];
    let attempted = 0;
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        attempted++;
        const body = new URLSearchParams({ ...validFields, email: `crash${w}-${i}@example.com`, form_token: issueFormToken(signer, 'demo', new Date(Date.now() - 5000)) });
        try {
          const res = await fetch(`${url}/demo`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
          if (res.status === 303) {
            const cookie = res.headers.getSetCookie().find((c) => c.startsWith('lt_receipt='))!;
            acknowledged.push(/demo~(LT-[A-Z2-9]{8})/.exec(cookie)![1]);
          }
        } catch {
          return; // the server is gone: an unanswered request was never acknowledged
        }
      }
    };
    const loops = Array.from({ length: 20 }, (_, w) => worker(w));
    await new Promise((r) => setTimeout(r, 1500));
    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
    stop = true;
    await Promise.all(loops);
    assert.ok(acknowledged.length > 50, `only ${acknowledged.length} submissions were acknowledged before the kill`);

    server = startServer(database.url, port);
    await waitHealthy(url);
    const storage = openStorage(database.target);
    try {
      const found = new Set(
        (await storage.db.selectFrom('inquiry').select('reference').execute()).map((r) => r.reference),
      );
      const lost = acknowledged.filter((ref) => !found.has(ref));
      t.diagnostic(`${attempted} attempted, ${acknowledged.length} acknowledged, ${found.size} rows after restart, ${lost.length} lost (${database.kind})`);
      assert.deepEqual(lost, []);
      const outbox = await storage.db.selectFrom('outbox').select('id').execute();
      assert.equal(outbox.length, found.size * 2, 'each stored inquiry has both of its messages: no partial write');
      const chain = await verifyAuditChain(storage.db);
      assert.ok(chain.ok, `audit chain broken at ${chain.brokenAt}`);
      assert.equal(chain.entries, found.size);
    } finally {
      await storage.close();
    }
  } finally {
    server.kill('SIGKILL');
    await database.drop();
  }
});
