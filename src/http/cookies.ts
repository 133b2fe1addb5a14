// The only way the app sets a cookie: by name, with the attributes the policy declares
// for it. An undeclared name is a programming error, not a silent extra cookie.
import type { FastifyReply } from 'fastify';
import type { LoadedPolicy } from '../policy/load.ts';

export function setDeclaredCookie(reply: FastifyReply, policy: LoadedPolicy, secure: boolean, name: string, value: string, path = '/'): void {
  const declared = policy.policy.cookies.find((c) => c.name === name);
  if (!declared) throw new Error(`cookie "${name}" is not declared in the policy`);
  reply.setCookie(name, value, {
    path,
    httpOnly: declared.http_only,
    sameSite: declared.same_site,
    secure,
    maxAge: declared.lifetime_seconds,
  });
}

export function declaredCookieNames(policy: LoadedPolicy): Set<string> {
  return new Set(policy.policy.cookies.map((c) => c.name));
}
