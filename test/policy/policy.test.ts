// The policy file is validated at start and by `lumetrax policy check`, with errors that
// name the file, the path of the bad field and what is expected.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/config.ts';
import { loadPolicy, PolicyError } from '../../src/policy/load.ts';

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

function problemsOf(file: string): string {
  try {
    loadPolicy(file);
  } catch (error) {
    assert.ok(error instanceof PolicyError, String(error));
    assert.ok(error.message.startsWith(file), 'the message names the file');
    return error.message;
  }
  assert.fail('the policy was accepted');
}

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

  const cases: Array<[string, (y: string) => string, RegExp]> = [
    ['unknown key', (y) => y.replace('organisation:\n', 'organisation:\n  nickname: LT\n'), /organisation: unknown key\(s\) nickname/],
    ['missing key', (y) => y.replace(/  privacy_subject: .*\n/, ''), /organisation\.privacy_subject: is required/],
    ['wrong type', (y) => y.replace('follow_up_window_days: 180', 'follow_up_window_days: soon'), /retention\.follow_up_window_days: .*number/],
    ['bad time zone', (y) => y.replace('time_zone: Europe/Dublin', 'time_zone: Europe/Atlantis'), /business_calendar\.time_zone: expected an IANA time zone/],
    ['bad country', (y) => y.replace('country: IE\n', 'country: XX\n'), /business_calendar\.country: expected an ISO 3166-1 alpha-2/],
    ['non-necessary cookie', (y) => y.replace('category: strictly_necessary', 'category: advertising'), /cookies\[0\]\.category: only strictly_necessary cookies may be declared/],
    ['marketing without consent', (y) => y.replace(/(- id: marketing\n\s+name: .*\n\s+lawful_basis:) consent/, '$1 legitimate_interest'), /marketing\.purpose: the marketing purpose must have lawful_basis consent/],
    ['current names a missing version', (y) => y.replace('current: "2026-11-25"', 'current: "2030-01-01"'), /notice\.current: names version "2030-01-01"/],
    ['YAML syntax error', (y) => y.replace('organisation:\n', 'organisation:\n  name: [unclosed\n'), /YAML syntax/],
    ['missing notice file', (y) => y.replace('file: notice/2026-06-01.md', 'file: notice/missing.md'), /notice\.versions\[0\]\.file: notice\/missing\.md not found/],
    ['current version without counsel review', (y) => y.replace(/(file: notice\/2026-11-25\.md\n)\s+review: .*\n/, '$1'), /notice\.versions\[1\]\.review: the current notice version needs a recorded counsel review/],
    ['review by the wrong role', (y) => y.replace('review: { reviewer: Aoife Brennan, role: counsel, date: "2026-11-20" }', 'review: { reviewer: Sam, role: marketing, date: "2026-11-20" }'), /needs a recorded counsel review/],
  ];
  for (const [name, edit, expected] of cases) {
    test(`refused: ${name}`, () => {
      const file = brokenCopy(edit);
      try {
        assert.match(problemsOf(file), expected);
      } finally {
        rmSync(join(file, '..'), { recursive: true, force: true });
      }
    });
  }
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

  test('bad settings stop the process naming the setting', () => {
    const res = spawnSync(machineNode, ['bin/lumetrax.mjs', 'migrate'], { cwd: projectRoot, encoding: 'utf8', env: { ...process.env, PORT: 'eighty', DATABASE_URL: 'mysql://x' } });
    assert.equal(res.status, 1);
    assert.match(res.stderr, /PORT/);
  });
});
