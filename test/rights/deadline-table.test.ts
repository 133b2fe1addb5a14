// The regional deadline table (policy/dsr-deadlines.json) is validated with the policy:
// a bad row stops `lumetrax policy check` and the service, naming file, row and field.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/config.ts';
import { loadPolicy, PolicyError } from '../../src/policy/load.ts';
import { runCli } from '../cli/run-cli.ts';

const shippedTable = JSON.parse(readFileSync(join(projectRoot, 'policy', 'dsr-deadlines.json'), 'utf8')) as Array<Record<string, unknown>>;
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A copy of the policy folder whose table has one edit; returns the policy file. */
function withTable(edit: (rows: Array<Record<string, unknown>>) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'lumetrax-table-'));
  dirs.push(dir);
  cpSync(join(projectRoot, 'policy'), dir, { recursive: true });
  const rows = structuredClone(shippedTable);
  edit(rows);
  writeFileSync(join(dir, 'dsr-deadlines.json'), JSON.stringify(rows, null, 2));
  return join(dir, 'lumetrax.yaml');
}

function problems(file: string): string[] {
  try {
    loadPolicy(file, { checkProofs: false });
  } catch (error) {
    assert.ok(error instanceof PolicyError, String(error));
    return error.problems;
  }
  assert.fail('the table was accepted');
}

const rowOf = (rows: Array<Record<string, unknown>>, jurisdiction: string, type: string) => rows.findIndex((r) => r.jurisdiction === jurisdiction && r.requestType === type);

describe('the regional deadline table', () => {
  test('the shipped table: every row is CC or CC-SUB, cites its law and source, and uses a known unit', () => {
    const { regionalRules } = loadPolicy(join(projectRoot, 'policy', 'lumetrax.yaml'), { checkProofs: false });
    assert.ok(regionalRules.length > 100);
    for (const r of regionalRules) {
      assert.match(r.jurisdiction, /^[A-Z]{2}(-[A-Z0-9]{1,3})?$/);
      assert.ok(r.citation.length > 0 && r.source.length > 0, r.jurisdiction);
      assert.ok(['access', 'correction', 'deletion'].includes(r.requestType));
      if (r.deadline) assert.ok(['calendar_days', 'business_days', 'months'].includes(r.deadline.unit));
    }
    // The corrections of the verification note are in: Kenya's unverified rows use the
    // conservative 7 days; Chile's Law 21,719 rows start on 1 Dec 2026 at 30 calendar days.
    const ke = regionalRules.find((r) => r.jurisdiction === 'KE' && r.requestType === 'deletion')!;
    assert.deepEqual(ke.deadline, { amount: 7, unit: 'calendar_days' });
    assert.equal(ke.verification, 'unverified');
    const cl = regionalRules.find((r) => r.jurisdiction === 'CL' && r.effectiveFrom === '2026-12-01' && r.requestType === 'access')!;
    assert.deepEqual(cl.deadline, { amount: 30, unit: 'calendar_days' });
    assert.equal(cl.confidence, 'high');
    // GDPR is written out per member state (EU is not a country code).
    for (const cc of ['IE', 'DE', 'FR', 'ES', 'IT', 'NO']) assert.ok(regionalRules.some((r) => r.jurisdiction === cc && r.deadline?.unit === 'months'), cc);
    assert.ok(!regionalRules.some((r) => r.jurisdiction === 'EU'));
  });

  const cases: Array<[string, (rows: Array<Record<string, unknown>>) => number, RegExp]> = [
    ['a row without a source', (rows) => { const i = rowOf(rows, 'US-CA', 'access'); delete rows[i].source; return i; }, /source: (is required \()?every row needs its source/],
    ['a row with an empty citation', (rows) => { const i = rowOf(rows, 'AR', 'access'); rows[i].citation = ''; return i; }, /citation: every row needs its legal citation/],
    ['an unknown unit', (rows) => { const i = rowOf(rows, 'KR', 'access'); rows[i].deadline = { amount: 10, unit: 'working_days' }; return i; }, /deadline\.unit: expected one of "calendar_days", "business_days", "months", found the text "working_days"/],
    ['a malformed jurisdiction', (rows) => { const i = rowOf(rows, 'DE', 'access'); rows[i].jurisdiction = 'Germany'; return i; }, /jurisdiction: expected CC or CC-SUB.*found the text "Germany"/],
    ['an unknown country', (rows) => { const i = rowOf(rows, 'DE', 'access'); rows[i].jurisdiction = 'EU'; return i; }, /jurisdiction: the first two letters are not an ISO 3166-1 alpha-2 country code, found the text "EU"/],
    ['an unknown request type', (rows) => { const i = rowOf(rows, 'DE', 'access'); rows[i].requestType = 'erasure'; return i; }, /requestType: expected one of "access", "correction", "deletion"/],
    ['a fractional amount', (rows) => { const i = rowOf(rows, 'KE', 'access'); rows[i].deadline = { amount: 7.5, unit: 'calendar_days' }; return i; }, /deadline\.amount: expected a whole number/],
    ['two rows for the same dates', (rows) => { const i = rowOf(rows, 'DE', 'access'); rows.push({ ...rows[i] }); return rows.length - 1; }, /jurisdiction: DE access is also row \[\d+\] for the same dates/],
  ];
  for (const [name, edit, expected] of cases) {
    test(`refused: ${name}`, () => {
      let index = -1;
      const file = withTable((rows) => {
        index = edit(rows);
      });
      const found = problems(file);
      assert.equal(found.length, 1, found.join('\n'));
      assert.match(found[0], new RegExp(`^dsr-deadlines\\.json row \\[${index}\\] \\(`));
      assert.match(found[0], expected);
    });
  }

  test('`lumetrax policy check` names the file, the row and the field', async () => {
    const file = withTable((rows) => {
      rows[rowOf(rows, 'KR', 'access')].deadline = { amount: 10, unit: 'weeks' };
    });
    const res = await runCli(['policy', 'check', file]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, new RegExp(`dsr-deadlines\\.json row \\[${rowOf(shippedTable, 'KR', 'access')}\\] \\(KR access\\) deadline\\.unit: expected one of`));
    const ok = await runCli(['policy', 'check', join(projectRoot, 'policy', 'lumetrax.yaml')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /\d{3} regional deadline rules/);
  });
});
