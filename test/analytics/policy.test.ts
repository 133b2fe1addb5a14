// The analytics part of the policy: defaults for the keys older policy files lack, and
// settings that would break what the notice says are refused with the key named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from '../../src/config.ts';
import { policySchema } from '../../src/policy/schema.ts';

const shipped = () => parse(readFileSync(join(projectRoot, 'policy/lumetrax.yaml'), 'utf8')) as { analytics: Record<string, unknown> };

test('analytics settings: the shipped values, and defaults when only the first two keys are given', () => {
  const ok = policySchema.parse(shipped());
  assert.equal(ok.analytics.small_count_threshold, 5);
  assert.deepEqual(ok.analytics.allowed_query_parameters, ['utm_source', 'utm_medium', 'utm_campaign']);
  assert.equal(ok.analytics.public_summary, false);
  const minimal = shipped();
  minimal.analytics = { raw_event_lifetime_hours: 24, rollup_cadence: 'hourly' };
  const parsed = policySchema.parse(minimal);
  assert.deepEqual(parsed.analytics, { raw_event_lifetime_hours: 24, rollup_cadence: 'hourly', small_count_threshold: 5, allowed_query_parameters: ['utm_source', 'utm_medium', 'utm_campaign'], hosts: [], public_summary: false });
});

const refused: Array<[string, Record<string, unknown>, RegExp]> = [
  ['a raw-event lifetime shorter than a daily rollup', { rollup_cadence: 'daily', raw_event_lifetime_hours: 24 }, /analytics\.raw_event_lifetime_hours: must be at least 25 with rollup_cadence daily/],
  ['a raw-event lifetime shorter than an hourly rollup', { raw_event_lifetime_hours: 1 }, /analytics\.raw_event_lifetime_hours: must be at least 2 with rollup_cadence hourly/],
  ['a threshold of 0', { small_count_threshold: 0 }, /analytics\.small_count_threshold/],
  ['a query parameter that is no name', { allowed_query_parameters: ['utm source'] }, /analytics\.allowed_query_parameters\.0: expected a query parameter name/],
  ['a host with a scheme', { hosts: ['https://www.example.com'] }, /analytics\.hosts\.0: expected a lower-case host name/],
  ['a yes/no that is text', { public_summary: 'yes' }, /analytics\.public_summary/],
];
for (const [name, change, expected] of refused) {
  test(`refused: ${name}`, () => {
    const policy = shipped();
    Object.assign(policy.analytics, change);
    const result = policySchema.safeParse(policy);
    assert.equal(result.success, false);
    const text = result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    assert.match(text, expected);
  });
}
