// Each setting and each form field is stated once: the config carries every documented
// setting under its own name, and the form, the validation and the notice's table all
// take their fields from the policy.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, projectRoot } from '../../src/config.ts';
import { loadPolicy } from '../../src/policy/load.ts';
import { emptyValues, fieldNames, readValues } from '../../src/inquiries/validate-inquiry.ts';
import { formToken, startTestServer, validFields } from '../support/server.ts';

const camel = (name: string) => name.toLowerCase().replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

describe('settings and fields stated once', () => {
  test('every setting in the README table reaches the config under its camelCase name, typed by the schema', () => {
    const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
    const documented = [...readme.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    assert.ok(documented.length >= 20, `${documented.length} settings documented`);
    // Optional settings are given a value, so each one shows up in the config.
    const optional = { SECRET_KEY_PREVIOUS: 'cd'.repeat(32), PUBLIC_URL: 'https://www.example.com', INBOUND_SMTP_PORT: '2525', INBOUND_SMTP_TLS_CERT: '/etc/ssl/inbound.pem', INBOUND_SMTP_TLS_KEY: '/etc/ssl/inbound.key', IMAP_URL: 'imaps://user:pass@mail.example.com/INBOX' };
    const config = loadConfig({ SECRET_KEY: 'ab'.repeat(32), REDIS_URL: 'redis://127.0.0.1:6379', SMTP_URL: 'smtp://127.0.0.1:25', BODY_LIMIT_BYTES: '50000', TRUST_PROXY: 'true', MAIL_POLL_MS: '75', ...optional }) as unknown as Record<string, unknown>;
    // Settings the app holds in another form: DATABASE_URL as a target, secrets as keys.
    const heldOtherwise: Record<string, string> = { DATABASE_URL: 'database', SECRET_KEY: 'secretKey', SECRET_KEY_PREVIOUS: 'previousSecretKey' };
    for (const name of documented) assert.ok((heldOtherwise[name] ?? camel(name)) in config, `${name} has no config field`);
    assert.equal(config.mailPollMs, 75, 'coerced by the schema');
    assert.equal(config.trustProxy, true);
    assert.equal(config.bodyLimitBytes, 50_000);
    assert.ok(Buffer.isBuffer(config.secretKey));
    assert.ok(!Object.values(config).includes('ab'.repeat(32)), 'the secret is not also held as text');
  });

  test('the body limit defaults to what the largest valid form needs; BODY_LIMIT_BYTES overrides it', async () => {
    const wide = (n: number) => '𠀀'.repeat(n);
    const maximal = (token: string) => new URLSearchParams({ ...validFields, name: wide(200), company: wide(200), role: wide(200), context: wide(5000), form_token: token }).toString();
    const derived = await startTestServer();
    try {
      const body = maximal(await formToken(derived.url, 'demo'));
      assert.ok(derived.running.deps.config.bodyLimitBytes >= Buffer.byteLength(body), `default ${derived.running.deps.config.bodyLimitBytes} < ${Buffer.byteLength(body)}`);
      assert.equal(derived.running.app.initialConfig.bodyLimit, derived.running.deps.config.bodyLimitBytes, 'the config says the limit in force');
    } finally {
      await derived.close();
    }
    const set = await startTestServer({ env: { BODY_LIMIT_BYTES: '32768' } });
    try {
      assert.equal(set.running.deps.config.bodyLimitBytes, 32_768);
      const res = await fetch(`${set.url}/demo`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }, body: maximal(await formToken(set.url, 'demo')) });
      assert.equal(res.status, 413);
      assert.match(await res.text(), /larger than we accept \(32 KB\)/);
    } finally {
      await set.close();
    }
  });

  test('the form fields come from the policy: validation, empty values and the rendered form follow its order', async () => {
    const policy = loadPolicy(join(projectRoot, 'policy/lumetrax.yaml')).policy;
    assert.deepEqual(fieldNames, Object.keys(policy.fields));
    assert.deepEqual(Object.keys(emptyValues), [...fieldNames, 'marketingOptIn']);
    assert.deepEqual(Object.keys(readValues({ extra: 'x', name: 'A' })), [...fieldNames, 'marketingOptIn'], 'only the policy fields are read');
    const server = await startTestServer();
    try {
      const page = await (await fetch(`${server.url}/demo`)).text();
      const controls = [...page.matchAll(/<(?:input|select|textarea)\b[^>]*\bid="([a-z_]+)"/g)].map((m) => m[1]).filter((id) => (fieldNames as string[]).includes(id));
      assert.deepEqual(controls, fieldNames, 'the form shows the fields in the policy order');
    } finally {
      await server.close();
    }
  });
});
