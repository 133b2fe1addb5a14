// Frozen: never edit a migration that has shipped; add a new one.
//
// Staff accounts for the console. Secrets are stored only as hashes: the password as an
// argon2id PHC string, set-up links, session cookies and recovery codes as SHA-256 of
// random values (they carry 256 bits, so a plain hash is enough). TOTP secrets must stay
// readable, so they are sealed with a key derived from SECRET_KEY (auth/totp-seal.ts).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('staff_account')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // Lower-cased; the sign-in form lower-cases what is typed the same way.
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('role', 'text', (c) => c.notNull())
    // pending (link not yet used) | active | disabled
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text')
    .addColumn('totp_secret', 'text')
    // The 30-second step of the last code accepted: a code is good once.
    .addColumn('totp_last_step', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('staff_setup_link')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('staff_account.id').onDelete('cascade'))
    // The TOTP secret offered on the set-up page, fixed with the link so a reload shows the same QR code.
    .addColumn('totp_secret', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('staff_setup_link_account').on('staff_setup_link').column('account_id').execute();

  await db.schema
    .createTable('staff_recovery_code')
    .addColumn('code_hash', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('staff_account.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('staff_recovery_code_account').on('staff_recovery_code').column('account_id').execute();

  await db.schema
    .createTable('staff_session')
    // The id names the session in the audit trail; the cookie's value is known only by its hash.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('account_id', 'text', (c) => c.notNull().references('staff_account.id').onDelete('cascade'))
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('staff_session_account').on('staff_session').column('account_id').execute();
}
