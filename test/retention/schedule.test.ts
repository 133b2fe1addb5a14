// Rules as data: the policy must cover every stored category with a rule that has a
// purpose and a legal basis; the published schedule is rendered from those rules (the
// test compares page and policy); the sweep job runs on the policy's cron expression.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { projectRoot } from '../../src/config.ts';
import { JobScheduler } from '../../src/jobs/scheduler.ts';
import { loadPolicy, PolicyError } from '../../src/policy/load.ts';
import { cadenceInWords, keptInWords } from '../../src/retention/schedule.ts';
import { runSweep } from '../../src/retention/sweep.ts';
import { categoryOfTable } from '../../src/storage/categories.ts';
import { runCli } from '../cli/run-cli.ts';
import { availableDbKinds, testDb } from '../support/db.ts';
import { startTestServer } from '../support/server.ts';
import { addInquiry, addPerson, DAY_MS, iso } from './seed.ts';

const shipped = join(projectRoot, 'policy', 'lumetrax.yaml');
const original = readFileSync(shipped, 'utf8');
const { kinds, skipped } = await availableDbKinds();

function brokenCopy(edit: (yaml: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lumetrax-policy-'));
  cpSync(join(projectRoot, 'policy'), dir, { recursive: true });
  const file = join(dir, 'lumetrax.yaml');
  const changed = edit(original);
  assert.notEqual(changed, original, 'the edit must change the policy');
  writeFileSync(file, changed);
  return file;
}

function refusal(edit: (yaml: string) => string): string {
  try {
    loadPolicy(brokenCopy(edit), { checkProofs: false });
  } catch (error) {
    assert.ok(error instanceof PolicyError, String(error));
    return error.message;
  }
  assert.fail('the policy was accepted');
}

/** The YAML block of one rule, by id. */
const ruleBlock = (yaml: string, id: string) => {
  const start = yaml.indexOf(`    - id: ${id}\n`);
  const end = yaml.indexOf('\n    - id: ', start + 1);
  return [start, end < 0 ? yaml.indexOf('\n  legal_hold_note', start) : end] as const;
};
const withoutLine = (id: string, key: string) => (yaml: string) => {
  const [start, end] = ruleBlock(yaml, id);
  return yaml.slice(0, start) + yaml.slice(start, end).replace(new RegExp(`\\n      ${key}: [^\\n]*`), '') + yaml.slice(end);
};

describe('retention rules as data', () => {
  test('policy check refuses a rule without purpose or basis, an uncovered category, a bad cadence or event', async () => {
    assert.match(refusal(withoutLine('inquiries_closed', 'purpose')), /retention\.rules\[0\]\.purpose: .*every retention rule needs a purpose/);
    assert.match(refusal(withoutLine('attachments', 'legal_basis')), /retention\.rules\[4\]\.legal_basis: .*every retention rule needs a legal_basis/);
    assert.match(refusal((y) => y.replace('      purpose: Proving what was deleted', '      purpose: "  "\n      x_purpose: Proving what was deleted')), /purpose/);
    assert.match(
      refusal((y) => {
        const [start, end] = ruleBlock(y, 'suppression');
        return y.slice(0, start) + y.slice(end + 1);
      }),
      /no rule covers the stored category suppression/,
    );
    assert.match(refusal((y) => y.replace('sweep_cadence: "0 3 * * *"', 'sweep_cadence: daily at three')), /retention\.sweep_cadence: expected a cron expression/);
    assert.match(refusal((y) => y.replace('category: people\n      data: Your name and email address, once no request, email, consent record or message of yours is kept\n      keep_days: 30\n      from: last_activity', 'category: people\n      data: Your name and email address, once no request, email, consent record or message of yours is kept\n      keep_days: 30\n      from: closed')), /category people counts only from last_activity/);
    assert.match(refusal((y) => y.replace(/(id: suppression[\s\S]*?keep_days:) indefinitely/, '$1 30')), /category suppression is kept by design: keep_days must be indefinitely/);
    assert.match(refusal((y) => y.replace(/(id: inquiries_closed[\s\S]*?keep_days:) 180/, '$1 30')), /an inquiries rule keeps at least the follow-up window \(180 days\)/);
    assert.match(refusal((y) => y.replace('backup_retention_days: 35', 'backup_retention_days: soon')), /retention\.backup_retention_days/);

    const file = brokenCopy(withoutLine('consent_proof', 'purpose'));
    const res = await runCli(['policy', 'check', file]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /every retention rule needs a purpose/);
  });

  if (skipped) test(skipped, { skip: skipped }, () => undefined);
  for (const kind of kinds) {
    test(`${kind}: every table of the migrated database has a stored-data category`, async () => {
      const t = await testDb(kind);
      try {
        const tables =
          kind === 'postgres'
            ? (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(t.storage.db)).rows.map((r) => r.name)
            : (await t.storage.db.introspection.getTables()).map((r) => r.name);
        const ours = tables.filter((name) => !name.startsWith('kysely_'));
        assert.ok(ours.length > 20);
        for (const name of ours) assert.ok(categoryOfTable(name) !== undefined, `table ${name} has no category in storage/categories.ts`);
      } finally {
        await t.close();
      }
    });
  }

  test('/privacy/retention publishes the policy\'s rules, the cadence in words, the last sweep and backup retention', async () => {
    const server = await startTestServer();
    try {
      const { policy } = server.running.deps.policy;
      const before = await (await fetch(`${server.url}/privacy/retention`)).text();
      assert.match(before, /has not run yet/);

      const db = server.running.deps.storage.db;
      const person = await addPerson(db, { email: 'old@example.com', at: iso(Date.now() - 400 * DAY_MS) });
      await addInquiry(db, { personId: person, createdAt: iso(Date.now() - 400 * DAY_MS), status: 'closed', closedAt: iso(Date.now() - 300 * DAY_MS), messages: 2 });
      await runSweep(server.running.deps, { trigger: 'job' });

      const body = await (await fetch(`${server.url}/privacy/retention`)).text();
      const rows = [...body.matchAll(/<tr><th scope="row">([^<]*)<\/th><td>([^<]*)<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td><\/tr>/g)].map((m) => m.slice(1, 5));
      const unescape = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'");
      const basis: Record<string, string> = { consent: 'Consent', contract: 'Contract (a request you started)', legal_obligation: 'Legal obligation', legitimate_interest: 'Legitimate interest' };
      for (const rule of policy.retention.rules) {
        const row = rows.find((r) => unescape(r[0]) === rule.data);
        assert.ok(row, `the page has a row for rule ${rule.id}`);
        assert.deepEqual(row.slice(1).map(unescape), [keptInWords(rule), rule.purpose, basis[rule.legal_basis]], rule.id);
      }
      assert.equal(rows.length, policy.retention.rules.length + 1, 'one row per rule, plus raw analytics');
      assert.ok(body.includes(`<span id="sweep-cadence">${cadenceInWords(policy.retention.sweep_cadence, policy.business_calendar.time_zone)}</span>`));
      assert.match(body, /<p id="last-sweep">Our deletion job last ran on <time datetime="[^"]+">[^<]+<\/time> and deleted 1 request, 1 email thread, 2 emails, 1 attachment, 1 person\.<\/p>/);
      assert.ok(body.includes(`Our backup job takes a copy of our database <span id="backup-cadence">${cadenceInWords(policy.retention.backup_cadence!, policy.business_calendar.time_zone)}</span>. Each copy is kept for ${policy.retention.backup_retention_days} days, then destroyed.`));
    } finally {
      await server.close();
    }
  });

  test('a job with a cron schedule runs at its times, not at start, beside interval jobs', async () => {
    const t = await testDb('sqlite');
    try {
      const runs = { cron: 0, every: 0 };
      const scheduler = new JobScheduler(t.storage.db, [
        { name: 'test.cron', description: 'every second', everyMs: 0, cron: { pattern: '* * * * * *', timeZone: 'Europe/Dublin' }, run: async () => ({ n: ++runs.cron }) },
        { name: 'test.every', description: 'hourly', everyMs: 3600_000, run: async () => ({ n: ++runs.every }) },
      ]);
      // Started just after a second turns, so the next firing is ~1 s away and a run seen
      // within the first 50 ms can only be a run at start.
      await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20));
      scheduler.start();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(runs.cron, 0, 'not run at start');
      await new Promise((resolve) => setTimeout(resolve, 2300));
      await scheduler.stop();
      assert.ok(runs.cron >= 2 && runs.cron <= 3, `ran ${runs.cron} times in 2.3 s`);
      assert.equal(runs.every, 1, 'the interval job ran at start as before');
    } finally {
      await t.close();
    }
  });

  test('the cadence in words', () => {
    assert.equal(cadenceInWords('0 3 * * *', 'Europe/Dublin'), 'at 03:00, every day (Europe/Dublin time)');
    assert.equal(cadenceInWords('30 2 * * 1', 'UTC'), 'at 02:30, only on Monday (UTC time)');
    assert.equal(keptInWords({ keep_days: 1095, from: 'withdrawn' }), '3 years after you withdraw or unsubscribe');
    assert.equal(keptInWords({ keep_days: 'indefinitely', from: 'received' }), 'Indefinitely');
  });
});
