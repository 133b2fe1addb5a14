// The /privacy/request form: the raw posted body in, clean values or field messages out.
// Only these four fields are read; anything else posted is ignored and never stored.
import { isEmail } from '../people/is-email.ts';
import type { LoadedPolicy } from '../policy/load.ts';
import { isSingleAddress } from '../mail/queue-mail.ts';
import { REQUEST_TYPES, UNSPECIFIED } from './due-dates.ts';
import { isJurisdiction } from './jurisdictions.ts';

export const MESSAGE_MAX = 5000;
export type RequestFormField = 'email' | 'type' | 'jurisdiction' | 'message';
export type RequestFormValues = Record<RequestFormField, string>;
export type RequestFormErrors = Partial<Record<RequestFormField, string>>;

export interface CleanRequest {
  email: string;
  type: (typeof REQUEST_TYPES)[number];
  jurisdiction: string;
  message: string | null;
}

const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/;
const UNREADABLE = /\uFFFD/;

function text(body: Record<string, unknown>, key: string): string {
  const raw = body[key];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return typeof value === 'string' ? value : '';
}

export function readRequestValues(body: unknown): RequestFormValues {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  return { email: text(b, 'email'), type: text(b, 'type'), jurisdiction: text(b, 'jurisdiction'), message: text(b, 'message') };
}

export const emptyRequestValues: RequestFormValues = { email: '', type: '', jurisdiction: '', message: '' };

export function validateRequest(policy: LoadedPolicy, body: unknown): { ok: true; request: CleanRequest } | { ok: false; errors: RequestFormErrors } {
  const v = readRequestValues(body);
  const errors: RequestFormErrors = {};
  const email = v.email.trim();
  if (!email) errors.email = 'Enter your email address';
  else if (UNREADABLE.test(email) || CONTROL.test(email) || INVISIBLE.test(email)) errors.email = 'The email address contains characters we cannot read';
  else if (email.length > 254 || !isEmail(email) || !isSingleAddress(email)) errors.email = 'Enter an email address in the format name@company.com';
  if (!(REQUEST_TYPES as readonly string[]).includes(v.type)) errors.type = 'Choose what you would like us to do';
  const jurisdiction = v.jurisdiction.trim().toUpperCase() === UNSPECIFIED.toUpperCase() ? UNSPECIFIED : v.jurisdiction.trim().toUpperCase();
  if (!jurisdiction) errors.jurisdiction = 'Choose where you live, or “Somewhere else or not sure”';
  else if (!isJurisdiction(policy, jurisdiction)) errors.jurisdiction = 'Choose where you live from the list';
  const message = v.message.trim();
  if ([...message].length > MESSAGE_MAX) errors.message = `Shorten your message to ${MESSAGE_MAX} characters or fewer`;
  else if (UNREADABLE.test(message) || CONTROL.test(message.replace(/[\t\r\n]/g, ''))) errors.message = 'The message contains characters we cannot read';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, request: { email, type: v.type as CleanRequest['type'], jurisdiction, message: message || null } };
}
