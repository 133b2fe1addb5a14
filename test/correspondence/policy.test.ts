// The policy's correspondence section: each wrong value is named with what is expected.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/config.ts';
import { loadPolicy } from '../../src/policy/load.ts';
import { inboundSettings } from '../../src/correspondence/settings.ts';

function problemsWith(edit: (yaml: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lumetrax-corr-policy-'));
  try {
    cpSync(join(projectRoot, 'policy'), dir, { recursive: true });
    const file = join(dir, 'lumetrax.yaml');
    const original = readFileSync(file, 'utf8');
    const changed = edit(original);
    assert.notEqual(changed, original);
    writeFileSync(file, changed);
    try {
      loadPolicy(file, { checkProofs: false });
    } catch (error) {
      return (error as Error).message;
    }
    assert.fail('the policy was accepted');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('policy: correspondence', () => {
  test('the shipped policy names the addresses the listener accepts', () => {
    const { policy } = loadPolicy(join(projectRoot, 'policy', 'lumetrax.yaml'), { checkProofs: false });
    const s = inboundSettings(policy);
    assert.ok(s.addresses.has(policy.organisation.privacy_address.toLowerCase()));
    assert.ok(s.addresses.has(policy.organisation.staff_inbox.toLowerCase()));
    assert.ok(s.addresses.has(policy.correspondence.reply_address.toLowerCase()));
    assert.ok(s.attachmentMaxBytes <= s.messageMaxBytes);
  });

  const cases: Array<[string, (y: string) => string, RegExp]> = [
    ['a size that is not a number', (y) => y.replace(/message_max_bytes: \d+/, 'message_max_bytes: ten'), /correspondence\.message_max_bytes.*expected the largest inbound message in bytes/],
    ['a size too small', (y) => y.replace(/message_max_bytes: \d+/, 'message_max_bytes: 10'), /correspondence\.message_max_bytes.*at least 10000/],
    ['an attachment limit above the message limit', (y) => y.replace(/attachment_max_bytes: \d+/, 'attachment_max_bytes: 20000000'), /correspondence\.attachment_max_bytes.*must not be larger than correspondence\.message_max_bytes/],
    ['an unknown oversize rule', (y) => y.replace(/oversize_attachment: drop/, 'oversize_attachment: bounce'), /correspondence\.oversize_attachment.*expected drop or refuse/],
    ['a reply address that is not one', (y) => y.replace(/reply_address: \S+/, 'reply_address: sales at lumetrax'), /correspondence\.reply_address.*expected an email address/],
    ['an inbound address that is not one', (y) => y.replace(/inbound_addresses: \[\]/, 'inbound_addresses: [privacy]'), /correspondence\.inbound_addresses.*expected an email address/],
  ];
  for (const [name, edit, expected] of cases) {
    test(`${name} is refused with what is expected`, () => {
      assert.match(problemsWith(edit), expected);
    });
  }
});
