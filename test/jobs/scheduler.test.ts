// Scheduled jobs: declared as data, run on a cadence or when woken, one instance at a time
// under a database lease, each run's outcome kept; `lumetrax jobs list | run NAME`.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../src/config.ts';
import { JobScheduler, type JobDefinition } from '../../src/jobs/scheduler.ts';
import { openStorage } from '../../src/storage/db.ts';
import { availableDbKinds, createTestDatabase, testDb } from '../support/db.ts';
import { TEST_SECRET } from '../support/server.ts';

const run = promisify(execFile);
const node = join(projectRoot, 'node_modules', '.bin', 'node');
const { kinds, skipped } = await availableDbKinds();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function countingJob(name: string, ms: number, calls: { n: number }): JobDefinition {
  return {
    name,
    description: 'counts its runs',
    everyMs: 3600_000,
    run: async () => {
      calls.n++;
      await sleep(ms);
      return { runs: calls.n };
    },
  };
}

describe('jobs', () => {
  if (skipped) test(skipped, { skip: skipped }, () => undefined);

  for (const kind of kinds) {
    test(`${kind}: two instances over one database run a job once at a time; a lapsed lease is taken over`, async () => {
      const t = await testDb(kind);
      // The second instance has a connection of its own, as another process would.
      const other = openStorage(t.database.target);
      try {
        const calls = { n: 0 };
        const a = new JobScheduler(t.storage.db, [countingJob('demo.count', 300, calls)]);
        const b = new JobScheduler(other.db, [countingJob('demo.count', 300, calls)]);
        const [ra, rb] = await Promise.all([a.runNow('demo.count'), (async () => (await sleep(50), b.runNow('demo.count')))()]);
        assert.deepEqual([ra.status, rb.status].sort(), ['busy', 'done']);
        assert.equal(calls.n, 1, 'the job ran on one instance only');

        const state = await t.storage.db.selectFrom('job_state').selectAll().where('name', '=', 'demo.count').executeTakeFirstOrThrow();
        assert.equal(state.locked_by, null, 'the lease is released after the run');
        assert.equal(state.last_outcome, 'ok');
        assert.deepEqual(JSON.parse(state.last_counts!), { runs: 1 });
        assert.ok(Number(state.last_duration_ms) >= 250);

        // A holder that died mid-run: its lease expires and another instance runs the job.
        await t.storage.db.updateTable('job_state').set({ locked_by: 'dead-host:1:x', locked_until: new Date(Date.now() + 60_000).toISOString() }).execute();
        assert.equal((await b.runNow('demo.count')).status, 'busy', 'a live lease is respected');
        await t.storage.db.updateTable('job_state').set({ locked_until: new Date(Date.now() - 1000).toISOString() }).execute();
        assert.equal((await b.runNow('demo.count')).status, 'done', 'an expired lease is taken over');
        assert.equal(calls.n, 2);
      } finally {
        await other.close();
        await t.close();
      }
    });
  }

  test('wake runs a job soon, runs it again if woken while running, and a failure keeps only a code', async () => {
    const t = await testDb();
    try {
      const calls = { n: 0 };
      const logs: Array<{ level: string; obj: Record<string, unknown> }> = [];
      const log = {
        info: (obj: Record<string, unknown>) => logs.push({ level: 'info', obj }),
        debug: (obj: Record<string, unknown>) => logs.push({ level: 'debug', obj }),
        error: (obj: Record<string, unknown>) => logs.push({ level: 'error', obj }),
      };
      const failing: JobDefinition = {
        name: 'demo.fail',
        description: 'fails with a message that must not be kept',
        everyMs: 3600_000,
        run: async () => {
          throw Object.assign(new Error('value ann@example.com rejected'), { code: 'EDEMO' });
        },
      };
      const scheduler = new JobScheduler(t.storage.db, [countingJob('demo.count', 100, calls), failing], { log: log as never });
      scheduler.start();
      await sleep(20);
      scheduler.wake('demo.count');
      scheduler.wake('demo.count');
      await scheduler.idle();
      await scheduler.idle();
      assert.equal(calls.n, 2, 'the start run, then one more for the wakes during it');
      await scheduler.stop();

      const state = await t.storage.db.selectFrom('job_state').selectAll().where('name', '=', 'demo.fail').executeTakeFirstOrThrow();
      assert.equal(state.last_outcome, 'failed (EDEMO)');
      assert.ok(!JSON.stringify(logs).includes('ann@example.com'), 'the failure message is not logged or stored');
      const ran = logs.find((l) => l.obj.job === 'demo.count' && l.level === 'info');
      assert.ok(ran && typeof ran.obj.durationMs === 'number' && (ran.obj.counts as Record<string, number>).runs >= 1, 'each run is logged with its duration and counts');
      assert.throws(() => new JobScheduler(t.storage.db, [failing, failing]), /declared twice/);
    } finally {
      await t.close();
    }
  });

  test('the CLI lists the service\'s jobs with their last run and runs one on demand', async () => {
    const database = await createTestDatabase();
    try {
      const env = { ...process.env, DATABASE_URL: database.url, SECRET_KEY: TEST_SECRET };
      const ran = await run(node, ['src/main.ts', 'jobs', 'run', 'consent.housekeeping'], { cwd: projectRoot, env });
      assert.deepEqual(Object.keys(JSON.parse(ran.stdout)), ['job', 'durationMs', 'counts']);
      assert.deepEqual(JSON.parse(ran.stdout).counts, { expired_confirmations: 0, old_allowances: 0 });
      const list = await run(node, ['src/main.ts', 'jobs', 'list'], { cwd: projectRoot, env });
      assert.match(list.stdout, /^consent\.housekeeping {2}every 6 h {2}last run \S+ \(ok, \d+ ms, \{"expired_confirmations":0,"old_allowances":0\}\)$/m);
      assert.match(list.stdout, /^consent\.withdrawal-links {2}every 1 min {2}not run yet$/m);
      await assert.rejects(run(node, ['src/main.ts', 'jobs', 'run', 'nope'], { cwd: projectRoot, env }), (e: { code: number; stderr: string }) => e.code === 2 && /unknown job "nope" \(jobs: /.test(e.stderr));

      // While another instance holds the lease, nothing runs and the operator is told.
      const storage = openStorage(database.target);
      await storage.db.updateTable('job_state').set({ locked_by: 'elsewhere:1:x', locked_until: new Date(Date.now() + 60_000).toISOString() }).where('name', '=', 'consent.housekeeping').execute();
      await storage.close();
      await assert.rejects(run(node, ['src/main.ts', 'jobs', 'run', 'consent.housekeeping'], { cwd: projectRoot, env }), (e: { code: number; stderr: string }) => e.code === 1 && /running on another instance/.test(e.stderr));
    } finally {
      await database.drop();
    }
  });
});

describe('auth.housekeeping', () => {
  test('removes sessions past their idle limit and expired set-up links; live ones stay', async () => {
    const { Clock, makeStaff, get } = await import('../auth/helpers.ts');
    const { startTestServer } = await import('../support/server.ts');
    const { addAccount } = await import('../../src/auth/accounts.ts');
    const clock = new Clock();
    const server = await startTestServer({ now: clock.now });
    try {
      const early = await makeStaff(server, clock, 'sales');
      const fresh = await makeStaff(server, clock, 'sales');
      await addAccount(server.running.deps, { email: 'never-set-up@staff.example.com', role: 'sales' }, { kind: 'cli' });
      // The fresh session is used every 20 minutes; the early one sits idle past its limit.
      const idle = server.running.deps.config.staffSessionIdleMinutes * 60_000;
      for (let waited = 0; waited <= idle; waited += 20 * 60_000) {
        clock.advance(20 * 60_000);
        assert.equal((await get(server.url, '/console', fresh.cookie)).status, 200);
      }
      const first = await server.running.jobs.runNow('auth.housekeeping');
      assert.ok(first.status === 'done' && first.counts.dead_sessions === 1, `the idle session is removed: ${JSON.stringify(first)}`);
      const sessions = await server.running.deps.storage.db.selectFrom('staff_session').select('account_id').execute();
      assert.deepEqual(sessions.map((s) => s.account_id), [fresh.accountId], 'the live session stays');
      assert.ok(sessions.every((s) => s.account_id !== early.accountId));

      clock.advance((server.running.deps.config.staffSetupLinkHours + 1) * 3600_000);
      const later = await server.running.jobs.runNow('auth.housekeeping');
      assert.ok(later.status === 'done' && later.counts.expired_setup_links === 1, `the expired set-up link is removed: ${JSON.stringify(later)}`);
    } finally {
      await server.close();
    }
  });
});
