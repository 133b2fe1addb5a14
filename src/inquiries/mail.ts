// The mails an inquiry sends: the visitor's confirmation and the staff notification.
// Personal values appear only in bodies; the only header carrying one (Reply-To) holds
// the validated address.
import type { FormKind, Policy } from '../policy/schema.ts';
import { oneLine, unsubscribeHeaders, type MailDraft } from '../mail/draft.ts';
import type { CleanInquiry } from './validate-inquiry.ts';

export type InquiryMailInput = CleanInquiry & { form: FormKind; reference: string };

const formNoun = { demo: 'demo request', contact: 'message' } as const;

export function confirmationMail(policy: Policy, publicUrl: string, input: InquiryMailInput, unsubscribeUrl: string | null): MailDraft {
  const org = policy.organisation;
  const lines = [
    `Hello ${oneLine(input.name)},`,
    '',
    `Thank you for your ${formNoun[input.form]}. We have received it and someone from our team will reply to this address soon.`,
    '',
    `Your reference: ${input.reference}`,
    '',
    `We use what you sent only to answer you. Our privacy notice explains what we keep and for how long: ${publicUrl}/privacy`,
    `To ask for a copy, a correction or deletion of your data, write to ${org.privacy_address} with the subject "${org.privacy_subject}".`,
  ];
  if (unsubscribeUrl) {
    lines.push('', 'You also asked to receive occasional product news from us. You can unsubscribe at any time with one click:', unsubscribeUrl);
  }
  lines.push('', `${org.name}`);
  return {
    to: input.email,
    subject: `We received your ${formNoun[input.form]} (${input.reference})`,
    text: lines.join('\n'),
    headers: unsubscribeUrl ? unsubscribeHeaders(unsubscribeUrl) : {},
  };
}

export function staffNotificationMail(policy: Policy, input: InquiryMailInput, countryName: string): MailDraft {
  const lines = [
    `New ${formNoun[input.form]} from the website.`,
    '',
    `Reference: ${input.reference}`,
    `Name:      ${oneLine(input.name)}`,
    `Email:     ${input.email}${input.freeMail ? '  (free-mail address, not a company domain)' : ''}`,
    `Company:   ${oneLine(input.company)}`,
    `Role:      ${oneLine(input.role)}`,
    `Country:   ${countryName} (${input.country})`,
    `Marketing: ${input.marketingOptIn ? 'opted in' : 'not opted in; do not add to any marketing list'}`,
    '',
    input.context ? `${input.form === 'demo' ? 'About their portfolio' : 'Message'}:\n${input.context}` : '(No message.)',
    '',
    'Reply to this email to answer them directly.',
  ];
  return {
    to: policy.organisation.staff_inbox,
    subject: `New ${formNoun[input.form]} ${input.reference}${input.freeMail ? ' [free-mail]' : ''}`,
    text: lines.join('\n'),
    headers: { 'Reply-To': input.email },
  };
}
