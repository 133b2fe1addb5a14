// Signing the audit chain head in the running service (the job on its cadence, and at
// shutdown), the signing key (setting or owner-only file, a bad one stops the start in
// one line), and the export a verifier checks offline with only the public key.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_SIGN_JOB, signAuditHead } from '../../src/audit/sign-head.ts';
import { keyId, publicKeyPem } from '../../src/audit/signing-key.ts';
import { verifyAuditTrail } from '../../src/audit/verify.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { openStorage } from '../../src/storage/db.ts';
import { assertOneLineFailure, runCli } from '../cli/run-cli.ts';
import { createTestDatabase, testDb } from '../support/db.ts';
import { startTestServer, submitForm, TEST_SECRET, validFields } from '../support/server.ts';
import { appendEntries, newKey } from './helpers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lumetrax-audit-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('the service signs the chain head', () => {
  test('on its cadence under the scheduler, and at shutdown: a signature at the final seq', async () => {
    const key = newKey();
    const database = await createTestDatabase();
    try {
      const cadenced = await startTestServer({ database, env: { AUDIT_SIGNING_KEY: key.pem, AUDIT_SIGN_EVERY_SECONDS: '1' } });
      try {
        assert.ok(cadenced.running.jobs.jobs.some((j) => j.name === AUDIT_SIGN_JOB && j.everyMs === 1000));
        for (let i = 0; i < 2; i++) assert.equal((await submitForm(cadenced.url, 'demo')).status, 303);
        const db = cadenced.running.deps.storage.db;
        const head = await db.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow();
        assert.ok(Number(head.seq) >= 2, 'submissions are audited');
        let signed: unknown;
        for (let waited = 0; !signed && waited < 5000; waited += 100) {
          signed = await db.selectFrom('audit_signature').select('seq').where('seq', '=', head.seq).executeTakeFirst();
          if (!signed) await sleep(100);
        }
        assert.ok(signed, 'the job signed the head within a few cadences');
        const state = await db.selectFrom('job_state').selectAll().where('name', '=', AUDIT_SIGN_JOB).executeTakeFirstOrThrow();
        assert.equal(state.last_outcome, 'ok');
      } finally {
        await cadenced.running.close();
      }

      // The default cadence (5 minutes) does not come round during this test: the last signature is the shutdown's.
      const later = await startTestServer({ database, env: { AUDIT_SIGNING_KEY: key.pem } });
      await later.running.jobs.idle();
      assert.equal((await submitForm(later.url, 'demo')).status, 303);
      assert.equal((await submitForm(later.url, 'contact')).status, 303);
      await later.running.close();

      const storage = openStorage(database.target);
      try {
        const head = await storage.db.selectFrom('audit_head').select(['seq', 'hash']).executeTakeFirstOrThrow();
        const last = await storage.db.selectFrom('audit_signature').selectAll().orderBy('seq', 'desc').executeTakeFirstOrThrow();
        assert.deepEqual([Number(last.seq), last.hash, last.key_id], [Number(head.seq), head.hash, keyId(key.privateKey)]);
        const check = await verifyAuditTrail(storage.db, [key.privateKey]);
        assert.deepEqual(check.findings, []);
        assert.equal(check.lastSignedSeq, Number(head.seq));
        const entries = await storage.db.selectFrom('audit_log').select(['details', 'entity_id']).execute();
        // The submitted values themselves (a case-insensitive "ada" would match random hex ids).
        const stored = JSON.stringify(entries);
        for (const value of [validFields.name, validFields.email, validFields.company, validFields.role]) assert.ok(!stored.includes(value), `entries hold ids and counts, never ${value}`);
      } finally {
        await storage.close();
      }
    } finally {
      await database.drop();
    }
  });
});

describe('the signing key', () => {
  test('created once, owner-only (0600), in data/ when AUDIT_SIGNING_KEY is unset; a readable one is tightened', () => {
    const umask = process.umask(0o022);
    try {
      const root = join(dir, 'keyfile');
      const first = loadConfig({ SECRET_KEY: TEST_SECRET }, root).auditSigningKey;
      const file = join(root, 'data', 'audit-signing.key');
      assert.equal(mode(file), '600');
      assert.equal(first.asymmetricKeyType, 'ed25519');
      assert.equal(keyId(loadConfig({ SECRET_KEY: TEST_SECRET }, root).auditSigningKey), keyId(first), 'the same key on the next start');
      chmodSync(file, 0o644);
      loadConfig({ SECRET_KEY: TEST_SECRET }, root);
      assert.equal(mode(file), '600');
      writeFileSync(file, 'garbage\n');
      assert.throws(() => loadConfig({ SECRET_KEY: TEST_SECRET }, root), (e: unknown) => e instanceof ConfigError && e.message.startsWith(`${file}: not a private key`));
    } finally {
      process.umask(umask);
    }
  });

  test('AUDIT_SIGNING_KEY takes a PEM (also with \\n written out) or base64 PKCS#8; another kind of key is refused by name', () => {
    const key = newKey();
    const kid = keyId(key.privateKey);
    const der = key.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    for (const value of [key.pem, key.pem.replace(/\n/g, '\\n'), der]) {
      assert.equal(keyId(loadConfig({ SECRET_KEY: TEST_SECRET, AUDIT_SIGNING_KEY: value }, join(dir, 'unused')).auditSigningKey), kid);
    }
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    assert.throws(() => loadConfig({ SECRET_KEY: TEST_SECRET, AUDIT_SIGNING_KEY: rsa }), (e: unknown) => e instanceof ConfigError && /^AUDIT_SIGNING_KEY: an Ed25519 key is needed, this is rsa/.test(e.message));
    const settings = loadConfig({ SECRET_KEY: TEST_SECRET, AUDIT_SIGNING_KEY: key.pem }, join(dir, 'unused')) as unknown as Record<string, unknown>;
    assert.ok(!Object.values(settings).includes(key.pem), 'the key is not also held as text');
  });

  test('a bad AUDIT_SIGNING_KEY stops `lumetrax serve` with one line', async () => {
    const res = await runCli(['serve'], { AUDIT_SIGNING_KEY: 'not-a-key', DATABASE_URL: `sqlite:${join(dir, 'never.db')}`, PORT: '0' });
    assertOneLineFailure(res, /^AUDIT_SIGNING_KEY: not a private key in PEM or base64 PKCS#8 form; make one with `openssl genpkey -algorithm ed25519`$/);
  });
});

describe('export and offline verification', () => {
  test('the export (0600) verifies with only the public key, across a key rotation; a tampered or cut export fails', async () => {
    const old = newKey();
    const current = newKey();
    const t = await testDb();
    try {
      await appendEntries(t.storage, 1, 5);
      await signAuditHead(t.storage.db, old.privateKey, new Date('2026-11-29T13:00:00Z'));
      await appendEntries(t.storage, 6, 10);
      await signAuditHead(t.storage.db, current.privateKey, new Date('2026-11-29T13:05:00Z'));
      const env = { DATABASE_URL: t.database.url, AUDIT_SIGNING_KEY: current.pem };

      const keyRes = await runCli(['audit', 'export-key'], env);
      assert.equal(keyRes.code, 0, keyRes.stderr);
      assert.equal(keyRes.stdout, publicKeyPem(current.privateKey));
      const pemFile = join(dir, 'audit-public.pem');
      writeFileSync(pemFile, keyRes.stdout);

      const out = join(dir, 'trail.jsonl');
      writeFileSync(out, 'old content\n', { mode: 0o644 });
      const exported = await runCli(['audit', 'export', '--out', out], env);
      assert.equal(exported.code, 0, exported.stderr);
      assert.match(exported.stderr, /Wrote 10 entries and 2 signatures to /);
      assert.equal(mode(out), '600');
      const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
      assert.equal(lines.length, 1 + 1 + 2 + 2 + 10, 'header, head, 2 keys, 2 signatures, 10 entries');

      // Offline: no database (an unreachable one is named), no secret.
      const offline = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', SECRET_KEY: '', AUDIT_SIGNING_KEY: '' };
      const ok = await runCli(['audit', 'verify', '--file', out, '--public-key', pemFile], offline);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.equal(ok.stdout, 'Audit chain intact: 10 entries, 2 signatures (last signed at seq 10)\n');

      const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const write = (name: string, rs: Record<string, unknown>[]) => {
        const path = join(dir, name);
        writeFileSync(path, rs.map((r) => JSON.stringify(r)).join('\n') + '\n');
        return path;
      };
      const edited = write('edited.jsonl', records.map((r) => (r.type === 'entry' && r.seq === 3 ? { ...r, details: '{"n":999}' } : r)));
      const bad = await runCli(['audit', 'verify', '--file', edited, '--public-key', pemFile], offline);
      assert.equal(bad.code, 1);
      assert.match(bad.stdout.split('\n')[0], /^entry 3: its content does not match its hash/);

      const entry7 = records.find((r) => r.type === 'entry' && r.seq === 7)!;
      const cut = write('cut.jsonl', records.filter((r) => !(r.type === 'entry' && Number(r.seq) > 7)).map((r) => (r.type === 'head' ? { ...r, seq: 7, hash: entry7.hash } : r)));
      const cutRes = await runCli(['audit', 'verify', '--file', cut, '--public-key', pemFile], offline);
      assert.equal(cutRes.code, 1);
      assert.match(cutRes.stdout.split('\n')[0], /^entry 8: missing: the chain ends at seq 7, but seq 10 was signed/);

      // Another public key trusts none of the signatures.
      const strangerPem = join(dir, 'stranger.pem');
      writeFileSync(strangerPem, publicKeyPem(newKey().privateKey));
      const stranger = await runCli(['audit', 'verify', '--file', out, '--public-key', strangerPem], offline);
      assert.equal(stranger.code, 1);
      assert.match(stranger.stdout.split('\n')[0], /^signature at seq 5 .*not vouched for by the trusted key/);

      const usage = await runCli(['audit', 'verify', '--file', out], offline);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /audit verify --file needs --public-key PEMFILE/);
      const notExport = await runCli(['audit', 'verify', '--file', pemFile, '--public-key', pemFile], offline);
      assertOneLineFailure(notExport, /not a JSON record of an audit export|not an audit export/);
      const notKey = await runCli(['audit', 'verify', '--file', out, '--public-key', out], offline);
      assertOneLineFailure(notKey, /not an Ed25519 public key in PEM form/);
    } finally {
      await t.close();
    }
  });
});
