// The console's page shell: the shared layout (src/http/render.ts) with the console's own
// nav, built from the signed-in person's role so nobody is shown a link they may not use.
// Console pages are never cached and never indexed. Console forms must carry csrfField(req).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import { CSRF_FIELD } from '../auth/access.ts';
import type { Role } from '../auth/roles.ts';
import { html, type SafeHtml } from '../http/html.ts';
import type { NavItems } from '../http/layout.ts';
import { render } from '../http/render.ts';

/** Console sections: another section adds its entry here with the roles that may open it. */
export const consoleSections: Array<{ href: string; label: string; roles: readonly Role[] }> = [
  { href: '/console', label: 'Overview', roles: ['admin', 'privacy', 'sales'] },
  { href: '/console/inquiries', label: 'Inquiries', roles: ['sales', 'privacy'] },
  { href: '/console/triage', label: 'Triage', roles: ['sales', 'privacy'] },
  { href: '/console/audit', label: 'Audit trail', roles: ['privacy', 'admin'] },
  { href: '/console/accounts', label: 'Accounts', roles: ['admin'] },
  { href: '/console/retention', label: 'Retention', roles: ['privacy'] },
  { href: '/console/analytics', label: 'Analytics', roles: ['admin', 'privacy', 'sales'] },
  { href: '/console/requests', label: 'Privacy requests', roles: ['privacy'] },
];

export function consoleNav(role: Role | undefined): NavItems {
  return role ? consoleSections.filter((s) => s.roles.includes(role)).map((s) => [s.href, s.label] as const) : [];
}

/** The hidden field every console form must carry (checked by the staff gate). */
export function csrfField(req: FastifyRequest): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${req.staff?.csrfToken ?? ''}">`;
}

function consoleFooter(req: FastifyRequest): SafeHtml | false {
  if (!req.staff) return false;
  return html`<form method="post" action="/console/sign-out" class="sign-out">${csrfField(req)}<p>Signed in as ${req.staff.email} (${req.staff.role}). <button type="submit">Sign out</button></p></form>`;
}

export interface ConsolePageOptions {
  title: string;
  body: SafeHtml;
  status?: number;
  /** The nav entry to mark as current; defaults to the request's path. */
  path?: string;
}

/** Renders a console page (status 200 unless given) and returns its HTML. */
export function consolePage(deps: Pick<Deps, 'policy'>, req: FastifyRequest, reply: FastifyReply, options: ConsolePageOptions): string {
  return render(reply, options.status ?? 200, {
    title: options.title,
    orgName: `${deps.policy.policy.organisation.name} console`,
    path: options.path ?? req.url.split('?')[0],
    body: options.body,
    description: `${options.title}: ${deps.policy.policy.organisation.name} staff console.`,
    nav: consoleNav(req.staff?.role),
    footer: consoleFooter(req),
    noindex: true,
    noStore: true,
  });
}
