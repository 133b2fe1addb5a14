// `lumetrax rights list [--json]` as an operator runs it (a child process): the open
// requests soonest-due first with status and both due dates; no addresses; closed ones
// left out.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase } from '../support/db.ts';
import { startTestServer } from '../support/server.ts';
import { Clock } from '../auth/helpers.ts';
import { runCli } from '../cli/run-cli.ts';
import { RECEIVED, submitRequestForm } from './support.ts';

describe('lumetrax rights list', () => {
  test('lists open requests with status and due dates, as a table and as JSON', async () => {
    const database = await createTestDatabase();
    try {
      const clock = new Clock();
      clock.t = RECEIVED;
      const server = await startTestServer({ database, now: clock.now });
      try {
        await submitRequestForm(server.url, { email: 'first@example.org', type: 'access', jurisdiction: 'unspecified', message: '' });
        clock.advance(86_400_000);
        await submitRequestForm(server.url, { email: 'second@example.org', type: 'deletion', jurisdiction: 'unspecified', message: '' });
        await submitRequestForm(server.url, { email: 'closed@example.org', type: 'access', jurisdiction: 'unspecified', message: '' });
        const db = server.running.deps.storage.db;
        const closed = await db.selectFrom('privacy_request').select('id').where('requester_email', '=', 'closed@example.org').executeTakeFirstOrThrow();
        await db.updateTable('privacy_request').set({ status: 'closed' }).where('id', '=', closed.id).execute();
      } finally {
        await server.close();
      }
      const env = { DATABASE_URL: database.url };
      const table = await runCli(['rights', 'list'], env);
      assert.equal(table.code, 0, table.stderr);
      const lines = table.stdout.trim().split('\n');
      assert.match(lines[0], /^reference\s+status\s+type\s+jurisdiction\s+verified\s+received\s+acknowledge by\s+respond by/);
      assert.equal(lines.length, 4, table.stdout);
      assert.match(lines[1], /verifying\s+access\s+unspecified\s+no\s+2026-12-02T10:00:00.000Z\s+2026-12-03T23:59:59.999Z\s+2026-12-16T23:59:59.999Z/);
      assert.match(lines[2], /verifying\s+deletion/);
      assert.match(lines[3], /^2 open requests/);
      assert.ok(!table.stdout.includes('@'), 'no addresses');

      const json = await runCli(['rights', 'list', '--json'], env);
      assert.equal(json.code, 0, json.stderr);
      const rows = JSON.parse(json.stdout) as Array<{ type: string; respondBy: string; status: string; rule: string; citation: string }>;
      assert.deepEqual(rows.map((r) => [r.type, r.status, r.respondBy]), [
        ['access', 'verifying', '2026-12-16T23:59:59.999Z'],
        ['deletion', 'verifying', '2026-12-17T23:59:59.999Z'],
      ]);
      assert.ok(rows.every((r) => r.rule && r.citation));

      const bad = await runCli(['rights', 'list', '--csv'], env);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /^lumetrax: unknown option "--csv" for rights list/);
      assert.doesNotMatch(bad.stderr, /^\s+at /m);
    } finally {
      await database.drop();
    }
  });
});
