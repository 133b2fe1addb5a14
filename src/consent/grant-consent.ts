// A ticked opt-in becomes an append-only consent record: the person, purpose, the exact
// wording shown, the notice version in force, the time and the channel. Someone who
// withdrew earlier is on the suppression list; a tick on a form (which anyone could
// send with their address) does not lift that by itself: we email them a link, and only
// following it makes their consent current again (confirm-consent.ts).
import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps.ts';
import { subjectKeys } from '../people/subject.ts';
import type { UnitOfWork } from '../unit-of-work.ts';
import { optInConfirmationMail } from './mail.ts';
import { insertConfirmation, insertConsentRecord, isSuppressed, latestConsentForPerson, spendMailAllowance } from './store.ts';
import { confirmationToken, unsubscribeToken } from './tokens.ts';

export const CONFIRMATION_DAYS = 7;
/** Mails about consent that one address can be sent per day, whoever asks. */
export const CONSENT_MAILS_PER_DAY = 3;

export interface GrantInput {
  personId: string;
  email: string;
  inquiryId: string | null;
  channel: string;
}

export type GrantOutcome =
  | { status: 'granted'; consentId: string; unsubscribeUrl: string }
  | { status: 'confirmation_sent' | 'confirmation_limited'; confirmationId: string | null };

export async function grantConsent(uow: UnitOfWork, deps: Pick<Deps, 'signer' | 'policy' | 'config'>, input: GrantInput): Promise<GrantOutcome> {
  const { policy, current } = deps.policy;
  const purpose = policy.marketing.purpose;
  const at = uow.now.toISOString();
  const keys = subjectKeys(deps.signer, input.email);
  const latest = await latestConsentForPerson(uow.trx, input.personId, purpose);
  if (latest?.action === 'withdrawn' || (await isSuppressed(uow.trx, keys))) {
    if (!(await spendMailAllowance(uow.trx, keys[0], at.slice(0, 10), CONSENT_MAILS_PER_DAY))) {
      uow.audit({ actor: 'visitor', action: 'consent.confirmation_limited', entityType: 'person', entityId: input.personId });
      return { status: 'confirmation_limited', confirmationId: null };
    }
    const id = randomUUID();
    await insertConfirmation(uow.trx, {
      id,
      person_id: input.personId,
      inquiry_id: input.inquiryId,
      purpose,
      wording: policy.marketing.checkbox_wording,
      notice_version: current.version,
      channel: input.channel,
      requested_at: at,
      expires_at: new Date(uow.now.getTime() + CONFIRMATION_DAYS * 86_400_000).toISOString(),
    });
    const url = `${deps.config.publicUrl}/privacy/confirm/${confirmationToken(deps.signer, id)}`;
    uow.queueMail('consent-confirmation', optInConfirmationMail(policy, input.email, url, CONFIRMATION_DAYS), { personId: input.personId, inquiryId: input.inquiryId });
    uow.audit({ actor: 'visitor', action: 'consent.confirmation_requested', entityType: 'consent_confirmation', entityId: id });
    return { status: 'confirmation_sent', confirmationId: id };
  }
  const id = randomUUID();
  await insertConsentRecord(uow.trx, {
    id,
    person_id: input.personId,
    inquiry_id: input.inquiryId,
    purpose,
    action: 'granted',
    wording: policy.marketing.checkbox_wording,
    notice_version: current.version,
    channel: input.channel,
    recorded_at: at,
  });
  return { status: 'granted', consentId: id, unsubscribeUrl: `${deps.config.publicUrl}/privacy/unsubscribe/${unsubscribeToken(deps.signer, id)}` };
}
