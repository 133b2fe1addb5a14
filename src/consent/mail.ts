// The mails the consent domain sends: the link to confirm stopping marketing email, and
// the link to confirm a fresh opt-in after an earlier withdrawal.
import type { Policy } from '../policy/schema.ts';
import { unsubscribeHeaders, type MailDraft } from '../mail/draft.ts';

export function withdrawalLinkMail(policy: Policy, to: string, url: string): MailDraft {
  const org = policy.organisation;
  return {
    to,
    subject: `Confirm: stop marketing email from ${org.name}`,
    text: [
      'Hello,',
      '',
      `Someone (we hope you) asked ${org.name} to stop sending marketing email to this address.`,
      'To confirm, open this link and press the button:',
      url,
      '',
      'If you did not ask for this, ignore this email and nothing will change.',
      '',
      org.name,
    ].join('\n'),
    headers: unsubscribeHeaders(url),
  };
}

export function optInConfirmationMail(policy: Policy, to: string, url: string, expiresInDays: number): MailDraft {
  const org = policy.organisation;
  return {
    to,
    subject: `Confirm: receive product news from ${org.name} again`,
    text: [
      'Hello,',
      '',
      `You asked ${org.name} to stop marketing email to this address earlier, and a form on our website has now ticked the box to receive it again.`,
      'We will only do that once you confirm. Open this link and press the button:',
      url,
      '',
      `The link works for ${expiresInDays} days. If you did not ask for this, ignore this email: you stay unsubscribed.`,
      '',
      org.name,
    ].join('\n'),
    headers: {},
  };
}
