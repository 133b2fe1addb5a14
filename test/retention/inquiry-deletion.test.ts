// When the retention rules delete an inquiry as it stands: the status picks the rule's
// event, the earliest applicable rule wins, and a rule that keeps indefinitely gives none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inquiryDeletion, type RetentionRule } from '../../src/retention/schedule.ts';
import { policy } from './seed.ts';

const rules = policy.policy.retention.rules;
const at = '2026-01-10T09:30:00.000Z';
const days = (n: number) => n * 86_400_000;

test('the status picks the rule: never answered counts from receipt, quiet from the last activity, closed from closing', () => {
  const keep = (id: string) => Number(rules.find((r) => r.id === id)!.keep_days);
  const base = { created_at: at, last_activity_at: '2026-03-01T00:00:00.000Z', closed_at: null };
  assert.deepEqual(inquiryDeletion(rules, { ...base, status: 'new' }), { at: new Date(Date.parse(at) + days(keep('inquiries_unanswered'))).toISOString(), rule: rules.find((r) => r.id === 'inquiries_unanswered') });
  assert.equal(inquiryDeletion(rules, { ...base, status: 'in_conversation' })?.at, new Date(Date.parse(base.last_activity_at) + days(keep('inquiries_quiet'))).toISOString());
  assert.equal(inquiryDeletion(rules, { ...base, status: 'closed', closed_at: '2026-04-01T00:00:00.000Z' })?.rule.id, 'inquiries_closed');
  assert.equal(inquiryDeletion(rules, { ...base, status: 'closed', closed_at: null }), undefined, 'no closing date, no date');
  assert.equal(inquiryDeletion(rules, { ...base, status: 'in_conversation', last_activity_at: null }), undefined);
});

test('two rules for one event: the earlier date; a rule that keeps indefinitely gives none', () => {
  const rule = (id: string, keep: RetentionRule['keep_days']): RetentionRule => ({ ...rules.find((r) => r.id === 'inquiries_unanswered')!, id, keep_days: keep });
  const inquiry = { status: 'new' as const, created_at: at, last_activity_at: at, closed_at: null };
  assert.equal(inquiryDeletion([rule('long', 300), rule('short', 30)], inquiry)?.rule.id, 'short');
  assert.equal(inquiryDeletion([rule('forever', 'indefinitely')], inquiry), undefined);
  assert.equal(inquiryDeletion([], inquiry), undefined);
});
