// The demo and contact forms: GET renders, POST runs the cookieless protections
// (origin, honeypot, signed fill time, rate limit), validates against the policy,
// stores, and only then answers 303 with the declared cookie.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import { setDeclaredCookie } from '../http/cookies.ts';
import { html } from '../http/html.ts';
import { page } from '../http/layout.ts';
import { isCrossSite } from '../http/origin.ts';
import { isUnavailableError } from '../storage/db.ts';
import type { FormKind } from '../policy/schema.ts';
import { emptyValues, renderForm, type FormView } from './form-page.ts';
import { checkFormToken, issueFormToken } from './form-token.ts';
import { submitInquiry } from './submit-inquiry.ts';
import { readValues, validateInquiry } from './validate-inquiry.ts';

const RECEIPT_COOKIE = 'lt_receipt';
const forms: FormKind[] = ['demo', 'contact'];

const tokenMessages = {
  missing: 'We could not verify that this form came from our website. Please check your details and send it again.',
  invalid: 'We could not verify that this form came from our website. Please check your details and send it again.',
  too_fast: 'That was quicker than we expected. Please check your details, then send the form again.',
  expired: 'This form was open for a long time. Please check your details and send it again.',
} as const;

export function formReplyFor(deps: Deps, form: FormKind) {
  const { policy } = deps.policy;
  return (reply: FastifyReply, status: number, view: Omit<FormView, 'form' | 'token'>) => {
    const token = issueFormToken(deps.signer, form, deps.now());
    reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store');
    return page({
      title: `${view.formMessage || Object.keys(view.errors).length ? 'Error: ' : ''}${policy.forms[form].title}`,
      orgName: policy.organisation.name,
      path: `/${form}`,
      body: renderForm(policy, { form, token, ...view }),
    });
  };
}

export async function inquiryRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const { policy } = deps.policy;
  const { config } = deps;

  for (const form of forms) {
    const reply = formReplyFor(deps, form);

    app.get(`/${form}`, async (_req, res) => reply(res, 200, { values: emptyValues, errors: {} }));

    app.post(
      `/${form}`,
      { config: { formKind: form, rateLimit: { max: config.rateLimitMax, timeWindow: config.rateLimitWindowSeconds * 1000, hook: 'preHandler' } } },
      async (req: FastifyRequest, res: FastifyReply) => {
        const body = (req.body ?? {}) as Record<string, unknown>;
        const values = readValues(body);
        if (isCrossSite(req.headers, config.publicUrl, req.headers.host)) {
          res.code(403).type('text/html; charset=utf-8');
          return page({
            title: 'Form refused',
            orgName: policy.organisation.name,
            path: `/${form}`,
            body: html`<div class="status-page"><h1>This form can only be sent from our own website</h1><p>Nothing was stored. Please <a href="/${form}">open the form on our site</a> and send it from there.</p></div>`,
          });
        }
        // Spam trap: a bot is answered as if it succeeded, and nothing is stored.
        if (typeof body.leave_blank === 'string' && body.leave_blank.trim() !== '') {
          req.log.info({ form, outcome: 'honeypot' }, 'form submission dropped');
          return res.code(303).header('location', '/thanks').send();
        }
        const token = checkFormToken(deps.signer, body.form_token, form, deps.now(), {
          minFillSeconds: config.formMinFillSeconds,
          maxAgeHours: config.formMaxAgeHours,
        });
        if (!token.ok) {
          req.log.info({ form, outcome: `token_${token.reason}` }, 'form submission returned for resubmission');
          return reply(res, 422, { values, errors: {}, formMessage: tokenMessages[token.reason] });
        }
        const result = validateInquiry(policy, body);
        if (!result.ok) {
          req.log.info({ form, outcome: 'invalid', fields: Object.keys(result.errors) }, 'form submission had errors');
          return reply(res, 422, { values, errors: result.errors });
        }
        let stored;
        try {
          stored = await submitInquiry(deps, { form, inquiry: result.inquiry, submissionKey: token.submissionKey });
        } catch (error) {
          if (!isUnavailableError(error)) throw error;
          req.log.error({ form, err: { code: (error as { code?: string }).code } }, 'database unavailable; submission not stored');
          res.header('retry-after', '60');
          return reply(res, 503, {
            values,
            errors: {},
            formMessage: 'We could not save your request just now, so nothing was stored. Your details are still below: please try again in a minute.',
          });
        }
        req.log.info({ form, inquiry: stored.inquiryId, duplicate: stored.duplicate }, 'inquiry stored');
        if (!stored.duplicate) deps.mailQueued();
        setDeclaredCookie(res, deps.policy, config.https, RECEIPT_COOKIE, deps.signer.sign('receipt', `${form}~${stored.reference}`), '/thanks');
        return res.code(303).header('location', '/thanks').send();
      },
    );
  }

  app.get('/thanks', async (req, res) => {
    const raw = req.cookies[RECEIPT_COOKIE];
    const receipt = raw ? deps.signer.verify('receipt', raw) : null;
    const [form, reference] = receipt ? receipt.split('~') : [];
    res.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    return page({
      title: 'Thank you',
      orgName: policy.organisation.name,
      path: '/thanks',
      body: html`<div class="thanks"><h1>Thank you, we have your ${form === 'contact' ? 'message' : form === 'demo' ? 'demo request' : 'form'}</h1>
${reference ? html`<p>Your reference is <span class="reference">${reference}</span>. We have also emailed you a confirmation.</p>` : html`<p>We have received what you sent and will reply by email.</p>`}
<p>We use your details only to answer you. To see, correct or delete them at any time, write to <a href="mailto:${policy.organisation.privacy_address}?subject=${encodeURIComponent(policy.organisation.privacy_subject)}">${policy.organisation.privacy_address}</a> with the subject “${policy.organisation.privacy_subject}”.</p>
<p><a href="/">Back to the home page</a></p></div>`,
    });
  });
}
