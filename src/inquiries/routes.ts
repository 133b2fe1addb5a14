// The demo and contact forms: GET renders, POST runs the cookieless protections
// (origin, honeypot, signed fill time, rate limit), validates against the policy,
// stores, and only then answers 303 with the declared cookie.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import { setDeclaredCookie } from '../http/cookies.ts';
import { html } from '../http/html.ts';
import { isCrossSite } from '../http/origin.ts';
import { render } from '../http/render.ts';
import { isUnavailableError } from '../storage/db.ts';
import type { FormKind } from '../policy/schema.ts';
import { emptyValues, renderForm, type FormView } from './form-page.ts';
import { checkFormToken, issueFormToken, sendAgain, tokenMessages } from './form-token.ts';
import { submitInquiry } from './submit-inquiry.ts';
import { readValues, validateInquiry } from './validate-inquiry.ts';

const RECEIPT_COOKIE = 'lt_receipt';
const forms: FormKind[] = ['demo', 'contact'];


const descriptions: Record<FormKind, string> = {
  demo: 'Request a demo: tell us about your portfolio and we will reply by email. We ask only for what we need to answer you.',
  contact: 'Contact us with a question by email form. We ask only for what we need to answer you.',
};

export function formReplyFor(deps: Deps, form: FormKind) {
  const { policy } = deps.policy;
  return (reply: FastifyReply, status: number, view: Omit<FormView, 'form' | 'token'>) => {
    const token = issueFormToken(deps.signer, form, deps.now());
    return render(reply, status, {
      title: `${view.formMessage || Object.keys(view.errors).length ? 'Error: ' : ''}${policy.forms[form].title}`,
      orgName: policy.organisation.name,
      path: `/${form}`,
      description: descriptions[form],
      noStore: true,
      body: renderForm(policy, { form, token, ...view }),
    });
  };
}

export async function inquiryRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const { policy } = deps.policy;
  const { config } = deps;
  const orgName = policy.organisation.name;

  for (const form of forms) {
    const reply = formReplyFor(deps, form);

    app.get(`/${form}`, { config: { access: 'public' } }, async (_req, res) => reply(res, 200, { values: emptyValues, errors: {} }));

    app.post(
      `/${form}`,
      {
        config: {
          access: 'public',
          publicFormPost: true,
          rerender: (res, status, body, message) => reply(res, status, { values: readValues(body), errors: {}, formMessage: message }),
        },
      },
      async (req: FastifyRequest, res: FastifyReply) => {
        const body = (req.body ?? {}) as Record<string, unknown>;
        const values = readValues(body);
        if (isCrossSite(req.headers, config.publicUrl, req.headers.host)) {
          return render(res, 403, {
            title: 'Form refused',
            orgName,
            path: `/${form}`,
            body: html`<div class="status-page"><h1>This form can only be sent from our own website</h1><p>Nothing was stored. Please <a href="/${form}">open the form on our site</a> and send it from there.</p></div>`,
          });
        }
        // Spam trap. Nothing is stored and nothing claims it was: the form comes back with
        // the input kept, as for a token we cannot verify, in case a person's browser
        // filled the trap.
        if (typeof body.leave_blank !== 'string' ? body.leave_blank !== undefined : body.leave_blank.trim() !== '') {
          req.log.info({ form, outcome: 'honeypot' }, 'form submission returned for resubmission');
          return reply(res, 422, { values, errors: {}, formMessage: sendAgain });
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
        setDeclaredCookie(res, deps.policy, config.https, RECEIPT_COOKIE, deps.signer.sign('receipt', `${form}~${stored.reference}`), '/thanks');
        return res.code(303).header('location', '/thanks').send();
      },
    );
  }

  app.get('/thanks', { config: { access: 'public' } }, async (req, res) => {
    const raw = req.cookies[RECEIPT_COOKIE];
    const receipt = raw ? deps.signer.verify('receipt', raw) : null;
    const [form, reference] = receipt ? receipt.split('~') : [];
    const thanksFor = form === 'contact' ? 'message' : form === 'demo' ? 'demo request' : undefined;
    if (!thanksFor || !reference) {
      // Opened directly, bookmarked, or the receipt expired: there is nobody to thank and
      // nothing we can truthfully say was received.
      return render(res, 200, {
        title: 'Nothing to show here',
        orgName,
        path: '/thanks',
        description: 'The confirmation page shown after sending one of our forms.',
        noindex: true,
        noStore: true,
        body: html`<div class="status-page"><h1>Nothing to show here</h1>
<p>This page confirms a form just after it is sent, and there is no recent form to confirm in this browser. If you sent one, we emailed you a confirmation with your reference.</p>
<p>You can <a href="/demo">request a demo</a> or <a href="/contact">contact us</a>.</p></div>`,
      });
    }
    return render(res, 200, {
      title: 'Thank you',
      orgName,
      path: '/thanks',
      description: 'Confirmation that your form reached us, with your reference.',
      noindex: true,
      noStore: true,
      body: html`<div class="thanks"><h1>Thank you, we have your ${thanksFor}</h1>
<p>Your reference is <span class="reference">${reference}</span>. We have also emailed you a confirmation.</p>
<p>We use your details only to answer you. To see, correct or delete them at any time, write to <a href="mailto:${policy.organisation.privacy_address}?subject=${encodeURIComponent(policy.organisation.privacy_subject)}">${policy.organisation.privacy_address}</a> with the subject “${policy.organisation.privacy_subject}”.</p>
<p><a href="/">Back to the home page</a></p></div>`,
    });
  });
}
