// Public console pages that come before a session: sign-in, the set-up link, sign-out.
// A GET here never sets a cookie (P9); only a successful sign-in post sets `lt_console`.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Deps } from '../deps.ts';
import { html, trusted, type SafeHtml } from '../http/html.ts';
import { isCrossSite } from '../http/origin.ts';
import { render, statusBody } from '../http/render.ts';
import { completeSetup, openSetupLink, signIn, signOut, type SetupLinkView } from './accounts.ts';
import { openSignInThrottle } from './throttle.ts';
import { MIN_PASSWORD_LENGTH } from './passwords.ts';
import { ROLES } from './roles.ts';
import { unavailable } from './access.ts';
import { clearSessionCookie, setSessionCookie } from './sessions.ts';
import { qrSvg, totpUri } from './totp.ts';

const text = (body: unknown, name: string): string => {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : '';
};

export async function authRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const orgName = deps.policy.policy.organisation.name;
  const { throttle, close } = await openSignInThrottle(deps.config.redisUrl, deps.config.signInWindowSeconds * 1000, app.log);
  app.addHook('onClose', close);

  const bare = (reply: FastifyReply, status: number, title: string, body: SafeHtml) =>
    render(reply, status, { title, orgName: `${orgName} console`, path: '', body, nav: [], footer: false, noindex: true, noStore: true, description: `${title}: ${orgName} staff console.` });

  const crossSite = (reply: FastifyReply) =>
    bare(reply, 403, 'Form refused', statusBody('Form refused', 'Console forms can only be sent from the console itself.', html`<a href="/console/sign-in">Sign in</a>`));

  const signInForm = (reply: FastifyReply, status: number, email: string, message?: string) =>
    bare(
      reply,
      status,
      message ? 'Error: Sign in' : 'Sign in',
      html`<h1>Sign in to the console</h1>
${message ? html`<div class="error-summary" role="alert"><p>${message}</p></div>` : ''}
<form class="inquiry-form" method="post" action="/console/sign-in" novalidate>
<div class="field"><label for="email">Email address</label><input type="email" id="email" name="email" autocomplete="username" required spellcheck="false" value="${email}"></div>
<div class="field"><label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required></div>
<div class="field"><label for="code">Authenticator code</label><p class="hint" id="code-hint">Admin and privacy accounts: the 6-digit code from your authenticator app, or one of your recovery codes. Sales accounts leave this empty.</p><input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="text" spellcheck="false" aria-describedby="code-hint"></div>
<button type="submit" class="primary">Sign in</button>
</form>`,
    );

  app.get('/console/sign-in', { config: { access: 'public' } }, async (_req, reply) => signInForm(reply, 200, ''));

  app.post('/console/sign-in', { config: { access: 'public' } }, async (req, reply) => {
    if (isCrossSite(req.headers, deps.config.publicUrl, req.headers.host)) return crossSite(reply);
    const email = text(req.body, 'email').trim().slice(0, 254);
    const result = await signIn(deps, throttle, { email, password: text(req.body, 'password'), code: text(req.body, 'code'), clientAddress: req.ip }).catch(unavailable);
    if (result.ok) {
      setSessionCookie(reply, deps, result.cookie);
      return reply.code(303).header('cache-control', 'no-store').redirect('/console');
    }
    if (result.reason === 'throttled') {
      reply.header('retry-after', String(result.retryAfterSeconds));
      return signInForm(reply, 429, email, `Too many sign-in attempts. Please wait ${Math.ceil(result.retryAfterSeconds / 60)} minutes and try again.`);
    }
    // One message for every failure: it never tells whether the account exists.
    return signInForm(reply, 401, email, 'That email address, password or code is not right.');
  });

  app.post('/console/sign-out', { config: { access: ROLES } }, async (req, reply) => {
    await signOut(deps, req.staff!);
    clearSessionCookie(reply, deps);
    return reply.code(303).redirect('/console/sign-in');
  });

  const deadLink = (reply: FastifyReply) =>
    bare(reply, 410, 'Set-up link not valid', statusBody('This set-up link is not valid', 'It has expired, been used already, or been replaced by a newer link. Ask an administrator for a new one.', html`<a href="/console/sign-in">Sign in</a>`));

  const setupForm = async (reply: FastifyReply, status: number, token: string, link: SetupLinkView, error?: { field: string; message: string }) => {
    const err = (field: string) => (error?.field === field ? html`<p class="error-message" id="${field}-error">${error.message}</p>` : '');
    const invalid = (field: string) => (error?.field === field ? html` aria-invalid="true" aria-describedby="${field}-error"` : '');
    const totp = link.totpSecret
      ? html`<h2>Authenticator app</h2>
<p>Your role needs a second step at every sign-in. Scan this code with an authenticator app, or type the secret into it, then enter the 6-digit code it shows.</p>
<div class="qr">${trusted(await qrSvg(totpUri(link.totpSecret, `${orgName} console`, link.email)))}</div>
<p>Secret: <code>${link.totpSecret.replace(/(.{4})/g, '$1 ').trim()}</code></p>
<div class="field${error?.field === 'code' ? ' has-error' : ''}"><label for="code">Code from the app</label>${err('code')}<input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="numeric" spellcheck="false"${invalid('code')}></div>`
      : '';
    return bare(
      reply,
      status,
      error ? 'Error: Set up your account' : 'Set up your account',
      html`<h1>Set up your console account</h1>
<p>Account for ${link.email} (${link.role}).</p>
${error ? html`<div class="error-summary" role="alert"><p>${error.message}</p></div>` : ''}
<form class="inquiry-form" method="post" action="/console/setup" novalidate>
<input type="hidden" name="token" value="${token}">
<div class="field${error?.field === 'password' ? ' has-error' : ''}"><label for="password">Choose a password</label><p class="hint" id="password-hint">At least ${MIN_PASSWORD_LENGTH} characters and hard to guess; a few unrelated words work well.</p>${err('password')}<input type="password" id="password" name="password" autocomplete="new-password" required aria-describedby="password-hint"${invalid('password')}></div>
<div class="field${error?.field === 'confirm' ? ' has-error' : ''}"><label for="confirm">Type the password again</label>${err('confirm')}<input type="password" id="confirm" name="confirm" autocomplete="new-password" required${invalid('confirm')}></div>
${totp}
<button type="submit" class="primary">Set up my account</button>
</form>`,
    );
  };

  app.get('/console/setup', { config: { access: 'public' } }, async (req, reply) => {
    const token = (req.query as Record<string, unknown>)?.token;
    const link = await openSetupLink(deps, token);
    if (!link) return deadLink(reply);
    // The page holds the TOTP secret: no referrer leaves it, and no cache keeps it.
    return setupForm(reply, 200, token as string, link);
  });

  app.post('/console/setup', { config: { access: 'public' } }, async (req, reply) => {
    if (isCrossSite(req.headers, deps.config.publicUrl, req.headers.host)) return crossSite(reply);
    const token = text(req.body, 'token');
    const result = await completeSetup(deps, token, { password: text(req.body, 'password'), confirm: text(req.body, 'confirm'), code: text(req.body, 'code') });
    if (!result.ok) {
      const link = result.field === 'link' ? undefined : await openSetupLink(deps, token);
      if (!link) return deadLink(reply);
      return setupForm(reply, 422, token, link, result);
    }
    const codes = result.recoveryCodes;
    return bare(
      reply,
      200,
      'Account ready',
      html`<h1>Your account is ready</h1>
${codes.length > 0 ? html`<h2>Recovery codes</h2>
<p>Keep these somewhere safe, away from your phone. Each works once, in place of an authenticator code, if you lose the app. They are shown only now.</p>
<ul class="recovery-codes">${codes.map((c) => html`<li><code>${c}</code></li>`)}</ul>` : ''}
<p><a class="button primary" href="/console/sign-in">Sign in</a></p>`,
    );
  });
}
