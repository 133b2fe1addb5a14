// Every route says who may use it, in its config: `access: 'public'` or a list of roles,
// e.g. `access: ['privacy', 'admin']`. A route without a declaration stops the start
// (buildApp throws), so a new page can never be reachable by accident. Routes with roles
// get the staff gate as their first preHandler: it loads the session, refuses anonymous
// clients (GET: redirect to sign-in; otherwise 401) and other roles (403), checks
// console posts (same-origin and the session's CSRF token), and sets `req.staff`.
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Deps } from '../deps.ts';
import { AppError } from '../http/errors.ts';
import { html } from '../http/html.ts';
import { isUnavailableError } from '../storage/db.ts';
import { isCrossSite } from '../http/origin.ts';
import { render, statusBody } from '../http/render.ts';
import { isRole, type Role } from './roles.ts';
import { loadSession, sameToken, type StaffContext } from './sessions.ts';

export type Access = 'public' | readonly Role[];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may use the route: 'public' or the staff roles allowed. Required on every route. */
    access?: Access;
  }
  interface FastifyInstance {
    /** Every route with its declared access, in registration order (for tests and tools). */
    declaredRoutes: DeclaredRoute[];
  }
  interface FastifyRequest {
    /** Set by the staff gate on routes with roles: the signed-in account and its session. */
    staff?: StaffContext;
  }
}

/** Routes added by plugins that cannot carry route config: public by this declaration. */
const PLUGIN_PUBLIC_ROUTES = new Set(['/static/*']);

/** The name of the hidden field holding the session's CSRF token in console forms. */
export const CSRF_FIELD = 'csrf';

export interface DeclaredRoute {
  method: string;
  url: string;
  access: Access;
}

function refuse(reply: FastifyReply, deps: Deps, status: 401 | 403, heading: string, message: string) {
  reply.header('cache-control', 'no-store');
  const next = status === 401 ? html`<a href="/console/sign-in">Sign in</a>` : html`<a href="/console">Console home</a>`;
  return reply.send(render(reply, status, { title: heading, orgName: deps.policy.policy.organisation.name, path: '', noindex: true, nav: [], footer: false, body: statusBody(heading, message, next) }));
}

/** A database outage reads as 503 with a plain message, not as a failure of ours (500). */
export function unavailable(error: unknown): never {
  if (isUnavailableError(error)) throw new AppError('unavailable', 'The console cannot reach its database right now.');
  throw error;
}

/** The preHandler that guards routes open to `allowed` roles only. */
export function staffGate(deps: Deps, allowed: readonly Role[]) {
  return async function staffGateHandler(req: FastifyRequest, reply: FastifyReply) {
    reply.header('cache-control', 'no-store');
    const staff = await loadSession(deps, req).catch(unavailable);
    const reading = req.method === 'GET' || req.method === 'HEAD';
    if (!staff) {
      if (reading) return reply.redirect('/console/sign-in', 303);
      return refuse(reply, deps, 401, 'Please sign in', 'Your session has ended or you are not signed in. Sign in and try again.');
    }
    if (!allowed.includes(staff.role)) return refuse(reply, deps, 403, 'Not allowed', 'Your role does not give access to this page.');
    if (!reading) {
      if (isCrossSite(req.headers, deps.config.publicUrl, req.headers.host)) return refuse(reply, deps, 403, 'Form refused', 'Console forms can only be sent from the console itself.');
      const body = (req.body ?? {}) as Record<string, unknown>;
      const token = body[CSRF_FIELD];
      if (typeof token !== 'string' || !sameToken(token, staff.csrfToken)) {
        return refuse(reply, deps, 403, 'Form refused', 'This form is out of date. Go back, reload the page and send it again.');
      }
    }
    req.staff = staff;
  };
}

/**
 * The onRoute hook: refuses a route without a declaration and puts the staff gate in
 * front of every route that names roles. `routes` lists every declared route (tests
 * enumerate it to check each one refuses who it must).
 */
export function routeAccess(deps: Deps) {
  const routes: DeclaredRoute[] = [];
  const gates = new Map<string, ReturnType<typeof staffGate>>();
  const onRoute = (route: RouteOptions) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).map(String);
    let access = route.config?.access;
    if (access === undefined && PLUGIN_PUBLIC_ROUTES.has(route.url)) access = 'public';
    if (access === undefined) {
      throw new Error(`route ${methods.join(',')} ${route.url} declares no access: add config.access ('public' or a list of roles)`);
    }
    if (access !== 'public') {
      if (!Array.isArray(access) || access.length === 0 || !access.every(isRole)) {
        throw new Error(`route ${methods.join(',')} ${route.url}: access must be 'public' or a non-empty list of roles`);
      }
      const key = [...access].sort().join(',');
      let gate = gates.get(key);
      if (!gate) gates.set(key, (gate = staffGate(deps, access)));
      const existing = route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
      // The gate must come first, before any limiter or handler work.
      if (!existing.includes(gate)) route.preHandler = [gate, ...existing];
    }
    for (const method of methods) routes.push({ method, url: route.url, access });
  };
  return { onRoute, routes };
}
