// Server-side validation of the demo/contact forms. Pure: the raw posted body in, either
// the clean values or field messages out. Only the policy's fields are read, so any
// other posted field is ignored and never stored.
import { isEmail } from '../people/is-email.ts';
import { policySchema, type Policy } from '../policy/schema.ts';
import { isCountryCode } from './countries.ts';
import { isDisposableDomain, isFreeMailDomain } from './email-domains.ts';
import { isSingleAddress } from '../mail/queue-mail.ts';

export type FieldName = keyof Policy['fields'];
/** The form's fields, in form order: the keys of the policy schema's `fields`, stated nowhere else. */
export const fieldNames = Object.keys(policySchema.shape.fields.shape) as FieldName[];
/** Fields a visitor may leave empty; every other field is required. */
export const optionalFields: ReadonlySet<FieldName> = new Set<FieldName>(['context']);

export type InquiryValues = Record<FieldName, string> & { marketingOptIn: boolean };

export interface CleanInquiry extends InquiryValues {
  freeMail: boolean;
}

export type FieldErrors = Partial<Record<FieldName, string>>;

export type ValidationResult =
  | { ok: true; inquiry: CleanInquiry; values: InquiryValues }
  | { ok: false; errors: FieldErrors; values: InquiryValues };

// C0 controls other than tab/newline/carriage return, DEL, and C1 controls.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
const LINE_BREAK = /[\r\n\u2028\u2029\u0085]/;
// Zero-width and bidi controls have no place in a name or an address.
const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/;

function text(body: Record<string, unknown>, key: string): string {
  const raw = body[key];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return typeof value === 'string' ? value : '';
}

/** What the visitor typed, kept for re-rendering the form (never validated or trimmed away). */
export function readValues(body: unknown): InquiryValues {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const optIn = text(b, 'marketing_opt_in');
  const values = Object.fromEntries(fieldNames.map((f) => [f, text(b, f)])) as Record<FieldName, string>;
  return { ...values, marketingOptIn: optIn === 'yes' || optIn === 'on' };
}

/** An empty form. */
export const emptyValues: InquiryValues = readValues({});

// U+FFFD is what bytes that were not UTF-8 (or a browser's lone surrogate) decode to: a
// value holding it is not what the visitor typed, so it is refused rather than stored.
const UNREADABLE = /\uFFFD/;

function length(s: string): number {
  return [...s].length;
}

export function validateInquiry(policy: Policy, body: unknown): ValidationResult {
  const values = readValues(body);
  const errors: FieldErrors = {};
  const f = policy.fields;
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;

  const singleLine = (key: 'name' | 'company' | 'role', label: string, max: number): string => {
    if (Array.isArray(b[key])) {
      errors[key] = `${label} was sent more than once; please fill it in once`;
      return '';
    }
    const v = values[key].normalize('NFC').trim();
    if (!v) errors[key] = `Enter your ${label.toLowerCase()}`;
    else if (!v.isWellFormed() || UNREADABLE.test(v)) errors[key] = `${label} contains characters we can't read`;
    else if (LINE_BREAK.test(v)) errors[key] = `${label} must be on one line`;
    else if (CONTROL.test(v) || INVISIBLE.test(v)) errors[key] = `${label} contains invisible control characters; please retype it`;
    else if (length(v) > max) errors[key] = `${label} must be ${max} characters or fewer`;
    return v.replace(/\s+/g, ' ');
  };

  const name = singleLine('name', f.name.label, f.name.max_length ?? 200);
  const company = singleLine('company', f.company.label, f.company.max_length ?? 200);
  const role = singleLine('role', f.role.label, f.role.max_length ?? 200);

  let email = values.email.trim();
  let freeMail = false;
  const emailMax = f.email.max_length ?? 254;
  if (!email) errors.email = 'Enter your work email address';
  else if (length(email) > emailMax) errors.email = `Email address must be ${emailMax} characters or fewer`;
  else if (!email.isWellFormed() || UNREADABLE.test(email)) errors.email = 'Email address contains characters we can\'t read';
  else if (LINE_BREAK.test(email) || CONTROL.test(email) || INVISIBLE.test(email) ||
    // A quoted local part ("a,b"@x) can be read as several recipients or rewritten on
    // the way out; no work address needs one.
    email.includes('"') ||
    !isEmail(email, { allow_display_name: false, allow_ip_domain: false, require_tld: true, allow_utf8_local_part: false }) ||
    !isSingleAddress(email)) {
    errors.email = 'Enter an email address in the format name@company.com';
  } else {
    const at = email.lastIndexOf('@');
    const domain = email.slice(at + 1).toLowerCase();
    email = `${email.slice(0, at)}@${domain}`;
    if (policy.email_rules.refuse_disposable && isDisposableDomain(domain)) {
      errors.email = 'We can’t accept addresses from disposable-mail services. Please use your work email address.';
    } else if (isFreeMailDomain(domain)) {
      if (policy.email_rules.free_mail === 'refuse') errors.email = 'Please use your work email address rather than a personal one.';
      else freeMail = true;
    }
  }

  const country = values.country.trim().toUpperCase();
  if (!country) errors.country = 'Choose your country';
  else if (!isCountryCode(country)) errors.country = 'Choose your country from the list';

  const contextMax = f.context.max_length ?? 5000;
  const context = values.context.normalize('NFC').replace(/\r\n?/g, '\n').trim();
  if (context && (!context.isWellFormed() || UNREADABLE.test(context))) errors.context = 'This text contains characters we can’t read';
  else if (CONTROL.test(context.replace(/[\n\t]/g, ''))) errors.context = 'This text contains invisible control characters; please retype it';
  else if (length(context) > contextMax) errors.context = `Please keep this to ${contextMax} characters or fewer (you wrote ${length(context)})`;

  if (Object.keys(errors).length > 0) return { ok: false, errors, values };
  return {
    ok: true,
    values,
    inquiry: { name, email, company, role, country, context, marketingOptIn: values.marketingOptIn, freeMail },
  };
}
