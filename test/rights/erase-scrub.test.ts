// storage/scrub.ts on its own: with secure_delete on, a deleted row's text leaves the
// database pages, but the WAL still holds the frames written when it was inserted; the
// TRUNCATE checkpoint after a deletion is what clears them. On PostgreSQL the function
// says it could not scrub (see ARCHITECTURE.md, "Erasure").
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { scrubAfterDeletion } from '../../src/storage/scrub.ts';
import { testDb } from '../support/db.ts';

function onDisk(path: string): string {
  return [path, `${path}-wal`, `${path}-shm`].filter(existsSync).map((f) => readFileSync(f).toString('latin1')).join('');
}

describe('scrubbing after a deletion', () => {
  test('SQLite: the deleted text is in the WAL until the checkpoint, and nowhere after it', async () => {
    const { storage, database, close } = await testDb('sqlite');
    try {
      assert.equal(database.target.kind, 'sqlite');
      const path = database.target.kind === 'sqlite' ? database.target.path : '';
      const { rows } = await sql<{ secure_delete: number }>`PRAGMA secure_delete`.execute(storage.db);
      assert.equal(Number(rows[0].secure_delete), 1, 'every connection opens with secure_delete on');
      const secret = `scrub-${randomBytes(8).toString('hex')}`;
      const at = new Date().toISOString();
      await storage.db.insertInto('person').values({ id: 'p1', subject_key: 'k:1', email: `${secret}@example.com`, name: secret, created_at: at, updated_at: at }).execute();
      await storage.db.deleteFrom('person').where('id', '=', 'p1').execute();
      assert.ok(onDisk(path).includes(secret), 'before the checkpoint the WAL still holds the inserted page');
      const result = await scrubAfterDeletion(storage);
      assert.deepEqual({ kind: result.kind, complete: result.complete }, { kind: 'sqlite', complete: true });
      assert.ok(!onDisk(path).includes(secret), 'after it, no file holds the text');
      assert.equal(readFileSync(`${path}-wal`).length, 0, 'the WAL is truncated');
    } finally {
      await close();
    }
  });

  test('PostgreSQL: reported as not scrubbed by us', async (t) => {
    const { availableDbKinds } = await import('../support/db.ts');
    const { kinds, skipped } = await availableDbKinds();
    if (!kinds.includes('postgres')) return t.skip(skipped);
    const { storage, close } = await testDb('postgres');
    try {
      assert.deepEqual(await scrubAfterDeletion(storage), { kind: 'postgres', complete: false, attempts: 0 });
    } finally {
      await close();
    }
  });
});
