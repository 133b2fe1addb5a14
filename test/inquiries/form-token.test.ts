// The form token: a signed timestamp that proves the form came from us and how long it was
// open (no cookie), and whose hash is the submission's idempotency key.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Signer } from '../../src/http/signing.ts';
import { checkFormToken, issueFormToken } from '../../src/inquiries/form-token.ts';

const signer = new Signer(Buffer.from('form-token-test-secret-0123456789abcdef'));
const otherSigner = new Signer(Buffer.from('another-secret-entirely-0123456789abcdef'));
const limits = { minFillSeconds: 3, maxAgeHours: 24 };
const issued = new Date('2026-11-29T10:00:00.000Z');
const after = (ms: number) => new Date(issued.getTime() + ms);
const HOUR = 3600_000;

function flipLast(s: string): string {
  return s.slice(0, -1) + (s.endsWith('A') ? 'B' : 'A');
}

describe('form token', () => {
  test('a token we issued, sent back after the minimum fill time, passes with a submission key', () => {
    const token = issueFormToken(signer, 'demo', issued);
    const check = checkFormToken(signer, token, 'demo', after(10_000), limits);
    assert.equal(check.ok, true);
    assert.match(check.ok ? check.submissionKey : '', /^[0-9a-f]{64}$/);
  });

  test('missing: no token, an empty one, or one that is not a string', () => {
    for (const token of [undefined, null, '', 42, ['x'], { token: 'x' }]) {
      assert.deepEqual(checkFormToken(signer, token, 'demo', after(10_000), limits), { ok: false, reason: 'missing' }, JSON.stringify(token));
    }
  });

  test('forged: a changed signature, a changed payload, another key, or made-up text', () => {
    const token = issueFormToken(signer, 'demo', issued);
    const forged = [
      flipLast(token),
      token.replace('demo', 'dema'),
      token.replace(String(issued.getTime()), String(issued.getTime() - HOUR)),
      issueFormToken(otherSigner, 'demo', issued),
      'demo~1764410400000~abc.def',
      'not-a-token',
      '.',
      `${token}x`,
    ];
    for (const t of forged) {
      assert.notEqual(t, token);
      assert.deepEqual(checkFormToken(signer, t, 'demo', after(10_000), limits), { ok: false, reason: 'invalid' }, t);
    }
  });

  test('a valid signature for another purpose does not pass as a form token', () => {
    const token = issueFormToken(signer, 'demo', issued);
    const payload = token.split('.').length === 3 ? token.split('.')[1] : token.slice(0, token.lastIndexOf('.'));
    for (const label of ['receipt', 'unsubscribe', 'form-token2', '']) {
      assert.deepEqual(checkFormToken(signer, signer.sign(label, payload), 'demo', after(10_000), limits), { ok: false, reason: 'invalid' }, label);
    }
  });

  test('wrong form: a demo token does not pass on the contact form, nor the other way round', () => {
    assert.deepEqual(checkFormToken(signer, issueFormToken(signer, 'demo', issued), 'contact', after(10_000), limits), { ok: false, reason: 'invalid' });
    assert.deepEqual(checkFormToken(signer, issueFormToken(signer, 'contact', issued), 'demo', after(10_000), limits), { ok: false, reason: 'invalid' });
    assert.deepEqual(checkFormToken(signer, issueFormToken(signer, 'demo', issued), 'Demo', after(10_000), limits), { ok: false, reason: 'invalid' });
  });

  test('too fast: sent back sooner than the minimum fill time; exactly the minimum passes', () => {
    const token = issueFormToken(signer, 'demo', issued);
    assert.deepEqual(checkFormToken(signer, token, 'demo', issued, limits), { ok: false, reason: 'too_fast' });
    assert.deepEqual(checkFormToken(signer, token, 'demo', after(2_999), limits), { ok: false, reason: 'too_fast' });
    assert.equal(checkFormToken(signer, token, 'demo', after(3_000), limits).ok, true);
    assert.equal(checkFormToken(signer, token, 'demo', issued, { ...limits, minFillSeconds: 0 }).ok, true, 'no minimum: at once is fine');
  });

  test('expired: older than the maximum age; exactly the maximum passes', () => {
    const token = issueFormToken(signer, 'demo', issued);
    assert.equal(checkFormToken(signer, token, 'demo', after(24 * HOUR), limits).ok, true);
    assert.deepEqual(checkFormToken(signer, token, 'demo', after(24 * HOUR + 1), limits), { ok: false, reason: 'expired' });
    assert.deepEqual(checkFormToken(signer, token, 'demo', after(30 * 24 * HOUR), limits), { ok: false, reason: 'expired' });
    assert.deepEqual(checkFormToken(signer, token, 'demo', after(2 * HOUR), { ...limits, maxAgeHours: 1 }), { ok: false, reason: 'expired' });
  });

  test('future-dated: more than a minute ahead is forged; within a minute (clock skew) it only comes back as too fast', () => {
    const token = issueFormToken(signer, 'demo', after(61_000));
    assert.deepEqual(checkFormToken(signer, token, 'demo', issued, limits), { ok: false, reason: 'invalid' });
    assert.deepEqual(checkFormToken(signer, issueFormToken(signer, 'demo', after(HOUR)), 'demo', issued, limits), { ok: false, reason: 'invalid' });
    const skewed = issueFormToken(signer, 'demo', after(30_000));
    assert.deepEqual(checkFormToken(signer, skewed, 'demo', issued, limits), { ok: false, reason: 'too_fast' });
  });

  test('a well-signed payload whose time is not a number is refused', () => {
    for (const time of ['soon', 'NaN', 'Infinity', '-Infinity', '1e400']) {
      assert.deepEqual(checkFormToken(signer, signer.sign('form-token', `demo~${time}~nonce`), 'demo', after(10_000), limits), { ok: false, reason: 'invalid' }, time);
    }
    // An empty time reads as 0, the epoch: long expired, refused all the same.
    assert.equal(checkFormToken(signer, signer.sign('form-token', 'demo~~nonce'), 'demo', after(10_000), limits).ok, false);
  });

  test('too long: a token over 200 characters is refused before its signature is checked, even when well signed', () => {
    const long = signer.sign('form-token', `demo~${issued.getTime()}~${'n'.repeat(200)}`);
    assert.ok(long.length > 200);
    assert.deepEqual(checkFormToken(signer, long, 'demo', after(10_000), limits), { ok: false, reason: 'invalid' });
    const justRight = signer.sign('form-token', `demo~${issued.getTime()}~nonce`);
    assert.equal(checkFormToken(signer, justRight, 'demo', after(10_000), limits).ok, true, 'the same shape, short enough, passes');
    assert.ok(issueFormToken(signer, 'contact', issued).length <= 200, 'our own tokens fit');
  });

  test('the submission key is the same for the same token whenever it is checked, and differs between tokens', () => {
    const token = issueFormToken(signer, 'demo', issued);
    const key = (t: string, at: Date) => {
      const check = checkFormToken(signer, t, 'demo', at, limits);
      assert.ok(check.ok);
      return check.submissionKey;
    };
    const first = key(token, after(5_000));
    assert.equal(key(token, after(5_000)), first, 'a double-click sends the same token: the same key');
    assert.equal(key(token, after(HOUR)), first, 'the key does not depend on when it is checked');
    const twin = issueFormToken(signer, 'demo', issued);
    assert.notEqual(twin, token, 'two forms served in the same millisecond still get different tokens');
    assert.notEqual(key(twin, after(5_000)), first);
    assert.ok(!first.includes(String(issued.getTime())), 'the key is a hash, not the token');
  });
});
