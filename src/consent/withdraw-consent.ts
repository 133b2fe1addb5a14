// Withdrawal appends a record (history is never rewritten) and puts the keyed hash of
// the address on the suppression list, in one transaction with its audit entry.
import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps.ts';
import { appendAuditInBatch } from '../audit/append-audit.ts';
import { addSuppression, findConsentRecord, insertConsentRecord, isSuppressed, latestConsentForSubject } from './store.ts';

export type WithdrawResult = { status: 'withdrawn' | 'already_withdrawn'; maskedEmail: string } | { status: 'unknown' };

export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  return `${local.slice(0, 1)}${'•'.repeat(Math.max(1, Math.min(local.length - 1, 6)))}@${email.slice(at + 1)}`;
}

export async function withdrawConsent(deps: Deps, consentRecordId: string, channel: string): Promise<WithdrawResult> {
  const now = deps.now();
  return deps.storage.batcher.run(async (trx, batch) => {
    const record = await findConsentRecord(trx, consentRecordId);
    if (!record) return { status: 'unknown' };
    const latest = await latestConsentForSubject(trx, record.subject_key, record.purpose);
    const suppressed = await isSuppressed(trx, record.subject_key);
    if (suppressed && latest?.action === 'withdrawn') return { status: 'already_withdrawn', maskedEmail: maskEmail(record.email) };
    const id = randomUUID();
    await insertConsentRecord(trx, {
      id,
      subject_key: record.subject_key,
      email: record.email,
      name: record.name,
      company: record.company,
      country: record.country,
      inquiry_id: record.inquiry_id,
      purpose: record.purpose,
      action: 'withdrawn',
      wording: null,
      notice_version: deps.policy.current.version,
      channel,
      recorded_at: now.toISOString(),
    });
    await addSuppression(trx, record.subject_key, 'withdrawn', now.toISOString());
    appendAuditInBatch(batch, now, { actor: 'data-subject', action: 'consent.withdrawn', entityType: 'consent_record', entityId: id, details: { channel } });
    return { status: 'withdrawn', maskedEmail: maskEmail(record.email) };
  });
}
