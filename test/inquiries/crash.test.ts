// Nothing acknowledged is ever lost: under load, the server process is killed with
// SIGKILL, restarted on the same database, and every submission that got a success
// answer (its reference is in the receipt cookie) must be there with what it needs (its
// two outbox messages, its consent record when the box was ticked), and the audit chain
// must still verify.
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
import { allInquiries } from '../support/people.ts';
import { TEST_SECRET, validFields } from '../support/server.ts';
import { freePort } from '../support/free-port.ts';

const node = join(projectRoot, 'node_modules', '.bin', 'node');
const LOOPS = 20;
const LOAD_MS = 2000;

interface Server {
  child: ChildProcess;
  exited: Promise<void>;
  stderr: () => string;
}

function startServer(databaseUrl: string, port: number): Server {
  // Only what the service needs: nothing from the test runner's environment (SMTP_URL,
  // NODE_OPTIONS, NODE_TEST_CONTEXT) may change how it runs.
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k]) env[k] = process.env[k];
  const child = spawn(node, ['src/main.ts', 'serve'], {
    cwd: projectRoot,
    env: { ...env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: databaseUrl, SECRET_KEY: TEST_SECRET, FORM_MIN_FILL_SECONDS: '0', RATE_LIMIT_MAX: '10000000', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { child, exited, stderr: () => stderr };
}

async function waitHealthy(url: string, server: Server): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (server.child.exitCode !== null) throw new Error(`server exited with ${server.child.exitCode}: ${server.stderr()}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not start: ${server.stderr()}`);
}

test('kill -9 under load loses no acknowledged submission', { timeout: 60_000 }, async (t) => {
  const database = await createTestDatabase();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // Tokens are minted with the server's key through the server's own signing code, so
  // each request is a distinct valid submission without a GET first.
  const signer = new Signer(Buffer.from(TEST_SECRET, 'hex'));
  let server = startServer(database.url, port);
  try {
    await waitHealthy(url, server);

    // reference -> what was sent, for every success answer received before the kill.
    const acknowledged = new Map<string, { email: string; optIn: boolean }>();
    const otherAnswers: number[] = [];
    let attempted = 0;
    let cutOff = 0;
    let killed = false;
    const loop = async (w: number) => {
      for (let i = 0; ; i++) {
        const email = `${i % 3 === 0 ? 'optin.' : ''}crash${w}-${i}@analytical-engines.example.com`;
        const optIn = i % 3 === 0;
        const body = new URLSearchParams({
          ...validFields,
          email,
          ...(optIn ? { marketing_opt_in: 'yes' } : {}),
          form_token: issueFormToken(signer, 'demo', new Date(Date.now() - 5000)),
        });
        attempted++;
        let res: Response;
        try {
          res = await fetch(`${url}/demo`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }, body });
        } catch {
          // The server is gone: a request without an answer was never acknowledged.
          assert.ok(killed, 'a request failed before the server was killed');
          cutOff++;
          return;
        }
        // The status line and headers are the answer: a 303 counts even if the kill
        // lands before the (empty) body is read.
        if (res.status === 303) {
          const receipt = res.headers.getSetCookie().find((c) => c.startsWith('lt_receipt='));
          const reference = receipt && /^lt_receipt=[A-Za-z0-9_-]{6}\.demo~(LT-[A-Z2-9]{8})\./.exec(receipt)?.[1];
          assert.ok(reference, `a success answer without a receipt reference: ${receipt}`);
          acknowledged.set(reference, { email, optIn });
        } else {
          otherAnswers.push(res.status);
        }
        await res.arrayBuffer().catch(() => undefined);
      }
    };
    // Handlers attached at once, so a failed assertion in a loop is reported, not left unhandled.
    const loops = Promise.all(Array.from({ length: LOOPS }, (_, w) => loop(w)));
    await new Promise((r) => setTimeout(r, LOAD_MS));
    killed = true;
    server.child.kill('SIGKILL');
    await server.exited;
    await loops;

    assert.deepEqual(otherAnswers, [], 'every answer before the kill was a success');
    assert.ok(acknowledged.size >= 50, `only ${acknowledged.size} submissions were acknowledged before the kill`);
    assert.ok(cutOff > 0, 'the kill landed while requests were in flight');

    server = startServer(database.url, port);
    await waitHealthy(url, server);
    const storage = openStorage(database.target);
    try {
      const rows = await allInquiries(storage.db);
      const byReference = new Map(rows.map((r) => [r.reference, r]));
      const lost = [...acknowledged.keys()].filter((ref) => !byReference.has(ref));
      t.diagnostic(
        `${database.kind}: ${attempted} submissions sent, ${acknowledged.size} acknowledged before the kill, ${cutOff} cut off by it; ` +
          `${rows.length} inquiries after the restart, ${acknowledged.size - lost.length} of the ${acknowledged.size} acknowledged checked present, ${lost.length} lost`,
      );
      assert.deepEqual(lost, [], 'acknowledged submissions missing after the restart');
      for (const [ref, sent] of acknowledged) assert.equal(byReference.get(ref)!.email, sent.email, `${ref} holds what was sent`);

      // Whatever was committed (acknowledged or cut off) was committed whole.
      const outbox = await storage.db.selectFrom('outbox').select('inquiry_id').execute();
      const consents = await storage.db.selectFrom('consent_record').select('inquiry_id').execute();
      const count = (list: Array<{ inquiry_id: string | null }>) => list.reduce((m, r) => m.set(r.inquiry_id, (m.get(r.inquiry_id) ?? 0) + 1), new Map<string | null, number>());
      const outboxOf = count(outbox);
      const consentOf = count(consents);
      for (const r of rows) {
        assert.equal(outboxOf.get(r.id) ?? 0, 2, `${r.reference}: both outbox messages`);
        assert.equal(consentOf.get(r.id) ?? 0, r.email.startsWith('optin.') ? 1 : 0, `${r.reference}: consent record only with the box ticked`);
      }
      assert.equal(outbox.length, rows.length * 2, 'no outbox message without its inquiry');
      assert.equal(consents.length, rows.filter((r) => r.email.startsWith('optin.')).length, 'no consent record without its inquiry');

      const chain = await verifyAuditChain(storage.db);
      assert.ok(chain.ok, `audit chain broken at ${chain.brokenAt}`);
      assert.equal(chain.entries, rows.length, 'one audit entry per stored inquiry');

      // The restarted service takes submissions on the same database, and the chain goes on.
      const after = await fetch(`${url}/demo`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
        body: new URLSearchParams({ ...validFields, form_token: issueFormToken(signer, 'demo', new Date(Date.now() - 5000)) }),
      });
      assert.equal(after.status, 303);
      const again = await verifyAuditChain(storage.db);
      assert.ok(again.ok, `audit chain broken at ${again.brokenAt} after the restart`);
      assert.equal(again.entries, rows.length + 1);
    } finally {
      await storage.close();
    }
  } finally {
    server.child.kill('SIGKILL');
    await server.exited;
    await database.drop();
  }
});
