// A mistyped command line says first, in one line, exactly what was wrong, then shows
// the usage, and exits 2; asking for help shows the usage and exits 0.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './run-cli.ts';

const cases: Array<[string[], string]> = [
  [['frob'], 'unknown command "frob"'],
  [['policy'], 'policy needs a subcommand: check'],
  [['policy', 'frob'], 'unknown command "policy frob" (policy has: check)'],
  [['policy', 'check'], 'policy check needs a FILE'],
  [['policy', 'check', 'a.yaml', 'b.yaml'], 'unexpected argument "b.yaml" for policy check'],
  [['outbox', 'list', '--foo'], 'unknown option --foo for outbox list'],
  [['outbox', 'list', '--all=yes'], 'outbox list --all takes no value'],
  [['outbox', 'show'], 'outbox show needs an ID'],
  [['marketing', 'export', '--out'], 'marketing export --out needs a file name'],
  [['marketing', 'export', '--out='], 'marketing export --out needs a file name'],
  [['marketing', 'export', '--out', '--all'], 'marketing export --out needs a file name'],
  [['serve', '--port', '80'], 'unknown option --port for serve'],
  [['migrate', 'now'], 'unexpected argument "now" for migrate'],
  // Whatever was typed is quoted, so a control character cannot reach the terminal raw.
  [['fr\u001b[31mob'], 'unknown command "fr\\u001b[31mob"'],
];

describe('command-line mistakes', () => {
  // Nothing here may touch a database: a usage error is found before any is opened.
  const dir = mkdtempSync(join(tmpdir(), 'lumetrax-usage-'));
  const env = { DATABASE_URL: `sqlite:${join(dir, 'never.db')}` };

  for (const [args, expected] of cases) {
    test(`lumetrax ${args.join(' ')}`, async () => {
      const res = await runCli(args, env);
      assert.equal(res.code, 2, res.stderr);
      const [first, blank, usage] = res.stderr.split('\n');
      assert.equal(first, `lumetrax: ${expected}`);
      assert.equal(blank, '');
      assert.equal(usage, 'Usage: lumetrax <command>');
      assert.match(res.stderr, /^ {2}policy check FILE +validate a policy file/m);
      assert.equal(res.stdout, '');
      assert.ok(!existsSync(join(dir, 'never.db')), 'no database was opened');
    });
  }

  for (const args of [[], ['help'], ['--help'], ['-h']]) {
    test(`lumetrax ${args.join(' ') || '(nothing)'} shows the usage and exits 0`, async () => {
      const res = await runCli(args, env);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /^Usage: lumetrax <command>\n\n {2}serve /);
      assert.equal(res.stderr, '');
    });
  }

  test('the usage lists every command with its arguments and options', async () => {
    const { stdout } = await runCli(['help'], env);
    for (const synopsis of ['serve', 'migrate', 'policy check FILE', 'outbox list [--all]', 'outbox show ID', 'marketing export [--out FILE]', 'audit verify']) {
      // Followed by a space: other commands may add options after these.
      assert.match(stdout, new RegExp(`^ {2}${synopsis.replace(/[[\]]/g, '\\$&')} `, 'm'), synopsis);
    }
  });

  after(() => rmSync(dir, { recursive: true, force: true }));
});
