// One-click withdrawal without signing in: signed unsubscribe links (GET shows a
// confirmation, POST withdraws, including RFC 8058 one-click posts from mail clients)
// and /privacy/preferences for withdrawing by address through an emailed link.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../http/errors.ts';
import { isEmail } from '../people/is-email.ts';
import type { Deps } from '../deps.ts';
import { html, type SafeHtml } from '../http/html.ts';
import { page } from '../http/layout.ts';
import { isCrossSite } from '../http/origin.ts';
import { checkFormToken, issueFormToken } from '../inquiries/form-token.ts';
import { isUnavailableError } from '../storage/db.ts';
import { requestWithdrawalLink } from './request-withdrawal-link.ts';
import { confirmConsent } from './confirm-consent.ts';
import { readConfirmationToken, readUnsubscribeToken } from './tokens.ts';
import { withdrawConsent } from './withdraw-consent.ts';

const PREFERENCES = 'preferences';

export async function consentRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const { policy } = deps.policy;
  const { config } = deps;
  const orgName = policy.organisation.name;
  const send = (reply: FastifyReply, status: number, title: string, body: SafeHtml) =>
    reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page({ title, orgName, path: '/privacy/preferences', body }));

  const preferencesForm = (reply: FastifyReply, status: number, email: string, message?: string) =>
    send(
      reply,
      status,
      `${message ? 'Error: ' : ''}Marketing preferences`,
      html`<h1>Marketing preferences</h1>
<p class="lead">We send marketing email only to people who ticked the opt-in box. To stop it, enter your address and we will email you a link to confirm. Every marketing email also has a one-click unsubscribe link.</p>
${message ? html`<div class="error-summary" role="alert" tabindex="-1"><ul><li><a href="#email">${message}</a></li></ul></div>` : ''}
<form class="inquiry-form" method="post" action="/privacy/preferences" novalidate>
<input type="hidden" name="form_token" value="${issueFormToken(deps.signer, PREFERENCES, deps.now())}">
<div class="field${message ? ' has-error' : ''}"><label for="email">Email address</label>${message ? html`<p class="error-message" id="email-error">${message}</p>` : ''}<input type="email" id="email" name="email" autocomplete="email" required spellcheck="false" value="${email}"${message ? html` aria-invalid="true" aria-describedby="email-error" autofocus` : ''}></div>
<button type="submit" class="primary">Email me a link to unsubscribe</button>
</form>`,
    );

  app.get('/privacy/preferences', { config: { access: 'public' } }, async (_req, reply) => preferencesForm(reply, 200, ''));

  app.post(
    '/privacy/preferences',
    {
      config: {
        access: 'public',
        // The same per-client budget as the inquiry forms; a refusal keeps the address.
        publicFormPost: true,
        rerender: (reply, status, body, message) => preferencesForm(reply, status, typeof body.email === 'string' ? body.email.trim() : '', message),
      },
    },
    async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const email = typeof body.email === 'string' ? body.email.trim() : '';
      if (isCrossSite(req.headers, config.publicUrl, req.headers.host)) {
        return send(reply, 403, 'Form refused', html`<div class="status-page"><h1>This form can only be sent from our own website</h1><p><a href="/privacy/preferences">Open the preferences page</a> and send it from there.</p></div>`);
      }
      const token = checkFormToken(deps.signer, body.form_token, PREFERENCES, deps.now(), { minFillSeconds: 0, maxAgeHours: config.formMaxAgeHours });
      if (!token.ok) return preferencesForm(reply, 422, email, 'This page was open for a long time. Please send the form again.');
      if (!email || email.length > 254 || !isEmail(email)) {
        return preferencesForm(reply, 422, email, 'Enter an email address in the format name@company.com');
      }
      try {
        await requestWithdrawalLink(deps, email);
      } catch (error) {
        if (!isUnavailableError(error)) throw error;
        reply.header('retry-after', '60');
        return preferencesForm(reply, 503, email, 'We could not process this just now. Please try again in a minute.');
      }
      return send(
        reply,
        200,
        'Check your email',
        html`<div class="thanks"><h1>Check your email</h1><p>If that address is on our marketing list, we will email it a link within a few minutes to confirm that you want to stop. The link works without signing in.</p><p>If you do not receive anything, the address is not on our list and there is nothing more to do.</p></div>`,
      );
    },
  );

  const invalidLink = (reply: FastifyReply) =>
    send(
      reply,
      404,
      'Link not valid',
      html`<div class="status-page"><h1>This unsubscribe link is not valid</h1><p>It may have been copied incompletely. You can also <a href="/privacy/preferences">stop marketing email by entering your address</a>.</p></div>`,
    );

  app.get<{ Params: { token: string } }>('/privacy/unsubscribe/:token', { config: { access: 'public' } }, async (req, reply) => {
    if (!readUnsubscribeToken(deps.signer, req.params.token)) return invalidLink(reply);
    // A GET never changes anything: link scanners in mail systems follow links.
    return send(
      reply,
      200,
      'Unsubscribe',
      html`<h1>Stop marketing email</h1>
<p class="lead">Press the button and we will stop sending you marketing email straight away. Replies to your own requests are not affected.</p>
<form method="post" action="/privacy/unsubscribe/${req.params.token}"><button type="submit" class="primary">Unsubscribe me</button></form>`,
    );
  });

  // RFC 8058 one-click posts come from mail providers' servers, and some send
  // multipart/form-data: this route alone (in its own scope) reads that encoding too.
  await app.register(async (scope) => {
    scope.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit: 16 * 1024 }, async (req: FastifyRequest, body: Buffer) => {
      try {
        const form = await new Request('http://unsubscribe.invalid/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: new Uint8Array(body) }).formData();
        const fields: Record<string, string> = {};
        for (const [name, value] of form) if (typeof value === 'string') fields[name] = value;
        return fields;
      } catch {
        throw new AppError('bad_request', 'We could not read what was sent. Please use the button on the unsubscribe page.');
      }
    });
    unsubscribePost(scope);
  });

  function unsubscribePost(scope: FastifyInstance): void {
    // No origin check: the signed token is the authorisation.
    scope.post<{ Params: { token: string } }>(
      '/privacy/unsubscribe/:token',
      { config: { access: 'public', rateLimit: { max: Math.max(config.rateLimitMax, 30), timeWindow: config.rateLimitWindowSeconds * 1000 } } },
      async (req, reply) => {
        const id = readUnsubscribeToken(deps.signer, req.params.token);
        if (!id) return invalidLink(reply);
        const body = (req.body ?? {}) as Record<string, unknown>;
        const channel = body['List-Unsubscribe'] === 'One-Click' ? 'email-one-click' : 'unsubscribe-link';
        let result;
        try {
          result = await withdrawConsent(deps, id, channel);
        } catch (error) {
          if (!isUnavailableError(error)) throw error;
          reply.header('retry-after', '60');
          return send(reply, 503, 'Please try again', html`<div class="status-page"><h1>We could not unsubscribe you just now</h1><p>Nothing has changed yet. Please try the link again in a minute.</p></div>`);
        }
        if (result.status === 'unknown') return invalidLink(reply);
        req.log.info({ channel, outcome: result.status }, 'marketing consent withdrawn');
        return send(
          reply,
          200,
          'Unsubscribed',
          html`<div class="thanks"><h1>You are unsubscribed</h1><p>We will not send marketing email to ${result.maskedEmail} again. ${result.status === 'already_withdrawn' ? '(You had already unsubscribed.)' : ''}</p><p>We keep a record that you withdrew, and a coded fingerprint of the address on our do-not-email list, so that we can honour this.</p></div>`,
        );
      },
    );
  }

  const invalidConfirmation = (reply: FastifyReply) =>
    send(
      reply,
      404,
      'Link not valid',
      html`<div class="status-page"><h1>This confirmation link is not valid</h1><p>It may have been used already, have expired (links work for 7 days), or been copied incompletely. You stay unsubscribed. To subscribe again, tick the box on our <a href="/contact">contact form</a> and follow the new link we email you.</p></div>`,
    );

  // A GET only asks: mail scanners follow links, and must not resubscribe anyone.
  app.get<{ Params: { token: string } }>('/privacy/confirm/:token', { config: { access: 'public' } }, async (req, reply) => {
    if (!readConfirmationToken(deps.signer, req.params.token)) return invalidConfirmation(reply);
    return send(
      reply,
      200,
      'Confirm marketing email',
      html`<h1>Receive product news again</h1>
<p class="lead">You unsubscribed earlier. Press the button to confirm that you want our occasional product news and event invitations again. You can unsubscribe at any time with one click.</p>
<form method="post" action="/privacy/confirm/${req.params.token}"><button type="submit" class="primary">Yes, subscribe me again</button></form>`,
    );
  });

  app.post<{ Params: { token: string } }>(
    '/privacy/confirm/:token',
    { config: { access: 'public', rateLimit: { max: Math.max(config.rateLimitMax, 30), timeWindow: config.rateLimitWindowSeconds * 1000 } } },
    async (req, reply) => {
      if (isCrossSite(req.headers, config.publicUrl, req.headers.host)) {
        return send(reply, 403, 'Form refused', html`<div class="status-page"><h1>This can only be confirmed on our own website</h1><p>Open the link from the email again and press the button there.</p></div>`);
      }
      const id = readConfirmationToken(deps.signer, req.params.token);
      if (!id) return invalidConfirmation(reply);
      let result;
      try {
        result = await confirmConsent(deps, id);
      } catch (error) {
        if (!isUnavailableError(error)) throw error;
        reply.header('retry-after', '60');
        return send(reply, 503, 'Please try again', html`<div class="status-page"><h1>We could not confirm this just now</h1><p>Nothing has changed yet. Please try the link again in a minute.</p></div>`);
      }
      if (result.status !== 'confirmed') return invalidConfirmation(reply);
      req.log.info({ outcome: 'reconfirmed' }, 'marketing consent confirmed again');
      return send(
        reply,
        200,
        'Subscribed again',
        html`<div class="thanks"><h1>You will receive our product news again</h1><p>We have recorded your consent for ${result.maskedEmail}. Every email we send has a one-click unsubscribe link.</p></div>`,
      );
    },
  );
}
