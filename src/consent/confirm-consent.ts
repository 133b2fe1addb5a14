// Following the emailed link after a fresh opt-in: the pending grant becomes a consent
// record (wording, notice version and channel as shown when the box was ticked, time of
// confirmation), the suppression entry is lifted, and history keeps the earlier grant and
// withdrawal. A link is single-use and expires.
import type { Deps } from '../deps.ts';
import { findPerson } from '../people/store.ts';
import { subjectKeys } from '../people/subject.ts';
import { inBatch } from '../unit-of-work.ts';
import { insertConsentRecord, removeSuppression, takeConfirmation } from './store.ts';
import { maskEmail } from './withdraw-consent.ts';

export type ConfirmResult = { status: 'confirmed'; maskedEmail: string } | { status: 'unknown' | 'expired' };

export async function confirmConsent(deps: Deps, confirmationId: string): Promise<ConfirmResult> {
  return inBatch(deps, async (uow) => {
    const pending = await takeConfirmation(uow.trx, confirmationId);
    if (!pending) return { status: 'unknown' };
    if (pending.expires_at < uow.now.toISOString()) return { status: 'expired' };
    const person = await findPerson(uow.trx, pending.person_id);
    if (!person) return { status: 'unknown' };
    await insertConsentRecord(uow.trx, {
      id: confirmationId,
      person_id: person.id,
      inquiry_id: pending.inquiry_id,
      purpose: pending.purpose,
      action: 'granted',
      wording: pending.wording,
      notice_version: pending.notice_version,
      channel: `${pending.channel}+email-confirmation`,
      recorded_at: uow.now.toISOString(),
    });
    const lifted = await removeSuppression(uow.trx, subjectKeys(deps.signer, person.email));
    uow.audit({ actor: 'data-subject', action: 'consent.reconfirmed', entityType: 'consent_record', entityId: confirmationId, details: { suppression_entries_lifted: lifted } });
    return { status: 'confirmed', maskedEmail: maskEmail(person.email) };
  });
}
