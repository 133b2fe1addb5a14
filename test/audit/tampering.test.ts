// The signed audit trail against tampering, on every reachable database, through the
// CLI an operator runs: `lumetrax audit verify` exits 1 and its first line names the first
// bad entry for an edited, inserted or deleted row, a tail cut off with the head rolled
// back, a chain recomputed from an edited row, a forged signature and a key nobody vouched
// for; a clean trail says so with its counts. Key rotation keeps old signatures checkable.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import { entryHash, GENESIS_HASH } from '../../src/audit/hash.ts';
import { headMessage, signAuditHead, signBytes } from '../../src/audit/sign-head.ts';
import { keyId, publicKeyPem } from '../../src/audit/signing-key.ts';
import { verifyAuditTrail } from '../../src/audit/verify.ts';
import { auditCollector, verifyAuditChain } from '../../src/audit/append-audit.ts';
import type { Database } from '../../src/storage/types.ts';
import { runCli } from '../cli/run-cli.ts';
import { availableDbKinds, testDb, type DbKind } from '../support/db.ts';
import { appendEntries, at, newKey } from './helpers.ts';

const { kinds, skipped } = await availableDbKinds();

/** Ten entries, the head signed at seq 2, 5 and 10 by `key`. */
async function signedTrail(kind: DbKind, key: KeyObject) {
  const t = await testDb(kind);
  await appendEntries(t.storage, 1, 2);
  await signAuditHead(t.storage.db, key, at(30));
  await appendEntries(t.storage, 3, 5);
  await signAuditHead(t.storage.db, key, at(31));
  await appendEntries(t.storage, 6, 10);
  await signAuditHead(t.storage.db, key, at(32));
  return t;
}

const hashAt = async (db: Kysely<Database>, seq: number) =>
  (await db.selectFrom('audit_log').select('hash').where('seq', '=', seq).executeTakeFirst())?.hash ?? GENESIS_HASH;

/** What an attacker with write access does to hide an edit: recompute every hash from `seq` on, and the head. */
async function recomputeFrom(db: Kysely<Database>, seq: number): Promise<void> {
  let prev = await hashAt(db, seq - 1);
  const rows = await db.selectFrom('audit_log').selectAll().where('seq', '>=', seq).orderBy('seq').execute();
  for (const r of rows) {
    const { hash: _old, ...rest } = { ...r, seq: Number(r.seq), prev_hash: prev };
    const hash = entryHash(rest);
    await db.updateTable('audit_log').set({ prev_hash: prev, hash }).where('seq', '=', r.seq).execute();
    prev = hash;
  }
  await db.updateTable('audit_head').set({ hash: prev }).where('id', '=', 1).execute();
}

type Tamper = (db: Kysely<Database>) => Promise<void>;

const cases: { name: string; tamper: Tamper; first: RegExp }[] = [
  {
    name: 'an edited row',
    tamper: async (db) => {
      await db.updateTable('audit_log').set({ details: '{"n":999}' }).where('seq', '=', 3).execute();
    },
    first: /^entry 3: its content does not match its hash/,
  },
  {
    name: 'an inserted row (later entries moved up to make room)',
    tamper: async (db) => {
      for (let seq = 10; seq >= 4; seq--) await db.updateTable('audit_log').set({ seq: seq + 1 }).where('seq', '=', seq).execute();
      const copied = await db.selectFrom('audit_log').selectAll().where('seq', '=', 5).executeTakeFirstOrThrow();
      await db.insertInto('audit_log').values({ ...copied, seq: 4, entity_id: 'forged', prev_hash: await hashAt(db, 3) }).execute();
      await db.updateTable('audit_head').set({ seq: 11 }).where('id', '=', 1).execute();
    },
    first: /^entry 4: its content does not match its hash/,
  },
  {
    name: 'a deleted row in the middle',
    tamper: async (db) => {
      await db.deleteFrom('audit_log').where('seq', '=', 3).execute();
    },
    first: /^entry 4: follows entry 2; entry 3 is missing \(deleted\)/,
  },
  {
    name: 'a truncated tail with the head rolled back',
    tamper: async (db) => {
      await db.deleteFrom('audit_log').where('seq', '>', 7).execute();
      await db.updateTable('audit_head').set({ seq: 7, hash: await hashAt(db, 7) }).where('id', '=', 1).execute();
    },
    first: /^entry 8: missing: the chain ends at seq 7, but seq 10 was signed at 2026-11-29T12:32:00.000Z by key [0-9a-f]{16} \(the tail was cut off\)/,
  },
  {
    name: 'a chain recomputed from an edited row',
    tamper: async (db) => {
      await db.updateTable('audit_log').set({ details: '{"n":999}' }).where('seq', '=', 3).execute();
      await recomputeFrom(db, 3);
    },
    first: /^entry 5: its hash is not the one signed at 2026-11-29T12:31:00.000Z by key [0-9a-f]{16}: the chain was rewritten after seq 2/,
  },
  {
    name: 'a forged signature (the signed hashes changed to match a recomputed chain)',
    tamper: async (db) => {
      await db.updateTable('audit_log').set({ details: '{"n":999}' }).where('seq', '=', 3).execute();
      await recomputeFrom(db, 3);
      for (const seq of [5, 10]) await db.updateTable('audit_signature').set({ hash: await hashAt(db, seq) }).where('seq', '=', seq).execute();
    },
    first: /^signature at seq 5 \(2026-11-29T12:31:00.000Z\): does not verify with the public key of key [0-9a-f]{16}/,
  },
  {
    name: 'a signature by an unknown key',
    tamper: async (db) => {
      const other = newKey().privateKey;
      const kid = keyId(other);
      const hash = await hashAt(db, 7);
      const signedAt = at(40).toISOString();
      await db.insertInto('audit_signature').values({ seq: 7, key_id: kid, hash, signed_at: signedAt, signature: signBytes(other, headMessage(7, hash, signedAt, kid)) }).execute();
    },
    first: /^signature at seq 7 \(2026-11-29T12:40:00.000Z\): names unknown key [0-9a-f]{16}/,
  },
  {
    name: "a key slipped into the key table to re-sign a recomputed chain",
    tamper: async (db) => {
      await db.updateTable('audit_log').set({ details: '{"n":999}' }).where('seq', '=', 3).execute();
      await recomputeFrom(db, 3);
      await db.deleteFrom('audit_signature').execute();
      const other = newKey().privateKey;
      await db.insertInto('audit_key').values({ key_id: keyId(other), public_key: publicKeyPem(other), created_at: at(1).toISOString(), endorsed_by: null, endorsement: null }).execute();
      await signAuditHead(db, other, at(41));
    },
    first: /^signature at seq 10 \(2026-11-29T12:41:00.000Z\): key [0-9a-f]{16} is kept beside the chain but not vouched for by the trusted key/,
  },
];

describe('audit trail tampering, through `lumetrax audit verify`', () => {
  if (skipped) test(skipped, { skip: skipped }, () => undefined);

  for (const kind of kinds) {
    describe(kind, () => {
      test('a clean trail: intact, with its entries, signatures and last signed seq', async () => {
        const key = newKey();
        const t = await signedTrail(kind, key.privateKey);
        try {
          const res = await runCli(['audit', 'verify'], { DATABASE_URL: t.database.url, AUDIT_SIGNING_KEY: key.pem });
          assert.equal(res.code, 0, res.stdout + res.stderr);
          assert.equal(res.stdout, 'Audit chain intact: 10 entries, 3 signatures (last signed at seq 10)\n');
        } finally {
          await t.close();
        }
      });

      for (const c of cases) {
        test(`${c.name} is found and named`, async () => {
          const key = newKey();
          const t = await signedTrail(kind, key.privateKey);
          try {
            await c.tamper(t.storage.db);
            const res = await runCli(['audit', 'verify'], { DATABASE_URL: t.database.url, AUDIT_SIGNING_KEY: key.pem });
            assert.equal(res.code, 1, res.stdout + res.stderr);
            const lines = res.stdout.trimEnd().split('\n');
            assert.match(lines[0], c.first, res.stdout);
            assert.doesNotMatch(res.stdout, /intact/);
            assert.equal(res.stderr, '');
          } finally {
            await t.close();
          }
        });
      }

      test('read a page at a time: signatures merged across page boundaries; a row appended past the head is named', async () => {
        const key = newKey();
        const t = await testDb(kind);
        try {
          const sizes = [999, 1, 1, 1499];
          let seq = 0;
          for (const [i, size] of sizes.entries()) {
            await t.storage.db.transaction().execute((trx) =>
              auditCollector(trx, Array.from({ length: size }, (_, j) => ({ at: at(i), input: { actor: 'test', action: 'bulk', entityType: 'thing', entityId: String(seq + j + 1) } }))),
            );
            seq += size;
            await signAuditHead(t.storage.db, key.privateKey, at(30 + i));
          }
          const clean = await verifyAuditTrail(t.storage.db, [key.privateKey]);
          assert.deepEqual([clean.findings, clean.entries, clean.signatures, clean.lastSignedSeq], [[], 2500, 4, 2500]);
          assert.deepEqual(await verifyAuditChain(t.storage.db), { ok: true, entries: 2500 });

          const last = await t.storage.db.selectFrom('audit_log').selectAll().where('seq', '=', 2500).executeTakeFirstOrThrow();
          const { hash: _h, ...appended } = { ...last, seq: 2501, entity_id: 'appended', prev_hash: last.hash };
          await t.storage.db.insertInto('audit_log').values({ ...appended, hash: entryHash(appended) }).execute();
          const check = await verifyAuditTrail(t.storage.db, [key.privateKey]);
          assert.deepEqual(check.findings.map((f) => f.message), ['entry 2501: not counted by the chain head (head at seq 2500, chain ends at seq 2501; inserted)']);
        } finally {
          await t.close();
        }
      });

      test('key rotation: signatures of the previous key stay checkable (the new key vouches for it); an unrelated key is not trusted', async () => {
        const first = newKey();
        const second = newKey();
        const t = await testDb(kind);
        try {
          await appendEntries(t.storage, 1, 4);
          await signAuditHead(t.storage.db, first.privateKey, at(30));
          await appendEntries(t.storage, 5, 8);
          await signAuditHead(t.storage.db, second.privateKey, at(31));
          const keys = await t.storage.db.selectFrom('audit_key').selectAll().orderBy('created_at').execute();
          assert.deepEqual(keys.map((k) => [k.key_id, k.endorsed_by]), [[keyId(first.privateKey), keyId(second.privateKey)], [keyId(second.privateKey), null]]);

          const check = await verifyAuditTrail(t.storage.db, [second.privateKey]);
          assert.deepEqual([check.findings, check.signatures, check.lastSignedSeq], [[], 2, 8]);
          const res = await runCli(['audit', 'verify'], { DATABASE_URL: t.database.url, AUDIT_SIGNING_KEY: second.pem });
          assert.equal(res.stdout, 'Audit chain intact: 8 entries, 2 signatures (last signed at seq 8)\n');

          // The endorsement binds the key: swapping in another public key under the old id breaks the trust path.
          const stranger = newKey().privateKey;
          await t.storage.db.updateTable('audit_key').set({ public_key: publicKeyPem(stranger) }).where('key_id', '=', keyId(first.privateKey)).execute();
          const swapped = await verifyAuditTrail(t.storage.db, [second.privateKey]);
          assert.match(swapped.findings[0]?.message ?? '', /^signature at seq 4 .*not vouched for/);
        } finally {
          await t.close();
        }
      });
    });
  }
});
