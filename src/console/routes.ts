// The console's own pages: the overview every role sees and, for admins, accounts (the
// same as `lumetrax user ...`). Other sections register their routes in their own files
// and add themselves to consoleSections (src/console/layout.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import { AccountError, addAccount, disableAccount, listAccounts, resetAccount, type IssuedLink } from '../auth/accounts.ts';
import { isRole, needsTotp, ROLES } from '../auth/roles.ts';
import { countSessionsOf } from '../auth/store.ts';
import { html, type SafeHtml } from '../http/html.ts';
import { consolePage, consoleSections, csrfField } from './layout.ts';

const when = (iso: string) => iso.slice(0, 16).replace('T', ' ') + ' UTC';

export async function consoleRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  app.get('/console', { config: { access: ROLES } }, async (req, reply) => {
    const staff = req.staff!;
    const sections = consoleSections.filter((s) => s.href !== '/console' && s.roles.includes(staff.role));
    const sessions = await countSessionsOf(deps.storage.db, staff.accountId);
    return consolePage(deps, req, reply, {
      title: 'Console overview',
      body: html`<h1>Console overview</h1>
<p>You are signed in as <strong>${staff.email}</strong>, role <strong>${staff.role}</strong>${needsTotp(staff.role) ? ', with an authenticator code' : ''}. You have ${sessions} open ${sessions === 1 ? 'session' : 'sessions'}. Sessions end after ${deps.config.staffSessionIdleMinutes} minutes without activity and at most ${deps.config.staffSessionMaxHours} hours after sign-in.</p>
<h2>What you can do here</h2>
${sections.length > 0 ? html`<ul>${sections.map((s) => html`<li><a href="${s.href}">${s.label}</a></li>`)}</ul>` : html`<p>No console sections are open to your role yet.</p>`}
<p class="muted">Every sign-in, sign-out and account change is recorded in the audit trail, with your account and session.</p>`,
    });
  });

  const actorOf = (req: FastifyRequest) => ({ kind: 'staff' as const, accountId: req.staff!.accountId, sessionId: req.staff!.sessionId });

  const accountsPage = async (req: FastifyRequest, reply: FastifyReply, status = 200, notice?: SafeHtml, error?: string, typed = { email: '', role: 'sales' }) => {
    const accounts = await listAccounts(deps);
    return consolePage(deps, req, reply, {
      title: error ? 'Error: Accounts' : 'Accounts',
      status,
      path: '/console/accounts',
      body: html`<h1>Accounts</h1>
${notice ? html`<div class="notice-banner" role="status">${notice}</div>` : ''}
<div class="table-wrap"><table class="data-table">
<caption>Console accounts</caption>
<thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Changed</th><th scope="col">Actions</th></tr></thead>
<tbody>
${accounts.map(
  (a) => html`<tr><th scope="row">${a.email}</th><td>${a.role}</td><td>${a.status === 'pending' ? 'set-up link sent' : a.status}</td><td>${when(a.updated_at)}</td><td>
<form method="post" action="/console/accounts/${a.id}/reset" class="inline-form">${csrfField(req)}<button type="submit" aria-label="New set-up link for ${a.email}">New set-up link</button></form>
${a.status !== 'disabled' ? html`<form method="post" action="/console/accounts/${a.id}/disable" class="inline-form">${csrfField(req)}<button type="submit" aria-label="Disable ${a.email}">Disable</button></form>` : ''}
</td></tr>`,
)}
</tbody></table></div>
<h2>Add an account</h2>
${error ? html`<div class="error-summary" role="alert"><p>${error}</p></div>` : ''}
<form class="inquiry-form" method="post" action="/console/accounts" novalidate>
${csrfField(req)}
<div class="field"><label for="email">Email address</label><input type="email" id="email" name="email" required spellcheck="false" value="${typed.email}"></div>
<div class="field"><label for="role">Role</label><select id="role" name="role">${ROLES.map((r) => html`<option value="${r}"${typed.role === r ? html` selected` : ''}>${r}</option>`)}</select></div>
<button type="submit" class="primary">Add account and make a set-up link</button>
</form>`,
    });
  };

  const linkNotice = (what: string, link: IssuedLink) =>
    html`<p>${what} Give this set-up link to the person privately; it works once, until ${when(link.expiresAt)}, and is not shown again:</p><p><code>${link.url}</code></p>`;

  app.get('/console/accounts', { config: { access: ['admin'] } }, async (req, reply) => accountsPage(req, reply));

  app.post('/console/accounts', { config: { access: ['admin'] } }, async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const email = typeof body.email === 'string' ? body.email.trim().slice(0, 254) : '';
    const role = body.role;
    if (!isRole(role)) return accountsPage(req, reply, 422, undefined, 'Choose a role: admin, privacy or sales.', { email, role: 'sales' });
    try {
      const link = await addAccount(deps, { email, role }, actorOf(req));
      return accountsPage(req, reply, 200, linkNotice('Account added.', link));
    } catch (error) {
      if (error instanceof AccountError) return accountsPage(req, reply, 422, undefined, error.message, { email, role });
      throw error;
    }
  });

  const byId = (action: 'disable' | 'reset') =>
    async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
      try {
        if (action === 'disable') {
          const done = await disableAccount(deps, { id: req.params.id }, actorOf(req));
          if (done.accountId === req.staff!.accountId) return reply.code(303).redirect('/console/sign-in');
          return accountsPage(req, reply, 200, html`<p>Account disabled; ${done.sessionsEnded} ${done.sessionsEnded === 1 ? 'session' : 'sessions'} ended.</p>`);
        }
        const link = await resetAccount(deps, { id: req.params.id }, actorOf(req));
        if (link.accountId === req.staff!.accountId) return reply.code(303).redirect('/console/sign-in');
        return accountsPage(req, reply, 200, linkNotice('The old link, password and authenticator no longer work.', link));
      } catch (error) {
        if (error instanceof AccountError) return accountsPage(req, reply, 404, undefined, 'There is no such account.');
        throw error;
      }
    };
  app.post<{ Params: { id: string } }>('/console/accounts/:id/disable', { config: { access: ['admin'] } }, byId('disable'));
  app.post<{ Params: { id: string } }>('/console/accounts/:id/reset', { config: { access: ['admin'] } }, byId('reset'));
}
