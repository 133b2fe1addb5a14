// The public side of the privacy desk: the request form (with the protections of the
// other public forms: same-origin posts only, a signed fill-time token, a honeypot, the
// shared rate limit, field messages with the input kept, 503 with the input kept when
// the database is away) and the verification link (GET only shows a button; POST
// verifies). No cookie is set: the "sent" page needs none, since it names nobody.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Deps } from '../deps.ts';
import { html, type SafeHtml } from '../http/html.ts';
import { isCrossSite } from '../http/origin.ts';
import { render } from '../http/render.ts';
import { checkFormToken, issueFormToken, sendAgain, tokenMessages } from '../inquiries/form-token.ts';
import { isUnavailableError } from '../storage/db.ts';
import { jurisdictionOptions } from './jurisdictions.ts';
import { submitRequest } from './submit-request.ts';
import { emptyRequestValues, MESSAGE_MAX, readRequestValues, validateRequest, type RequestFormErrors, type RequestFormValues } from './validate-request.ts';
import { checkVerifyLink, verifyRequester } from './verify-requester.ts';
import { openPackage } from './open-package.ts';
import { accessPackageHtml, accessPackageJson } from './access-package.ts';

const FORM = 'privacy-request';
const TYPES: Array<[string, string, string]> = [
  ['access', 'A copy of my data', 'Everything we hold about you, as a readable page and as a file.'],
  ['correction', 'Correct my data', 'Tell us below what is wrong and what it should say.'],
  ['deletion', 'Delete my data', 'We delete everything we are not required by law or contract to keep, and tell you what we keep and why.'],
];
const order: Array<keyof RequestFormValues> = ['email', 'type', 'jurisdiction', 'message'];

export async function rightsRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const { policy } = deps.policy;
  const { config } = deps;
  const orgName = policy.organisation.name;
  const jurisdictions = jurisdictionOptions(deps.policy);

  const formPage = (reply: FastifyReply, status: number, values: RequestFormValues, errors: RequestFormErrors, formMessage?: string) => {
    const first = order.find((f) => errors[f]);
    const err = (f: keyof RequestFormValues) => (errors[f] ? html`<p class="error-message" id="${f}-error"><span class="visually-hidden">Error: </span>${errors[f]}</p>` : '');
    const attrs = (f: keyof RequestFormValues) => html`${errors[f] ? html` aria-invalid="true" aria-describedby="${f}-error"` : ''}${first === f ? html` autofocus` : ''}`;
    const wrap = (f: keyof RequestFormValues, inner: SafeHtml) => html`<div class="field${errors[f] ? ' has-error' : ''}">${inner}</div>`;
    const summary = first
      ? html`<div class="error-summary" role="alert" tabindex="-1"><h2>Please correct ${Object.keys(errors).length === 1 ? 'this' : 'these'} to send the form</h2><ul>${order.filter((f) => errors[f]).map((f) => html`<li><a href="#${f === 'type' ? 'type-access' : f}">${errors[f]}</a></li>`)}</ul></div>`
      : formMessage
        ? html`<div class="error-summary" role="alert" tabindex="-1"><p>${formMessage}</p></div>`
        : '';
    return render(reply, status, {
      title: `${first || formMessage ? 'Error: ' : ''}Ask about your data`,
      orgName,
      path: '/privacy/request',
      description: 'Ask for a copy of your personal data, a correction or its deletion.',
      noStore: true,
      body: html`<h1>Ask about your data</h1>
<p class="lead">Ask for a copy of the personal data we hold about you, a correction, or its deletion. You can also write to <a href="mailto:${policy.organisation.privacy_address}?subject=${encodeURIComponent(policy.organisation.privacy_subject)}">${policy.organisation.privacy_address}</a> with the subject “${policy.organisation.privacy_subject}”. We acknowledge within ${policy.deadlines.acknowledge_business_days} business day and answer within ${policy.deadlines.answer_business_days} business days, or sooner where the law where you live requires it.</p>
${summary}
<form class="inquiry-form" method="post" action="/privacy/request" novalidate>
<input type="hidden" name="form_token" value="${issueFormToken(deps.signer, FORM, deps.now())}">
${wrap('email', html`<label for="email">Your email address</label><p class="hint" id="email-hint">We send a link to this address to check it is yours before we show, change or delete anything.</p>${err('email')}<input type="email" id="email" name="email" value="${values.email}" autocomplete="email" required maxlength="254" spellcheck="false"${attrs('email')}>`)}
${wrap('type', html`<fieldset><legend>What would you like us to do?</legend>${err('type')}${TYPES.map(([value, label, hint], i) => html`<div class="radio"><input type="radio" id="type-${value}" name="type" value="${value}"${values.type === value ? html` checked` : ''}${i === 0 ? attrs('type') : ''}><label for="type-${value}">${label}</label><p class="hint">${hint}</p></div>`)}</fieldset>`)}
${wrap('jurisdiction', html`<label for="jurisdiction">Where do you live?</label><p class="hint">Some laws give a shorter deadline than ours; we use the earlier one.</p>${err('jurisdiction')}<select id="jurisdiction" name="jurisdiction" required${attrs('jurisdiction')}>
<option value=""${values.jurisdiction ? '' : html` selected`}>Choose</option>
${jurisdictions.map((j) => html`<option value="${j.code}"${values.jurisdiction.toUpperCase() === j.code ? html` selected` : ''}>${j.name}</option>`)}
<option value="unspecified"${values.jurisdiction === 'unspecified' ? html` selected` : ''}>Somewhere else or not sure</option>
</select>`)}
${wrap('message', html`<label for="message">Anything we should know (optional)</label><p class="hint">For a correction, what is wrong and what it should say.</p>${err('message')}<textarea id="message" name="message" rows="6" maxlength="${MESSAGE_MAX}"${attrs('message')}>${values.message}</textarea>`)}
<div class="honeypot" aria-hidden="true"><label for="leave_blank">Leave this field empty</label><input type="text" id="leave_blank" name="leave_blank" tabindex="-1" autocomplete="off" value=""></div>
<p class="muted">We use these details only to handle your request; see our <a href="/privacy">privacy notice</a>. The form also carries a timestamp and a spam trap, which we never store.</p>
<button type="submit" class="primary">Send my request</button>
</form>`,
    });
  };

  app.get('/privacy/request', { config: { access: 'public' } }, async (_req, reply) => formPage(reply, 200, emptyRequestValues, {}));

  app.post(
    '/privacy/request',
    {
      config: {
        access: 'public',
        publicFormPost: true,
        rerender: (reply, status, body, message) => formPage(reply, status, readRequestValues(body), {}, message),
      },
    },
    async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const values = readRequestValues(body);
      if (isCrossSite(req.headers, config.publicUrl, req.headers.host)) {
        return render(reply, 403, {
          title: 'Form refused',
          orgName,
          path: '/privacy/request',
          body: html`<div class="status-page"><h1>This form can only be sent from our own website</h1><p>Nothing was stored. Please <a href="/privacy/request">open the form on our site</a> and send it from there.</p></div>`,
        });
      }
      if (typeof body.leave_blank !== 'string' ? body.leave_blank !== undefined : body.leave_blank.trim() !== '') {
        req.log.info({ form: FORM, outcome: 'honeypot' }, 'form submission returned for resubmission');
        return formPage(reply, 422, values, {}, sendAgain);
      }
      const token = checkFormToken(deps.signer, body.form_token, FORM, deps.now(), { minFillSeconds: config.formMinFillSeconds, maxAgeHours: config.formMaxAgeHours });
      if (!token.ok) {
        req.log.info({ form: FORM, outcome: `token_${token.reason}` }, 'form submission returned for resubmission');
        return formPage(reply, 422, values, {}, tokenMessages[token.reason]);
      }
      const result = validateRequest(deps.policy, body);
      if (!result.ok) {
        req.log.info({ form: FORM, outcome: 'invalid', fields: Object.keys(result.errors) }, 'form submission had errors');
        return formPage(reply, 422, values, result.errors);
      }
      try {
        const stored = await submitRequest(deps, { request: result.request, submissionKey: token.submissionKey });
        req.log.info({ form: FORM, privacy_request: stored.requestId, duplicate: stored.duplicate }, 'privacy request stored');
      } catch (error) {
        if (!isUnavailableError(error)) throw error;
        req.log.error({ form: FORM, err: { code: (error as { code?: string }).code } }, 'database unavailable; privacy request not stored');
        reply.header('retry-after', '60');
        return formPage(reply, 503, values, {}, 'We could not save your request just now, so nothing was stored. Your details are still below: please try again in a minute.');
      }
      return reply.code(303).header('location', '/privacy/request/sent').send();
    },
  );

  app.get('/privacy/request/sent', { config: { access: 'public' } }, async (_req, reply) =>
    render(reply, 200, {
      title: 'Check your email',
      orgName,
      path: '/privacy/request',
      description: 'What happens after you send a privacy request.',
      noindex: true,
      noStore: true,
      body: html`<div class="thanks"><h1>Check your email</h1>
<p>If the form was filled in, we have emailed the address you gave an acknowledgement with your reference, the date by which we will answer, and a link to confirm the address is yours.</p>
<p>Nothing is shown, changed or deleted until you follow that link and press its button. If nothing arrives within a few minutes, check your spam folder or write to <a href="mailto:${policy.organisation.privacy_address}?subject=${encodeURIComponent(policy.organisation.privacy_subject)}">${policy.organisation.privacy_address}</a>.</p>
<p><a href="/">Back to the home page</a></p></div>`,
    }),
  );

  const notValid = (reply: FastifyReply) =>
    render(reply, 404, {
      title: 'Link not valid',
      orgName,
      path: '/privacy/request',
      noindex: true,
      noStore: true,
      body: html`<div class="status-page"><h1>This link is not valid</h1><p>It may have been used already, have expired, or have been copied incompletely. If you still need to confirm your request, reply to our acknowledgement email or <a href="/privacy/request">send the request again</a>.</p></div>`,
    });

  app.get<{ Params: { id: string; token: string } }>('/privacy/request/:id/verify/:token', { config: { access: 'public' } }, async (req, reply) => {
    // Looking never verifies: mail scanners and link previews fetch links.
    const link = await checkVerifyLink(deps, req.params.id, req.params.token);
    if (!link.ok) return notValid(reply);
    reply.header('referrer-policy', 'no-referrer');
    return render(reply, 200, {
      title: 'Confirm your request',
      orgName,
      path: '/privacy/request',
      noindex: true,
      noStore: true,
      body: html`<h1>Confirm your request</h1>
<p class="lead">Press the button to confirm that this email address is yours and that you sent request ${link.reference}. Until you do, we show, change or delete nothing.</p>
<form method="post" action="/privacy/request/${req.params.id}/verify/${req.params.token}"><button type="submit" class="primary">Yes, this is my request</button></form>`,
    });
  });

  app.post<{ Params: { id: string; token: string } }>('/privacy/request/:id/verify/:token', { config: { access: 'public', publicFormPost: true } }, async (req, reply) => {
    if (isCrossSite(req.headers, config.publicUrl, req.headers.host)) return notValid(reply.code(403));
    const outcome = await verifyRequester(deps, req.params.id, req.params.token);
    if (!outcome.ok) return notValid(reply);
    return render(reply, 200, {
      title: 'Request confirmed',
      orgName,
      path: '/privacy/request',
      noindex: true,
      noStore: true,
      body: html`<div class="thanks"><h1>Thank you, your request is confirmed</h1>
<p>Your reference is <span class="reference">${outcome.reference}</span>. ${outcome.mergedInto ? 'You had already confirmed the same request, so we handle the two as one under that reference.' : 'Our privacy team now handles it and answers by email by the date in our acknowledgement.'}</p>
<p><a href="/">Back to the home page</a></p></div>`,
    });
  });

  // The access package behind its expiring link: built fresh at each opening, audited.
  app.get<{ Params: { id: string; token: string }; Querystring: { format?: string } }>('/privacy/request/:id/package/:token', { config: { access: 'public' } }, async (req, reply) => {
    const pkg = await openPackage(deps, req.params.id, req.params.token);
    if (!pkg) return notValid(reply);
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').header('x-robots-tag', 'noindex');
    if (req.query.format === 'json') {
      return reply.type('application/json; charset=utf-8').header('content-disposition', 'attachment; filename="my-data.json"').send(accessPackageJson(pkg));
    }
    return reply.type('text/html; charset=utf-8').send(accessPackageHtml(pkg));
  });
}
