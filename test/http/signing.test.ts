// Keys: one per purpose, a key id in every token, rotation with a grace key, and tokens
// and hashes from before key ids still honoured.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { loadConfig, ConfigError } from '../../src/config.ts';
import { keyId, Signer } from '../../src/http/signing.ts';

const OLD = Buffer.from('11'.repeat(32), 'hex');
const NEW = Buffer.from('22'.repeat(32), 'hex');

/** The scheme before key ids: HMAC straight from the secret over label and payload. */
function legacyToken(secret: Buffer, label: string, payload: string): string {
  return `${payload}.${createHmac('sha256', secret).update(label).update('\0').update(payload).digest('base64url')}`;
}

describe('signing keys', () => {
  test('a token names its key and verifies only for its own purpose', () => {
    const signer = new Signer(NEW);
    const token = signer.sign('unsubscribe', 'abc');
    assert.ok(token.startsWith(`${keyId(NEW)}.abc.`));
    assert.equal(signer.verify('unsubscribe', token), 'abc');
    assert.equal(signer.verify('receipt', token), null, 'another purpose has another key');
    assert.equal(signer.verify('unsubscribe', token.replace('.abc.', '.abd.')), null);
    assert.equal(signer.verify('unsubscribe', `zzzzzz${token.slice(6)}`), null, 'an unknown key id');
    assert.throws(() => signer.sign('x', 'a.b'), /may not contain/);
    assert.notEqual(signer.keyedHash('rate-limit', 'v'), signer.keyedHash('marketing-subject', 'v'));
  });

  test('after a rotation, tokens and hashes of the previous key keep working while it is set', () => {
    const before = new Signer(OLD);
    const token = before.sign('unsubscribe', 'id-1');
    const hash = before.keyedHash('marketing-subject', 'ann@example.com');

    const rotated = new Signer(NEW, OLD);
    assert.equal(rotated.verify('unsubscribe', token), 'id-1');
    assert.ok(rotated.keyedHashes('marketing-subject', 'ann@example.com').includes(hash));
    assert.ok(rotated.sign('unsubscribe', 'id-2').startsWith(`${keyId(NEW)}.`), 'new tokens use the new key');
    assert.ok(!rotated.isCurrent(hash) && rotated.isCurrent(rotated.keyedHash('marketing-subject', 'x')));

    const retired = new Signer(NEW);
    assert.equal(retired.verify('unsubscribe', token), null, 'once the previous key is removed its tokens stop working');
  });

  test('tokens and hashes made before key ids existed are still honoured', () => {
    const signer = new Signer(NEW, OLD);
    assert.equal(signer.verify('unsubscribe', legacyToken(NEW, 'unsubscribe', 'id-9')), 'id-9');
    assert.equal(signer.verify('unsubscribe', legacyToken(OLD, 'unsubscribe', 'id-9')), 'id-9');
    assert.equal(signer.verify('receipt', legacyToken(NEW, 'unsubscribe', 'id-9')), null);
    const legacyHash = createHmac('sha256', NEW).update('marketing-subject').update('\0').update('ann@example.com').digest('hex');
    assert.ok(signer.keyedHashes('marketing-subject', 'ann@example.com').includes(legacyHash));
  });

  test('SECRET_KEY has one format, hex, in the setting and in data/secret.key alike', () => {
    const env = { SECRET_KEY: 'ab'.repeat(32), DATABASE_URL: 'sqlite::memory:' };
    assert.deepEqual(loadConfig(env).secretKey, Buffer.from('ab'.repeat(32), 'hex'));
    assert.throws(() => loadConfig({ ...env, SECRET_KEY: 'x'.repeat(64) }), (e: unknown) => e instanceof ConfigError && /SECRET_KEY: must be at least 64 hexadecimal characters/.test(e.message));
    assert.throws(() => loadConfig({ ...env, SECRET_KEY: 'ab'.repeat(16) }), ConfigError);
    assert.throws(() => loadConfig({ ...env, SECRET_KEY_PREVIOUS: 'nothex' }), /SECRET_KEY_PREVIOUS/);
    assert.deepEqual(loadConfig({ ...env, SECRET_KEY_PREVIOUS: 'cd'.repeat(32) }).previousSecretKey, Buffer.from('cd'.repeat(32), 'hex'));
  });
});
