// Account use cases, shared by the CLI and the console: add, list, disable, reset, the
// set-up link, sign-in and sign-out. Every change is one unit of work with its audit
// entry; audit entries name the account by id (never its address) and the session by id.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Deps } from '../deps.ts';
import { inTransaction } from '../unit-of-work.ts';
import { costsFrom, dummyHash, hashPassword, passwordProblem, verifyPassword } from './passwords.ts';
import { needsTotp, type Role } from './roles.ts';
import type { SignInThrottle } from './throttle.ts';
import { createSession, randomToken, sha256 } from './sessions.ts';
import {
  claimTotpStep,
  consumeRecoveryCode,
  deleteDeadSessions,
  deleteSessionsOf,
  deleteSetupLinks,
  findAccountByEmail,
  findAccountById,
  findSetupLink,
  insertAccount,
  listAccounts as listAccountRows,
  replaceRecoveryCodes,
  replaceSetupLink,
  updateAccount,
  type StaffAccount,
} from './store.ts';
import { newTotpSecret, totpStep } from './totp.ts';
import { openTotp, sealedUnderCurrentKey, sealTotp } from './totp-seal.ts';

type AccountDeps = Pick<Deps, 'storage' | 'now' | 'mailQueued' | 'config'>;

/** Who made a change: the CLI, or a signed-in staff member and their session. */
export type Actor = { kind: 'cli' } | { kind: 'staff'; accountId: string; sessionId: string };

const actorName = (a: Actor) => (a.kind === 'cli' ? 'cli' : a.accountId);
const actorDetails = (a: Actor): Record<string, string> => (a.kind === 'staff' ? { session: a.sessionId } : {});

export class AccountError extends Error {}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

// A plain shape check: the address is typed by an administrator, not a visitor.
// Control characters are refused too (PostgreSQL cannot store NUL in text).
const EMAIL = /^[^\s@<>",;\p{Cc}]+@[^\s@<>",;\p{Cc}]+\.[^\s@<>",;\p{Cc}]+$/u;

export function setupUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/console/setup?token=${token}`;
}

async function issueLink(deps: AccountDeps, trx: Parameters<typeof replaceSetupLink>[0], account: { id: string; role: Role }, now: Date): Promise<{ token: string; expiresAt: string }> {
  const token = randomToken();
  const expiresAt = new Date(now.getTime() + deps.config.staffSetupLinkHours * 3_600_000).toISOString();
  await replaceSetupLink(trx, { tokenHash: sha256(token), accountId: account.id, totpSecret: needsTotp(account.role) ? sealTotp(deps.config, newTotpSecret()) : null, at: now.toISOString(), expiresAt });
  return { token, expiresAt };
}

export interface IssuedLink {
  accountId: string;
  url: string;
  expiresAt: string;
}

export async function addAccount(deps: AccountDeps, input: { email: string; role: Role }, actor: Actor): Promise<IssuedLink> {
  const email = normaliseEmail(input.email);
  if (!EMAIL.test(email) || email.length > 254) throw new AccountError('That is not an email address.');
  return inTransaction(deps, async (uow) => {
    if (await findAccountByEmail(uow.trx, email)) throw new AccountError('An account with that email address already exists.');
    const id = randomUUID();
    await insertAccount(uow.trx, { id, email, role: input.role, at: uow.now.toISOString() });
    const link = await issueLink(deps, uow.trx, { id, role: input.role }, uow.now);
    uow.audit({ actor: actorName(actor), action: 'staff.account_added', entityType: 'staff_account', entityId: id, details: { role: input.role, ...actorDetails(actor) } });
    return { accountId: id, url: setupUrl(deps.config.publicUrl, link.token), expiresAt: link.expiresAt };
  });
}

export async function listAccounts(deps: Pick<Deps, 'storage'>): Promise<StaffAccount[]> {
  return listAccountRows(deps.storage.db);
}

async function findTarget(deps: AccountDeps, trx: Parameters<typeof findAccountById>[0], ref: { email?: string; id?: string }): Promise<StaffAccount> {
  const account = ref.id ? await findAccountById(trx, ref.id) : ref.email ? await findAccountByEmail(trx, normaliseEmail(ref.email)) : undefined;
  if (!account) throw new AccountError('There is no account with that email address.');
  return account;
}

/** Disables the account and ends every session it has at once. */
export async function disableAccount(deps: AccountDeps, ref: { email?: string; id?: string }, actor: Actor): Promise<{ accountId: string; sessionsEnded: number }> {
  return inTransaction(deps, async (uow) => {
    const account = await findTarget(deps, uow.trx, ref);
    await updateAccount(uow.trx, account.id, { status: 'disabled', updated_at: uow.now.toISOString() });
    const sessionsEnded = await deleteSessionsOf(uow.trx, account.id);
    await deleteSetupLinks(uow.trx, account.id);
    uow.audit({ actor: actorName(actor), action: 'staff.account_disabled', entityType: 'staff_account', entityId: account.id, details: { sessions_ended: sessionsEnded, ...actorDetails(actor) } });
    return { accountId: account.id, sessionsEnded };
  });
}

/**
 * A new set-up link; any earlier link stops working. The password, authenticator and
 * recovery codes are cleared and sessions ended: a reset is for a lost or exposed secret.
 */
export async function resetAccount(deps: AccountDeps, ref: { email?: string; id?: string }, actor: Actor): Promise<IssuedLink> {
  return inTransaction(deps, async (uow) => {
    const account = await findTarget(deps, uow.trx, ref);
    await updateAccount(uow.trx, account.id, { status: 'pending', password_hash: null, totp_secret: null, totp_last_step: null, updated_at: uow.now.toISOString() });
    await replaceRecoveryCodes(uow.trx, account.id, [], uow.now.toISOString());
    const sessionsEnded = await deleteSessionsOf(uow.trx, account.id);
    const link = await issueLink(deps, uow.trx, account, uow.now);
    uow.audit({ actor: actorName(actor), action: 'staff.account_reset', entityType: 'staff_account', entityId: account.id, details: { sessions_ended: sessionsEnded, ...actorDetails(actor) } });
    return { accountId: account.id, url: setupUrl(deps.config.publicUrl, link.token), expiresAt: link.expiresAt };
  });
}

export interface SetupLinkView {
  accountId: string;
  email: string;
  role: Role;
  /** The plain secret (opened from its sealed form). */
  totpSecret: string | null;
  /** As stored: moved to the account unchanged when set-up completes. */
  sealedTotpSecret: string | null;
}

/** The account a set-up token opens, if the link is live (unused, not replaced, not expired). */
export async function openSetupLink(deps: Pick<Deps, 'storage' | 'now' | 'config'>, token: unknown): Promise<SetupLinkView | undefined> {
  if (typeof token !== 'string' || token.length < 20 || token.length > 100) return undefined;
  const link = await findSetupLink(deps.storage.db, sha256(token));
  if (!link || link.status !== 'pending' || deps.now().toISOString() >= link.expires_at) return undefined;
  const totpSecret = link.totp_secret ? openTotp(deps.config, link.totp_secret) : null;
  // A link sealed under a key no longer configured cannot show its secret: it is dead.
  if (totpSecret === undefined) return undefined;
  return { accountId: link.account_id, email: link.email, role: link.role, totpSecret, sealedTotpSecret: link.totp_secret };
}

export type SetupResult =
  | { ok: true; recoveryCodes: string[] }
  | { ok: false; field: 'password' | 'confirm' | 'code' | 'link'; message: string };

function newRecoveryCode(): string {
  // 80 random bits in four groups of four (base32 letters and digits, no padding).
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(16);
  let code = '';
  for (let i = 0; i < 16; i++) code += alphabet[bytes[i] % 32] + (i % 4 === 3 && i < 15 ? '-' : '');
  return code;
}

const normaliseRecoveryCode = (code: string) => code.toLowerCase().replace(/[^a-z0-9]/g, '');

export async function completeSetup(deps: AccountDeps, token: unknown, input: { password: string; confirm: string; code: string }): Promise<SetupResult> {
  const link = await openSetupLink(deps, token);
  if (!link) return { ok: false, field: 'link', message: 'This set-up link is no longer valid.' };
  const problem = passwordProblem(input.password, [link.email, ...link.email.split(/[@.]/)]);
  if (problem) return { ok: false, field: 'password', message: problem };
  if (input.password !== input.confirm) return { ok: false, field: 'confirm', message: 'The two passwords are not the same. Type the password again in both boxes.' };
  let step: number | null = null;
  if (link.totpSecret) {
    step = totpStep(link.totpSecret, input.code, deps.now()) ?? null;
    if (step === null) return { ok: false, field: 'code', message: 'That code is not right. Enter the 6-digit code your authenticator app shows now.' };
  }
  const hash = await hashPassword(input.password, costsFrom(deps.config));
  const codes = link.totpSecret ? Array.from({ length: 10 }, newRecoveryCode) : [];
  const done = await inTransaction(deps, async (uow) => {
    // Deleting the link is what makes it single-use: of two concurrent posts, one wins.
    const removed = await uow.trx.deleteFrom('staff_setup_link').where('token_hash', '=', sha256(token as string)).executeTakeFirst();
    if (Number(removed.numDeletedRows) !== 1) return false;
    await updateAccount(uow.trx, link.accountId, { status: 'active', password_hash: hash, totp_secret: link.sealedTotpSecret, totp_last_step: step, updated_at: uow.now.toISOString() });
    await replaceRecoveryCodes(uow.trx, link.accountId, codes.map((c) => sha256(normaliseRecoveryCode(c))), uow.now.toISOString());
    uow.audit({ actor: link.accountId, action: 'staff.setup_completed', entityType: 'staff_account', entityId: link.accountId, details: { totp: Boolean(link.totpSecret), recovery_codes: codes.length } });
    return true;
  });
  if (!done) return { ok: false, field: 'link', message: 'This set-up link is no longer valid.' };
  return { ok: true, recoveryCodes: codes };
}

export type SignInResult =
  | { ok: true; cookie: string; sessionId: string; accountId: string }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

export interface SignInInput {
  email: string;
  password: string;
  code: string;
  clientAddress: string;
}

/**
 * Answers alike whether or not the account exists, and takes the same time: argon2 runs
 * against a dummy hash when there is no account, and the TOTP check runs for every
 * attempt. Throttled per account (failures) and per client address (attempts).
 */
export async function signIn(deps: AccountDeps & Pick<Deps, 'signer'>, throttle: SignInThrottle, input: SignInInput): Promise<SignInResult> {
  const typed = normaliseEmail(input.email).slice(0, 254);
  // What no account can have is looked up as nothing (a NUL would fail the query on PostgreSQL).
  const email = EMAIL.test(typed) ? typed : '';
  const now = deps.now();
  const accountKey = `a:${deps.signer.keyedHash('sign-in-account', typed)}`;
  const addressKey = `c:${deps.signer.keyedHash('sign-in-address', input.clientAddress)}`;
  const t = now.getTime();
  const account = email ? await findAccountByEmail(deps.storage.db, email) : undefined;
  const entityId = account?.id ?? 'unknown';

  const [byAccount, byAddress] = await Promise.all([throttle.read(accountKey, t), throttle.read(addressKey, t)]);
  if (byAccount.n >= deps.config.signInMaxFailures || byAddress.n >= deps.config.signInMaxPerAddress) {
    await inTransaction(deps, async (uow) => {
      uow.audit({ actor: 'anonymous', action: 'staff.sign_in_failed', entityType: 'staff_account', entityId, details: { reason: 'throttled' } });
    });
    return { ok: false, reason: 'throttled', retryAfterSeconds: Math.max(byAccount.retryAfterSeconds, byAddress.retryAfterSeconds, 1) };
  }
  await throttle.add(addressKey, t);

  const password = input.password.slice(0, 1024);
  const passwordOk = await verifyPassword(password, account?.password_hash ?? (await dummyHash(costsFrom(deps.config))));
  let codeOk = true;
  let step: number | null = null;
  let usedRecovery = false;
  const secret = account?.totp_secret ? (openTotp(deps.config, account.totp_secret) ?? null) : null;
  if (!account || needsTotp(account.role)) {
    step = totpStep(secret ?? 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', input.code, now) ?? null;
    codeOk = secret !== null && step !== null && (account?.totp_last_step ?? -1) < step;
    if (!codeOk && passwordOk && account && input.code.trim().length > 8) {
      usedRecovery = await consumeRecoveryCode(deps.storage.db, account.id, sha256(normaliseRecoveryCode(input.code)));
      codeOk = usedRecovery;
    }
  }
  const ok = account !== undefined && account.status === 'active' && passwordOk && codeOk;
  const fail = async (reason: string): Promise<SignInResult> => {
    await throttle.add(accountKey, t);
    await inTransaction(deps, async (uow) => {
      uow.audit({ actor: 'anonymous', action: 'staff.sign_in_failed', entityType: 'staff_account', entityId, details: { reason } });
    });
    return { ok: false, reason: 'invalid' };
  };
  if (!ok) return fail(!account ? 'unknown_account' : account.status !== 'active' ? 'inactive' : !passwordOk ? 'password' : 'code');
  const signedIn = await inTransaction(deps, async (uow) => {
    // Of two sign-ins racing with one code, only the first moves the step on.
    if (step !== null && !usedRecovery && !(await claimTotpStep(uow.trx, account.id, step))) return undefined;
    // After a key rotation, the secret moves under the current key while it can still be opened.
    if (secret && account.totp_secret && !sealedUnderCurrentKey(deps.config, account.totp_secret)) await updateAccount(uow.trx, account.id, { totp_secret: sealTotp(deps.config, secret) });
    // Housekeeping: sessions that lapsed unseen (anyone's) are removed at each sign-in.
    await deleteDeadSessions(uow.trx, uow.now.toISOString(), new Date(uow.now.getTime() - deps.config.staffSessionIdleMinutes * 60_000).toISOString());
    const session = await createSession(deps, uow.trx, account.id, uow.now);
    uow.audit({ actor: account.id, action: 'staff.signed_in', entityType: 'staff_account', entityId: account.id, details: { session: session.sessionId, ...(usedRecovery ? { recovery_code: true } : {}) } });
    return { ok: true as const, cookie: session.cookie, sessionId: session.sessionId, accountId: account.id };
  });
  if (!signedIn) return fail('code_reused');
  await throttle.clear(accountKey);
  return signedIn;
}

export async function signOut(deps: AccountDeps, staff: { accountId: string; sessionId: string }): Promise<void> {
  await inTransaction(deps, async (uow) => {
    await uow.trx.deleteFrom('staff_session').where('id', '=', staff.sessionId).execute();
    uow.audit({ actor: staff.accountId, action: 'staff.signed_out', entityType: 'staff_account', entityId: staff.accountId, details: { session: staff.sessionId } });
  });
}
