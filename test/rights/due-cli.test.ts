// `lumetrax rights due` run as an operator runs it: a child process, its stdout, stderr
// and exit code. Expected dates are worked out by hand in each case.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/config.ts';
import { runCli, type CliResult } from '../cli/run-cli.ts';

// Nothing listens there: the command must not need a database.
const noDatabase = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };

function due(...args: string[]): Promise<CliResult> {
  return runCli(['rights', 'due', ...args], noDatabase);
}

function json(res: CliResult) {
  assert.equal(res.code, 0, `exit ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
  assert.equal(res.stderr, '');
  return JSON.parse(res.stdout) as {
    acknowledgeBy: string;
    respondBy: string;
    rule: { id: string; kind: string; description: string; citation: string };
    acknowledgeRule: { id: string; kind: string; citation: string };
  };
}

/** A mistake in what was typed: exit 2, the reason alone on one line of stderr, no stack. */
function assertUsage(res: CliResult, expected: RegExp) {
  const all = `exit ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`;
  assert.equal(res.code, 2, all);
  assert.equal(res.stdout, '', all);
  const lines = res.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr: ${all}`);
  assert.match(lines[0], expected);
  assert.doesNotMatch(res.stderr, /^\s+at /m, 'no stack trace');
}

describe('lumetrax rights due', () => {
  test('the policy calendar (Ireland): a Friday request, the company deadline with its citation', async () => {
    // Fri 27 Nov 2026 16:05 GMT. Mon 30 Nov is business day 1; Tue 1 .. Fri 4 Dec (2-5),
    // Mon 7 .. Fri 11 Dec (6-10). Germany's GDPR month (27 Dec) is later.
    const out = json(await due('--received', '2026-11-27T16:05:00Z', '--jurisdiction', 'DE', '--type', 'access'));
    assert.equal(out.acknowledgeBy, '2026-11-30T23:59:59.999+00:00');
    assert.equal(out.respondBy, '2026-12-11T23:59:59.999+00:00');
    assert.equal(out.rule.kind, 'company');
    assert.match(out.rule.citation, /LumeTrax privacy notice, version 2026-11-25/);
    assert.match(out.rule.description, /GDPR Art\. 12\(3\)/);
    assert.equal(out.acknowledgeRule.kind, 'company');
  });

  test('a legal deadline that wins is reported with its citation', async () => {
    // Argentina, access: 10 calendar days. 27 Nov + 10 = Mon 7 Dec, before the company's 11 Dec.
    const out = json(await due('--received=2026-11-27T17:05:00+01:00', '--jurisdiction', 'ar', '--type', 'access'));
    assert.equal(out.respondBy, '2026-12-07T23:59:59.999+00:00');
    assert.deepEqual([out.rule.kind, out.rule.id], ['legal', 'legal:AR:access:answer']);
    assert.match(out.rule.citation, /Law 25,326 Art\. 14\(2\)/);
  });

  test('--calendar and --tz override the business calendar', async () => {
    // Thu 26 Nov 2026 23:30Z is 00:30 on Fri 27 in Munich. Bavaria has no holiday until
    // Christmas: Mon 30 Nov (1), Tue 1 .. Fri 4 Dec (2-5), Mon 7 .. Fri 11 Dec (6-10), +01:00.
    const out = json(await due('--received', '2026-11-26T23:30:00Z', '--jurisdiction', 'DE-BY', '--type', 'deletion', '--calendar', 'DE-BY', '--tz', 'Europe/Berlin'));
    assert.equal(out.acknowledgeBy, '2026-11-30T23:59:59.999+01:00');
    assert.equal(out.respondBy, '2026-12-11T23:59:59.999+01:00');
    assert.match(out.rule.description, /DE-BY business calendar, Europe\/Berlin/);
    // The same instant on the policy's calendar (Dublin, still Thu 26): Fri 27 (1), Mon 30 (2),
    // Tue 1 .. Fri 4 Dec (3-6), Mon 7 .. Thu 10 Dec (7-10).
    const dublin = json(await due('--received', '2026-11-26T23:30:00Z', '--jurisdiction', 'DE-BY', '--type', 'deletion'));
    assert.equal(dublin.acknowledgeBy, '2026-11-27T23:59:59.999+00:00');
    assert.equal(dublin.respondBy, '2026-12-10T23:59:59.999+00:00');
  });

  test('--tz alone keeps the policy country: New York time on the Irish calendar', async () => {
    // Fri 27 Nov 2026 03:00Z is Thu 26 Nov 22:00 in New York (EST, -05:00); Irish business
    // days from Thu 26: Fri 27 (1), Mon 30 (2), Tue 1 .. Fri 4 Dec (3-6), Mon 7 .. Thu 10 (7-10).
    const out = json(await due('--received', '2026-11-27T03:00:00Z', '--jurisdiction', 'IE', '--type', 'correction', '--tz', 'America/New_York'));
    assert.equal(out.acknowledgeBy, '2026-11-27T23:59:59.999-05:00');
    assert.equal(out.respondBy, '2026-12-10T23:59:59.999-05:00');
  });

  const refused: Array<[string, string[], RegExp]> = [
    ['unknown jurisdiction', ['--received', '2026-11-27T16:05:00Z', '--jurisdiction', 'XX', '--type', 'access'], /jurisdiction "XX": XX is not an ISO 3166-1 alpha-2 country code/],
    ['malformed jurisdiction', ['--received', '2026-11-27T16:05:00Z', '--jurisdiction', 'Ireland', '--type', 'access'], /jurisdiction "Ireland" is not CC or CC-SUB/],
    ['malformed instant', ['--received', 'yesterday', '--jurisdiction', 'IE', '--type', 'access'], /--received "yesterday" is not an ISO 8601 instant/],
    ['instant without an offset', ['--received', '2026-11-27T16:05:00', '--jurisdiction', 'IE', '--type', 'access'], /has no Z or offset/],
    ['impossible date', ['--received', '2026-02-30T10:00:00Z', '--jurisdiction', 'IE', '--type', 'access'], /"2026-02-30T10:00:00Z" is not a real date and time/],
    ['unknown type', ['--received', '2026-11-27T16:05:00Z', '--jurisdiction', 'IE', '--type', 'erasure'], /--type "erasure" is not one of access, correction, deletion/],
    ['unknown time zone', ['--received', '2026-11-27T16:05:00Z', '--jurisdiction', 'IE', '--type', 'access', '--tz', 'Europe/Atlantis'], /time zone "Europe\/Atlantis" is not an IANA time zone/],
    ['unknown calendar country', ['--received', '2026-11-27T16:05:00Z', '--jurisdiction', 'IE', '--type', 'access', '--calendar', 'QQ'], /calendar country "QQ" is not an ISO 3166-1 alpha-2 country code/],
    ['unknown calendar region', ['--received', '2026-11-27T16:05:00Z', '--jurisdiction', 'IE', '--type', 'access', '--calendar', 'DE-ZZ'], /calendar region "DE-ZZ" is unknown/],
    ['missing options', ['--received', '2026-11-27T16:05:00Z'], /rights due needs --jurisdiction, --type/],
    ['unknown option', ['--received', '2026-11-27T16:05:00Z', '--jurisdiction', 'IE', '--type', 'access', '--zone', 'UTC'], /unknown option "--zone" for rights due/],
    ['option without its value', ['--received', '2026-11-27T16:05:00Z', '--jurisdiction', 'IE', '--type'], /rights due: --type needs a value/],
  ];
  for (const [name, args, expected] of refused) {
    test(`refused: ${name}`, async () => {
      assertUsage(await due(...args), expected);
    });
  }

  test('refused: no subcommand, or an unknown one', async () => {
    assertUsage(await runCli(['rights'], noDatabase), /rights needs a subcommand: rights due/);
    assertUsage(await runCli(['rights', 'when'], noDatabase), /unknown command "rights when" \(rights has: rights due, rights list\)/);
  });

  test('a broken regional table stops the command with the policy error (exit 1), naming file, row and field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lumetrax-rights-'));
    try {
      cpSync(join(projectRoot, 'policy'), dir, { recursive: true });
      const table = JSON.parse(readFileSync(join(dir, 'dsr-deadlines.json'), 'utf8')) as Array<Record<string, unknown>>;
      table[0].source = '';
      writeFileSync(join(dir, 'dsr-deadlines.json'), JSON.stringify(table));
      const res = await runCli(['rights', 'due', '--received', '2026-11-27T16:05:00Z', '--jurisdiction', 'IE', '--type', 'access'], { ...noDatabase, POLICY_FILE: join(dir, 'lumetrax.yaml') });
      assert.equal(res.code, 1, res.stderr);
      assert.match(res.stderr, /dsr-deadlines\.json row \[0\] \(AT access\) source: every row needs its source/);
      assert.doesNotMatch(res.stderr, /^\s+at /m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the usage lists the command', async () => {
    const res = await runCli(['help'], noDatabase);
    assert.equal(res.code, 0);
    assert.match(res.stdout, /rights due\S* \.\.\.\s+privacy requests: `rights due --received ISO_INSTANT/);
  });
});
