// The mails the desk sends: the acknowledgement (what happens next, both dates in the
// business calendar's words, the verification link), and the alerts to the privacy role.
// Personal values appear only in bodies; the one header beyond the defaults is the
// In-Reply-To of the requester's own message, so the answer threads under it.
import type { Deps } from '../deps.ts';
import type { MailDraft } from '../mail/draft.ts';
import { isSendableId } from '../correspondence/message-ids.ts';
import { localDate } from './due-dates.ts';
import type { RequestRow } from './store.ts';

export const TYPE_WORDS: Record<RequestRow['type'], string> = {
  access: 'a copy of the personal data we hold about you',
  correction: 'a correction of the personal data we hold about you',
  deletion: 'deletion of the personal data we hold about you',
  unspecified: 'your privacy question',
};

export const TYPE_LABELS: Record<RequestRow['type'], string> = { access: 'Access', correction: 'Correction', deletion: 'Deletion', unspecified: 'Not yet known' };

export function acknowledgementMail(
  deps: Pick<Deps, 'policy'>,
  request: Pick<RequestRow, 'reference' | 'requester_email' | 'type' | 'jurisdiction' | 'acknowledge_by' | 'respond_by' | 'respond_rule_kind'>,
  verifyUrl: string,
  verifyDays: number,
  inReplyTo: string | null,
): MailDraft {
  const org = deps.policy.policy.organisation;
  const asked = request.type === 'unspecified' ? 'We received your privacy question.' : `We received your request for ${TYPE_WORDS[request.type]}.`;
  const lines = [
    'Hello,',
    '',
    `${asked} This email is our acknowledgement of it.`,
    '',
    `Your reference: ${request.reference}`,
    '',
    'What happens next:',
    '',
    `1. Please confirm that this address is yours by opening the link below and pressing the button on the page. Until you do, we cannot show, change or delete any data. The link works once and for ${verifyDays} days:`,
    verifyUrl,
    '',
    request.type === 'unspecified'
      ? '2. A member of our privacy team will read your message, and may ask you whether you want a copy of your data, a correction or deletion.'
      : '2. A member of our privacy team will then handle your request.',
    '',
    `3. We will answer you by ${localDate(deps, request.respond_by)} at the latest${request.respond_rule_kind === 'legal' ? ' (the deadline the law that applies to you sets)' : ''}.`,
    ...(request.jurisdiction === 'unspecified'
      ? ['', 'That is our own deadline. If the law where you live gives you an earlier one, reply to this email and tell us where you live: we keep to whichever is earlier.']
      : []),
    '',
    `We promise to acknowledge every request within ${deps.policy.policy.deadlines.acknowledge_business_days} business day (for yours, by ${localDate(deps, request.acknowledge_by)}) and to answer within ${deps.policy.policy.deadlines.answer_business_days} business days, or sooner where the law requires it.`,
    '',
    `If you did not write to us, you can ignore this email: nothing happens without the confirmation. Questions: reply to this email or write to ${org.privacy_address} with the subject "${org.privacy_subject}".`,
    '',
    org.name,
  ];
  const headers: Record<string, string> = { 'Reply-To': org.privacy_address };
  if (inReplyTo && isSendableId(inReplyTo)) {
    headers['In-Reply-To'] = inReplyTo;
    headers.References = inReplyTo;
  }
  return { to: request.requester_email, subject: `Re: ${org.privacy_subject} (${request.reference})`, text: lines.join('\n'), headers };
}

export type AlertLevel = '50' | '80' | 'breach';

/** To one member of the privacy role: ids and dates only, never the requester's address. */
export function alertMail(deps: Pick<Deps, 'policy' | 'config'>, to: string, request: Pick<RequestRow, 'id' | 'reference' | 'type' | 'status' | 'respond_by'>, level: AlertLevel): MailDraft {
  const what = level === 'breach' ? 'is OVERDUE: its answer was due' : `has used ${level}% of its time: its answer is due`;
  return {
    to,
    subject: level === 'breach' ? `Overdue privacy request ${request.reference}` : `Privacy request ${request.reference} at ${level}% of its time`,
    text: [
      `Privacy request ${request.reference} (${TYPE_LABELS[request.type]}, ${request.status.replace('_', ' ')}) ${what} ${localDate(deps, request.respond_by)}.`,
      '',
      `Open it in the console: ${deps.config.publicUrl}/console/requests/${request.id}`,
    ].join('\n'),
    headers: {},
  };
}

/** The answer to a refused request, with the staff's reasons and the right to complain. */
export function refusalMail(deps: Pick<Deps, 'policy'>, request: Pick<RequestRow, 'reference' | 'requester_email' | 'type'>, reason: string): MailDraft {
  const org = deps.policy.policy.organisation;
  return {
    to: request.requester_email,
    subject: `Re: ${org.privacy_subject} (${request.reference})`,
    text: [
      'Hello,',
      '',
      `We cannot carry out your request (${request.reference}) for ${TYPE_WORDS[request.type]}, for this reason:`,
      '',
      reason,
      '',
      'Because of this, we have not shown, changed or deleted any data. You may complain to your data protection authority, or ask a court, about this decision. You are welcome to write to us again, for example from the address the data is held under.',
      '',
      `Questions: reply to this email or write to ${org.privacy_address} with the subject "${org.privacy_subject}".`,
      '',
      org.name,
    ].join('\n'),
    headers: { 'Reply-To': org.privacy_address },
  };
}

/** The answer to an access request: the expiring link to the package. */
export function accessLinkMail(deps: Pick<Deps, 'policy'>, request: Pick<RequestRow, 'reference' | 'requester_email'>, url: string, days: number): MailDraft {
  const org = deps.policy.policy.organisation;
  return {
    to: request.requester_email,
    subject: `Re: ${org.privacy_subject} (${request.reference}): your data`,
    text: [
      'Hello,',
      '',
      `Here is everything we hold about you, as you asked (${request.reference}). The link shows it as a page you can read or print, with a copy as a file (JSON), for ${days} days:`,
      url,
      '',
      'Anyone with the link can open it, so please do not forward it.',
      '',
      `Questions, or anything to correct or delete: reply to this email or write to ${org.privacy_address} with the subject "${org.privacy_subject}".`,
      '',
      org.name,
    ].join('\n'),
    headers: { 'Reply-To': org.privacy_address },
  };
}

/** The answer to a deletion request: what was deleted, and what a hold keeps and why. */
export function erasureMail(deps: Pick<Deps, 'policy'>, request: Pick<RequestRow, 'reference' | 'requester_email'>, result: { erased: Record<string, number>; kept: Array<{ table: string; ids: string[]; hold: { kind: string; reason: string; until: string | null } }> }): MailDraft {
  const org = deps.policy.policy.organisation;
  const erased = Object.values(result.erased).reduce((n, c) => n + c, 0);
  const holds = new Map<string, { kind: string; reason: string; until: string | null; records: number }>();
  for (const k of result.kept) {
    const key = `${k.hold.kind}~${k.hold.reason}`;
    const entry = holds.get(key) ?? { ...k.hold, records: 0 };
    entry.records += k.ids.length;
    holds.set(key, entry);
  }
  const lines = ['Hello,', '', `As you asked (${request.reference}), we have deleted the personal data we held about you: ${erased} ${erased === 1 ? 'record' : 'records'}.`];
  if (holds.size > 0) {
    lines.push('', 'Some of it we must keep for now:');
    for (const h of holds.values()) lines.push(`- ${h.records} ${h.records === 1 ? 'record' : 'records'}, because of ${h.kind === 'contract' ? 'a contract' : 'a legal hold'}: ${h.reason}${h.until ? ` (until ${h.until.slice(0, 10)})` : ''}. We delete it when that ends.`);
  }
  lines.push(
    '',
    'We keep only a one-way code made from your address, so that we never email you again, and the record of this request as proof that we answered it.',
    '',
    org.name,
  );
  return { to: request.requester_email, subject: `Re: ${org.privacy_subject} (${request.reference}): deleted`, text: lines.join('\n'), headers: { 'Reply-To': org.privacy_address } };
}

const FIELD_WORDS: Record<string, string> = { name: 'name', email: 'email address', company: 'company', role: 'role', country: 'country', context: 'context you gave' };

/**
 * The answer to a correction request: which fields changed on which record ("your name",
 * "the company on request LT-…"), never a value before or after (the mail may be read
 * by someone else; the requester knows what they asked for).
 */
export function correctionMail(
  deps: Pick<Deps, 'policy'>,
  request: Pick<RequestRow, 'reference' | 'requester_email'>,
  changed: Array<{ table: 'person' | 'inquiry'; id: string; field: string }>,
  inquiryReferences: Map<string, string>,
): MailDraft {
  const org = deps.policy.policy.organisation;
  const lines = changed.map((c) => `- ${c.table === 'person' ? `your ${FIELD_WORDS[c.field] ?? c.field}` : `the ${FIELD_WORDS[c.field] ?? c.field} on request ${inquiryReferences.get(c.id) ?? 'of yours'}`}`);
  return {
    to: request.requester_email,
    subject: `Re: ${org.privacy_subject} (${request.reference}): corrected`,
    text: [
      'Hello,',
      '',
      `As you asked (${request.reference}), we have corrected the personal data we hold about you. We changed:`,
      '',
      ...lines,
      '',
      ...(changed.some((c) => c.table === 'person' && c.field === 'email') ? ['We will use the corrected email address from now on.', ''] : []),
      `If anything is still not right: reply to this email or write to ${org.privacy_address} with the subject "${org.privacy_subject}".`,
      '',
      org.name,
    ].join('\n'),
    headers: { 'Reply-To': org.privacy_address },
  };
}
