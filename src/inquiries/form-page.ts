// The demo and contact forms. Works without JavaScript: errors come back from the
// server with the visitor's input kept, an error summary, and autofocus on the first
// field in error.
import { html, type SafeHtml } from '../http/html.ts';
import type { Policy, FormKind } from '../policy/schema.ts';
import { countryOptions } from './countries.ts';
import { fieldNames, type FieldErrors, type FieldName, type InquiryValues } from './validate-inquiry.ts';

export { emptyValues } from './validate-inquiry.ts';

export interface FormView {
  form: FormKind;
  token: string;
  values: InquiryValues;
  errors: FieldErrors;
  /** A message about the whole form (too fast, rate limited, database away). */
  formMessage?: string;
}

export function renderForm(policy: Policy, view: FormView): SafeHtml {
  const def = policy.forms[view.form];
  const labels = policy.fields;
  const firstError = fieldNames.find((f) => view.errors[f]);
  const hasErrors = firstError !== undefined;

  const describedBy = (field: FieldName, hint?: boolean) => {
    const ids = [hint ? `${field}-hint` : '', view.errors[field] ? `${field}-error` : ''].filter(Boolean).join(' ');
    return ids ? html` aria-describedby="${ids}"` : '';
  };
  const invalid = (field: FieldName) => (view.errors[field] ? html` aria-invalid="true"` : '');
  const focus = (field: FieldName) => (firstError === field ? html` autofocus` : '');
  const error = (field: FieldName) =>
    view.errors[field] ? html`<p class="error-message" id="${field}-error"><span class="visually-hidden">Error: </span>${view.errors[field]}</p>` : '';
  const wrap = (field: FieldName, inner: SafeHtml) => html`<div class="field${view.errors[field] ? ' has-error' : ''}">${inner}</div>`;

  const input = (field: 'name' | 'email' | 'company' | 'role', type: string, autocomplete: string) =>
    wrap(
      field,
      html`<label for="${field}">${labels[field].label}</label>${error(field)}<input type="${type}" id="${field}" name="${field}" value="${view.values[field]}" autocomplete="${autocomplete}" required maxlength="${labels[field].max_length ?? 200}"${describedBy(field)}${invalid(field)}${focus(field)}${field === 'email' ? html` spellcheck="false"` : ''}>`,
    );

  // One control per policy field: a field added to the policy schema fails the type
  // check here until it is given one.
  const controls: Record<FieldName, () => SafeHtml> = {
    name: () => input('name', 'text', 'name'),
    email: () => input('email', 'email', 'email'),
    company: () => input('company', 'text', 'organization'),
    role: () => input('role', 'text', 'organization-title'),
    country: () =>
      wrap(
        'country',
        html`<label for="country">${labels.country.label}</label>${error('country')}<select id="country" name="country" autocomplete="country" required${describedBy('country')}${invalid('country')}${focus('country')}>
<option value=""${view.values.country ? '' : html` selected`}>Choose your country</option>
${countryOptions.map((c) => html`<option value="${c.code}"${view.values.country.toUpperCase() === c.code ? html` selected` : ''}>${c.name}</option>`)}
</select>`,
      ),
    context: () =>
      wrap(
        'context',
        html`<label for="context">${def.context_label}</label><p class="hint" id="context-hint">${def.context_hint}</p>${error('context')}<textarea id="context" name="context" rows="6" maxlength="${labels.context.max_length ?? 5000}"${describedBy('context', true)}${invalid('context')}${focus('context')}>${view.values.context}</textarea>`,
      ),
  };

  const summary = hasErrors
    ? html`<div class="error-summary" role="alert" tabindex="-1"><h2>Please correct ${Object.keys(view.errors).length === 1 ? 'this' : 'these'} to send the form</h2><ul>${fieldNames
        .filter((f) => view.errors[f])
        .map((f) => html`<li><a href="#${f}">${view.errors[f]}</a></li>`)}</ul></div>`
    : view.formMessage
      ? html`<div class="error-summary" role="alert" tabindex="-1"><p>${view.formMessage}</p></div>`
      : '';

  return html`<h1>${def.title}</h1>
<p class="lead">${def.intro}</p>
${summary}
<form class="inquiry-form" method="post" action="/${view.form}" novalidate>
<input type="hidden" name="form_token" value="${view.token}">
${fieldNames.map((field) => html`${controls[field]()}
`)}<div class="honeypot" aria-hidden="true"><label for="leave_blank">Leave this field empty</label><input type="text" id="leave_blank" name="leave_blank" tabindex="-1" autocomplete="off" value=""></div>
<div class="field checkbox"><input type="checkbox" id="marketing_opt_in" name="marketing_opt_in" value="yes"${view.values.marketingOptIn ? html` checked` : ''}><label for="marketing_opt_in">${policy.marketing.checkbox_wording}</label></div>
<p class="muted">We use these details only to answer you; see our <a href="/privacy">privacy notice</a>. The form also carries a timestamp and a spam trap, which we never store.</p>
<button type="submit" class="primary">${def.submit_label}</button>
</form>`;
}
