// Withdrawal appends a record (history is never rewritten) and puts the person's subject
// key on the suppression list, in one unit of work with its audit entry.
import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps.ts';
import { findPerson } from '../people/store.ts';
import { subjectKeys } from '../people/subject.ts';
import { inBatch } from '../unit-of-work.ts';
import { addSuppression, findConsentRecord, insertConsentRecord, isSuppressed, latestConsentForPerson } from './store.ts';

export type WithdrawResult = { status: 'withdrawn' | 'already_withdrawn'; maskedEmail: string } | { status: 'unknown' };

export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  return `${local.slice(0, 1)}${'•'.repeat(Math.max(1, Math.min(local.length - 1, 6)))}@${email.slice(at + 1)}`;
}

export async function withdrawConsent(deps: Deps, consentRecordId: string, channel: string): Promise<WithdrawResult> {
  return inBatch(deps, async (uow) => {
    const record = await findConsentRecord(uow.trx, consentRecordId);
    const person = record && (await findPerson(uow.trx, record.person_id));
    if (!record || !person) return { status: 'unknown' };
    const latest = await latestConsentForPerson(uow.trx, person.id, record.purpose);
    const suppressed = await isSuppressed(uow.trx, subjectKeys(deps.signer, person.email));
    if (suppressed && latest?.action === 'withdrawn') return { status: 'already_withdrawn', maskedEmail: maskEmail(person.email) };
    const id = randomUUID();
    await insertConsentRecord(uow.trx, {
      id,
      person_id: person.id,
      inquiry_id: record.inquiry_id,
      purpose: record.purpose,
      action: 'withdrawn',
      wording: null,
      notice_version: deps.policy.current.version,
      channel,
      recorded_at: uow.now.toISOString(),
    });
    await addSuppression(uow.trx, person.subject_key, 'withdrawn', uow.now.toISOString());
    uow.audit({ actor: 'data-subject', action: 'consent.withdrawn', entityType: 'consent_record', entityId: id, details: { channel } });
    return { status: 'withdrawn', maskedEmail: maskEmail(person.email) };
  });
}
