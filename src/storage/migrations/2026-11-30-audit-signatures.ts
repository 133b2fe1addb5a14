// Frozen: never edit a migration that has shipped; add a new one.
//
// Signatures of the audit chain head, kept beside the chain. Each covers (seq, hash of the
// head at that seq, signed_at, key id), so a tail cut off together with the head, or a
// chain recomputed from an edited entry, no longer matches what was signed. The public
// keys are kept too (a rotated key's signatures stay checkable); each key is vouched for
// by the key that replaced it, so a key slipped into this table is not trusted.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('audit_key')
    .addColumn('key_id', 'text', (c) => c.primaryKey())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('endorsed_by', 'text')
    .addColumn('endorsement', 'text')
    .execute();
  await db.schema
    .createTable('audit_signature')
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('signed_at', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_signature_pk', ['seq', 'key_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('audit_signature').execute();
  await db.schema.dropTable('audit_key').execute();
}
