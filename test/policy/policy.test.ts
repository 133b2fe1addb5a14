// The policy file is validated at start and by `lumetrax policy check`, with errors that
// name the file, the path of the bad field and what is expected.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/config.ts';
import { loadPolicy, PolicyError } from '../../src/policy/load.ts';
import { runCli } from '../cli/run-cli.ts';

const machineNode = ['/usr/local/bin/node', '/usr/bin/node'].find((p) => existsSync(p)) ?? 'node';
const shipped = join(projectRoot, 'policy', 'lumetrax.yaml');
const original = readFileSync(shipped, 'utf8');

/** A copy of the shipped policy folder with one edit to the YAML; returns the file's path. */
function brokenCopy(edit: (yaml: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lumetrax-policy-'));
  cpSync(join(projectRoot, 'policy'), dir, { recursive: true });
  const file = join(dir, 'lumetrax.yaml');
  const changed = edit(original);
  assert.notEqual(changed, original, 'the edit must change the policy');
  writeFileSync(file, changed);
  return file;
}

function policyErrorOf(file: string): PolicyError {
  try {
    loadPolicy(file);
  } catch (error) {
    assert.ok(error instanceof PolicyError, String(error));
    assert.ok(error.message.startsWith(file), 'the message names the file');
    return error;
  }
  assert.fail('the policy was accepted');
}

function problemsOf(file: string): string {
  return policyErrorOf(file).message;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// The unclosed bracket goes on the line after `organisation:`; the parser notices it one line later.
const organisationLine = original.split('\n').indexOf('organisation:') + 1;

describe('policy file', () => {
  test('the shipped policy is valid and complete', () => {
    const loaded = loadPolicy(shipped);
    assert.equal(loaded.policy.organisation.privacy_address, 'info@lumetrax.com');
    assert.equal(loaded.policy.organisation.privacy_subject, 'Privacy question');
    assert.equal(loaded.policy.deadlines.acknowledge_business_days, 1);
    assert.equal(loaded.policy.deadlines.answer_business_days, 10);
    assert.ok(loaded.regionalRules.length > 100);
    assert.ok(loaded.regionalRules.every((r) => r.citation && r.source));
    assert.equal(loaded.policy.purposes.find((p) => p.id === 'marketing')?.lawful_basis, 'consent');
    assert.equal(loaded.policy.purposes.find((p) => p.id === 'answer_inquiry')?.lawful_basis, 'contract');
    for (const id of ['security', 'fraud_prevention', 'analytics']) assert.equal(loaded.policy.purposes.find((p) => p.id === id)?.lawful_basis, 'legitimate_interest');
    assert.ok(loaded.current.review?.role === 'counsel');
  });

  /** Optional checks beyond the expected text: how many problems, and text that must not appear. */
  type Extra = { problems?: number; absent?: RegExp };
  const cases: Array<[string, (y: string) => string, RegExp, Extra?]> = [
    ['unknown key', (y) => y.replace('organisation:\n', 'organisation:\n  nickname: LT\n'), /organisation: unknown key\(s\) nickname/],
    ['missing key', (y) => y.replace(/  privacy_subject: .*\n/, ''), /organisation\.privacy_subject: is required/],
    ['wrong type', (y) => y.replace('follow_up_window_days: 180', 'follow_up_window_days: soon'), /retention\.follow_up_window_days: .*number/],
    // A value that is there but of the wrong type is not reported as missing.
    ['text for a number', (y) => y.replace('follow_up_window_days: 180', 'follow_up_window_days: 180 days'), /retention\.follow_up_window_days: expected a number, found the text "180 days"/, { problems: 1, absent: /is required/ }],
    ['a fraction for a whole number', (y) => y.replace('follow_up_window_days: 180', 'follow_up_window_days: 1.5'), /retention\.follow_up_window_days: expected a whole number, found the number 1\.5/, { problems: 1, absent: /is required/ }],
    ['an empty value for a number', (y) => y.replace('follow_up_window_days: 180', 'follow_up_window_days:'), /retention\.follow_up_window_days: expected a number, found an empty value/, { problems: 1, absent: /is required/ }],
    ['a list for text', (y) => y.replace('privacy_subject: Privacy question', 'privacy_subject: [Privacy, question]'), /organisation\.privacy_subject: expected text, found a list of 2 items/, { problems: 1, absent: /is required/ }],
    ['text for true or false', (y) => y.replace(/refuse_disposable: \w+/, 'refuse_disposable: sometimes'), /email_rules\.refuse_disposable: expected true or false, found the text "sometimes"/, { problems: 1 }],
    ['a value outside a list of choices', (y) => y.replace('free_mail: flag', 'free_mail: block'), /email_rules\.free_mail: expected one of "flag", "refuse", found the text "block"/, { problems: 1 }],
    ['a number out of range', (y) => y.replace('follow_up_window_days: 180', 'follow_up_window_days: 0'), /retention\.follow_up_window_days: expected a number of at least 1, found the whole number 0/, { problems: 1 }],
    ['bad time zone', (y) => y.replace('time_zone: Europe/Dublin', 'time_zone: Europe/Atlantis'), /business_calendar\.time_zone: expected an IANA time zone/],
    ['bad country', (y) => y.replace('country: IE\n', 'country: XX\n'), /business_calendar\.country: expected an ISO 3166-1 alpha-2/],
    ['non-necessary cookie', (y) => y.replace('category: strictly_necessary', 'category: advertising'), /cookies\[0\]\.category: only strictly_necessary cookies may be declared/],
    ['marketing without consent', (y) => y.replace(/(- id: marketing\n\s+name: .*\n\s+lawful_basis:) consent/, '$1 legitimate_interest'), /marketing\.purpose: the marketing purpose must have lawful_basis consent/],
    ['current names a missing version', (y) => y.replace('current: "2026-11-25"', 'current: "2030-01-01"'), /notice\.current: names version "2030-01-01"/],
    ['YAML syntax error', (y) => y.replace('organisation:\n', 'organisation:\n  name: [unclosed\n'), /YAML syntax/],
    // One mistake, one report: the parser's follow-on errors (13 of them here) are left out.
    ['YAML syntax error reported once, with line and column', (y) => y.replace('organisation:\n', 'organisation:\n  name: [unclosed\n'), new RegExp(`^  - YAML syntax error at line ${organisationLine + 2}, column 3: `, 'm'), { problems: 1 }],
    ['YAML duplicate key reported once, with line and column', (y) => y.replace('  privacy_subject: Privacy question\n', '  privacy_subject: Privacy question\n  privacy_subject: Again\n'), new RegExp(`YAML syntax error at line ${original.split('\n').indexOf('  privacy_subject: Privacy question') + 2}, column 3: Map keys must be unique`), { problems: 1 }],
    ['proven_by names a test file that does not exist', (y) => y.replace('proven_by: test/mail/outbox.test.ts', 'proven_by: test/mail/no-such.test.ts'), new RegExp(`security_commitments\\[6\\]\\.proven_by \\(commitment "No email header injection"\\): test file test/mail/no-such\\.test\\.ts not found \\(looked in ${escapeRegExp(projectRoot)}\\)`), { problems: 1 }],
    ['proven_by outside the project', (y) => y.replace('proven_by: test/mail/outbox.test.ts', 'proven_by: ../../etc/passwd'), /security_commitments\[6\]\.proven_by \(commitment "No email header injection"\): \.\.\/\.\.\/etc\/passwd is outside the project/, { problems: 1 }],
    ['proven_by names a folder, not a file', (y) => y.replace('proven_by: test/mail/outbox.test.ts', 'proven_by: test/mail'), /security_commitments\[6\]\.proven_by .*: test file test\/mail not found/, { problems: 1 }],
    ['missing notice file', (y) => y.replace('file: notice/2026-06-01.md', 'file: notice/missing.md'), /notice\.versions\[0\]\.file: notice\/missing\.md not found/],
    ['current version without counsel review', (y) => y.replace(/(file: notice\/2026-11-25\.md\n)\s+review: .*\n/, '$1'), /notice\.versions\[1\]\.review: the current notice version needs a recorded counsel review/],
    ['review by the wrong role', (y) => y.replace('review: { reviewer: Aoife Brennan, role: counsel, date: "2026-11-20" }', 'review: { reviewer: Sam, role: marketing, date: "2026-11-20" }'), /needs a recorded counsel review/],
  ];
  for (const [name, edit, expected, extra = {}] of cases) {
    test(`refused: ${name}`, () => {
      const file = brokenCopy(edit);
      try {
        const error = policyErrorOf(file);
        assert.match(error.message, expected);
        if (extra.problems !== undefined) assert.equal(error.problems.length, extra.problems, error.message);
        if (extra.absent) assert.doesNotMatch(error.message, extra.absent);
      } finally {
        rmSync(join(file, '..'), { recursive: true, force: true });
      }
    });
  }
});

describe('policy file: what is optional, and where proofs are looked for', () => {
  test('accepted: no organisation.postal_address (the notice prints one only when given)', () => {
    const file = brokenCopy((y) => y.replace(/  postal_address: .*\n/, ''));
    try {
      assert.equal(loadPolicy(file).policy.organisation.postal_address, undefined);
    } finally {
      rmSync(join(file, '..'), { recursive: true, force: true });
    }
  });

  test('proven_by is resolved against the folder holding package.json above the policy file', () => {
    const project = mkdtempSync(join(tmpdir(), 'lumetrax-project-'));
    try {
      writeFileSync(join(project, 'package.json'), '{}');
      cpSync(join(projectRoot, 'policy'), join(project, 'policy'), { recursive: true });
      const file = join(project, 'policy', 'lumetrax.yaml');
      const proofs = [...new Set([...original.matchAll(/proven_by: (\S+)/g)].map((m) => m[1]))];
      const error = policyErrorOf(file);
      assert.equal(error.problems.length, original.match(/proven_by:/g)!.length, error.message);
      for (const problem of error.problems) assert.match(problem, new RegExp(`not found \\(looked in ${escapeRegExp(project)}\\)$`));
      for (const proof of proofs) {
        mkdirSync(join(project, proof, '..'), { recursive: true });
        writeFileSync(join(project, proof), '');
      }
      assert.equal(loadPolicy(file).policy.security_commitments.length, error.problems.length);
      // Start-up skips this check: a deployment may ship without its tests.
      rmSync(join(project, 'test'), { recursive: true });
      assert.ok(loadPolicy(file, { checkProofs: false }));
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});

describe('policy on the command line and at start', () => {
  // The machine's own Node (20 here, outside npm's PATH): the bin wrapper must re-run
  // itself on the project's Node 24.
  test('`lumetrax policy check` accepts the shipped policy and names the bad field of a broken one', () => {
    const ok = spawnSync(machineNode, ['bin/lumetrax.mjs', 'policy', 'check', 'policy/lumetrax.yaml'], { cwd: projectRoot, encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /policy\/lumetrax\.yaml: OK/);
    const file = brokenCopy((y) => y.replace('time_zone: Europe/Dublin', 'time_zone: Mars/Olympus'));
    const bad = spawnSync(machineNode, ['bin/lumetrax.mjs', 'policy', 'check', file], { cwd: projectRoot, encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /business_calendar\.time_zone: expected an IANA time zone/);
  });

  test('`lumetrax serve` refuses to start when the current notice lacks its review', () => {
    const file = brokenCopy((y) => y.replace(/(file: notice\/2026-11-25\.md\n)\s+review: .*\n/, '$1'));
    const dir = mkdtempSync(join(tmpdir(), 'lumetrax-serve-'));
    const res = spawnSync(machineNode, ['bin/lumetrax.mjs', 'serve'], {
      cwd: projectRoot,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, POLICY_FILE: file, PORT: '0', DATABASE_URL: `sqlite:${join(dir, 'x.db')}`, SECRET_KEY: 'ab'.repeat(32) },
    });
    assert.equal(res.status, 1, res.stderr);
    assert.match(res.stderr, /notice\.versions\[1\]\.review: the current notice version needs a recorded counsel review/);
  });

  test('`lumetrax policy check` reports one YAML syntax error once, on one line', async () => {
    const file = brokenCopy((y) => y.replace('organisation:\n', 'organisation:\n  name: [unclosed\n'));
    try {
      const res = await runCli(['policy', 'check', file]);
      assert.equal(res.code, 1, res.stderr);
      assert.deepEqual(res.stderr.trimEnd().split('\n').slice(1).map((l) => l.replace(/:.*/, '')), [`  - YAML syntax error at line ${organisationLine + 2}, column 3`]);
      assert.doesNotMatch(res.stderr, /^\s+at /m);
    } finally {
      rmSync(join(file, '..'), { recursive: true, force: true });
    }
  });

  test('bad settings stop the process naming the setting', () => {
    const res = spawnSync(machineNode, ['bin/lumetrax.mjs', 'migrate'], { cwd: projectRoot, encoding: 'utf8', env: { ...process.env, PORT: 'eighty', DATABASE_URL: 'mysql://x' } });
    assert.equal(res.status, 1);
    assert.match(res.stderr, /PORT/);
  });
});
