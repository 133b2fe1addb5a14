// SQL for staff accounts, set-up links, recovery codes and sessions. Secrets arrive here
// already hashed; nothing in this file sees a password or a cookie value.
import type { Kysely, Transaction } from 'kysely';
import type { Database, StaffAccountTable } from '../storage/types.ts';
import type { Role } from './roles.ts';

type Db = Kysely<Database> | Transaction<Database>;

export type StaffAccount = StaffAccountTable;

export async function findAccountByEmail(db: Db, email: string): Promise<StaffAccount | undefined> {
  return db.selectFrom('staff_account').selectAll().where('email', '=', email).executeTakeFirst();
}

export async function findAccountById(db: Db, id: string): Promise<StaffAccount | undefined> {
  return db.selectFrom('staff_account').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listAccounts(db: Db): Promise<StaffAccount[]> {
  return db.selectFrom('staff_account').selectAll().orderBy('email').execute();
}

export async function insertAccount(db: Db, row: { id: string; email: string; role: Role; at: string }): Promise<void> {
  await db
    .insertInto('staff_account')
    .values({ id: row.id, email: row.email, role: row.role, status: 'pending', password_hash: null, totp_secret: null, totp_last_step: null, created_at: row.at, updated_at: row.at })
    .execute();
}

export async function updateAccount(db: Db, id: string, set: Partial<Pick<StaffAccount, 'status' | 'password_hash' | 'totp_secret' | 'totp_last_step' | 'updated_at'>>): Promise<void> {
  await db.updateTable('staff_account').set(set).where('id', '=', id).execute();
}

/** One live link per account: a new one replaces (kills) any earlier one. */
export async function replaceSetupLink(db: Db, row: { tokenHash: string; accountId: string; totpSecret: string | null; at: string; expiresAt: string }): Promise<void> {
  await db.deleteFrom('staff_setup_link').where('account_id', '=', row.accountId).execute();
  await db
    .insertInto('staff_setup_link')
    .values({ token_hash: row.tokenHash, account_id: row.accountId, totp_secret: row.totpSecret, created_at: row.at, expires_at: row.expiresAt })
    .execute();
}

export async function findSetupLink(db: Db, tokenHash: string) {
  return db
    .selectFrom('staff_setup_link')
    .innerJoin('staff_account', 'staff_account.id', 'staff_setup_link.account_id')
    .select(['staff_setup_link.token_hash', 'staff_setup_link.account_id', 'staff_setup_link.totp_secret', 'staff_setup_link.expires_at', 'staff_account.email', 'staff_account.role', 'staff_account.status'])
    .where('staff_setup_link.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

export async function deleteSetupLinks(db: Db, accountId: string): Promise<void> {
  await db.deleteFrom('staff_setup_link').where('account_id', '=', accountId).execute();
}

export async function replaceRecoveryCodes(db: Db, accountId: string, hashes: string[], at: string): Promise<void> {
  await db.deleteFrom('staff_recovery_code').where('account_id', '=', accountId).execute();
  if (hashes.length > 0) await db.insertInto('staff_recovery_code').values(hashes.map((h) => ({ code_hash: h, account_id: accountId, created_at: at }))).execute();
}

/** Uses up a recovery code: true only for the one request that deletes it. */
export async function consumeRecoveryCode(db: Db, accountId: string, codeHash: string): Promise<boolean> {
  const result = await db.deleteFrom('staff_recovery_code').where('account_id', '=', accountId).where('code_hash', '=', codeHash).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

export async function countRecoveryCodes(db: Db, accountId: string): Promise<number> {
  const row = await db.selectFrom('staff_recovery_code').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function insertSession(db: Db, row: { id: string; tokenHash: string; accountId: string; csrfToken: string; at: string; expiresAt: string }): Promise<void> {
  await db
    .insertInto('staff_session')
    .values({ id: row.id, token_hash: row.tokenHash, account_id: row.accountId, csrf_token: row.csrfToken, created_at: row.at, last_seen_at: row.at, expires_at: row.expiresAt })
    .execute();
}

export async function findSession(db: Db, tokenHash: string) {
  return db
    .selectFrom('staff_session')
    .innerJoin('staff_account', 'staff_account.id', 'staff_session.account_id')
    .select(['staff_session.id', 'staff_session.account_id', 'staff_session.csrf_token', 'staff_session.created_at', 'staff_session.last_seen_at', 'staff_session.expires_at', 'staff_account.email', 'staff_account.role', 'staff_account.status'])
    .where('staff_session.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

export async function touchSession(db: Db, id: string, at: string): Promise<void> {
  await db.updateTable('staff_session').set({ last_seen_at: at }).where('id', '=', id).execute();
}

export async function deleteSession(db: Db, id: string): Promise<boolean> {
  const result = await db.deleteFrom('staff_session').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

export async function deleteSessionsOf(db: Db, accountId: string): Promise<number> {
  const result = await db.deleteFrom('staff_session').where('account_id', '=', accountId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function countSessionsOf(db: Db, accountId: string): Promise<number> {
  const row = await db.selectFrom('staff_session').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Removes every session past its absolute or idle limit (staff sessions are few). */
export async function deleteDeadSessions(db: Db, now: string, idleCutoff: string): Promise<number> {
  const result = await db
    .deleteFrom('staff_session')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', idleCutoff)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Removes set-up links past their expiry. */
export async function deleteExpiredSetupLinks(db: Db, now: string): Promise<number> {
  const result = await db.deleteFrom('staff_setup_link').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Records `step` as the last TOTP step used, only if it is later than the one recorded. */
export async function claimTotpStep(db: Db, accountId: string, step: number): Promise<boolean> {
  const result = await db
    .updateTable('staff_account')
    .set({ totp_last_step: step })
    .where('id', '=', accountId)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
