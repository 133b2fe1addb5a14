// Server-side sessions. The cookie holds 32 random bytes; the database holds only their
// SHA-256, so a copy of the database cannot be replayed as a cookie. Each session has its
// own id (named in the audit trail) and its own CSRF token for console forms.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import { setDeclaredCookie } from '../http/cookies.ts';
import type { Role } from './roles.ts';
import { inTransaction } from '../unit-of-work.ts';
import { deleteSession, findSession, insertSession, touchSession } from './store.ts';

export const SESSION_COOKIE = 'lt_console';
/** The cookie is sent only to console addresses, never with public page views. */
export const SESSION_COOKIE_PATH = '/console';

export interface StaffContext {
  accountId: string;
  email: string;
  role: Role;
  sessionId: string;
  csrfToken: string;
}

export const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

type SessionDeps = Pick<Deps, 'storage' | 'now' | 'config' | 'mailQueued'>;

/** Creates the row inside the caller's transaction; returns the cookie value and ids. */
export async function createSession(deps: SessionDeps, trx: Parameters<typeof insertSession>[0], accountId: string, now: Date): Promise<{ cookie: string; sessionId: string }> {
  const cookie = randomToken();
  const sessionId = randomUUID();
  await insertSession(trx, {
    id: sessionId,
    tokenHash: sha256(cookie),
    accountId,
    csrfToken: randomToken(24),
    at: now.toISOString(),
    expiresAt: new Date(now.getTime() + deps.config.staffSessionMaxHours * 3_600_000).toISOString(),
  });
  return { cookie, sessionId };
}

/**
 * The session the request's cookie names, if it is live: the account active, the
 * absolute lifetime not over, and not idle longer than the idle timeout. A dead session
 * is deleted when seen. A live one has its last-seen time moved on.
 */
export async function loadSession(deps: SessionDeps, req: FastifyRequest): Promise<StaffContext | undefined> {
  const value = req.cookies?.[SESSION_COOKIE];
  if (typeof value !== 'string' || value.length < 20 || value.length > 100) return undefined;
  const db = deps.storage.db;
  const row = await findSession(db, sha256(value));
  if (!row) return undefined;
  const now = deps.now();
  const idleLimit = new Date(row.last_seen_at).getTime() + deps.config.staffSessionIdleMinutes * 60_000;
  const ended = row.status !== 'active' ? 'account_inactive' : now.getTime() >= new Date(row.expires_at).getTime() ? 'absolute_timeout' : now.getTime() >= idleLimit ? 'idle_timeout' : undefined;
  if (ended) {
    // Ended by the clock (or a disabled account), not by the person: recorded all the same.
    await inTransaction(deps, async (uow) => {
      if (await deleteSession(uow.trx, row.id)) uow.audit({ actor: 'system', action: 'staff.session_ended', entityType: 'staff_account', entityId: row.account_id, details: { session: row.id, reason: ended } });
    });
    return undefined;
  }
  // One write per request is cheap next to the console's own queries and keeps idle exact.
  await touchSession(db, row.id, now.toISOString());
  return { accountId: row.account_id, email: row.email, role: row.role, sessionId: row.id, csrfToken: row.csrf_token };
}

export function setSessionCookie(reply: FastifyReply, deps: Pick<Deps, 'policy' | 'config'>, value: string): void {
  setDeclaredCookie(reply, deps.policy, deps.config.https, SESSION_COOKIE, value, SESSION_COOKIE_PATH);
}

export function clearSessionCookie(reply: FastifyReply, deps: Pick<Deps, 'config'>): void {
  reply.clearCookie(SESSION_COOKIE, { path: SESSION_COOKIE_PATH, httpOnly: true, sameSite: 'strict', secure: deps.config.https });
}
