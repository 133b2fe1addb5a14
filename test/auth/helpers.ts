// Staff accounts for tests, made the way people make them: a set-up link (from the use
// case or the CLI), the set-up page over HTTP, then the sign-in form.
import assert from 'node:assert/strict';
import { Secret, TOTP } from 'otpauth';
import { addAccount } from '../../src/auth/accounts.ts';
import type { Role } from '../../src/auth/roles.ts';
import type { TestServer } from '../support/server.ts';

export const STRONG_PASSWORD = 'lantern orbit velvet harbour 42';

/** The server's clock, moved by hand. */
export class Clock {
  t = Date.now();
  now = () => new Date(this.t);
  advance(ms: number): void {
    this.t += ms;
  }
}

export const sameOrigin = (url: string) => ({ 'content-type': 'application/x-www-form-urlencoded', origin: url, 'sec-fetch-site': 'same-origin' });

export function post(url: string, path: string, fields: Record<string, string>, cookie?: string): Promise<Response> {
  return fetch(`${url}${path}`, { method: 'POST', redirect: 'manual', headers: { ...sameOrigin(url), ...(cookie ? { cookie } : {}) }, body: new URLSearchParams(fields).toString() });
}

export function get(url: string, path: string, cookie?: string): Promise<Response> {
  return fetch(`${url}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
}

export function totpCode(secret: string, at: number): string {
  return new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({ timestamp: at });
}

/** `lt_console=VALUE` from a response, for a Cookie header. */
export function sessionCookie(res: Response): string | undefined {
  const c = res.headers.getSetCookie().find((x) => x.startsWith('lt_console='));
  return c?.split(';')[0];
}

export function tokenOf(link: string): string {
  const token = new URL(link).searchParams.get('token');
  assert.ok(token, `a token in ${link}`);
  return token;
}

/** GETs the set-up page: the TOTP secret shown as text, if the role needs one. */
export async function openSetup(url: string, token: string): Promise<{ res: Response; body: string; secret?: string }> {
  const res = await get(url, `/console/setup?token=${encodeURIComponent(token)}`);
  const body = await res.text();
  const secret = /Secret: <code>([A-Z2-7 ]+)<\/code>/.exec(body)?.[1].replace(/ /g, '');
  return { res, body, secret };
}

export async function csrfOf(url: string, cookie: string): Promise<string> {
  const body = await (await get(url, '/console', cookie)).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(body)?.[1];
  assert.ok(csrf, 'the console page carries a CSRF token');
  return csrf;
}

export interface Staff {
  email: string;
  role: Role;
  accountId: string;
  secret?: string;
  cookie: string;
  csrf: string;
}

/** Adds an account, sets it up over HTTP and signs it in. Moves the clock past the set-up code. */
export async function makeStaff(server: TestServer, clock: Clock, role: Role, email = `${role}-${Math.random().toString(36).slice(2, 8)}@staff.example.com`): Promise<Staff> {
  const link = await addAccount(server.running.deps, { email, role }, { kind: 'cli' });
  const token = tokenOf(link.url);
  const { secret } = await openSetup(server.url, token);
  const setup = await post(server.url, '/console/setup', { token, password: STRONG_PASSWORD, confirm: STRONG_PASSWORD, code: secret ? totpCode(secret, clock.t) : '' });
  assert.equal(setup.status, 200, `set-up of ${role}: ${await setup.text()}`);
  clock.advance(30_000); // a TOTP code is good once: the next sign-in needs the next one
  const res = await post(server.url, '/console/sign-in', { email, password: STRONG_PASSWORD, code: secret ? totpCode(secret, clock.t) : '' });
  assert.equal(res.status, 303, `sign-in of ${role}`);
  const cookie = sessionCookie(res);
  assert.ok(cookie);
  return { email, role, accountId: link.accountId, secret, cookie, csrf: await csrfOf(server.url, cookie) };
}
