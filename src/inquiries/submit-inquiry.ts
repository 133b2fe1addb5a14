// Stores a validated inquiry with everything that must happen with it, atomically: the
// inquiry, the consent record when the box was ticked, the two outbox messages and the
// audit entry. The caller answers success only after this resolves (i.e. committed).
import { randomBytes, randomUUID } from 'node:crypto';
import type { Deps } from '../deps.ts';
import type { FormKind } from '../policy/schema.ts';
import { appendAuditInBatch } from '../audit/append-audit.ts';
import { grantConsent } from '../consent/grant-consent.ts';
import { queueMailsInBatch } from '../mail/queue-mail.ts';
import { confirmationMail, staffNotificationMail } from '../mail/templates.ts';
import { countryOptions } from './countries.ts';
import { findBySubmissionKey, insertInquiry } from './store.ts';
import type { CleanInquiry } from './validate-inquiry.ts';

const REFERENCE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

function newReference(): string {
  const bytes = randomBytes(8);
  let out = 'LT-';
  for (const b of bytes) out += REFERENCE_ALPHABET[b % REFERENCE_ALPHABET.length];
  return out;
}

export interface SubmitResult {
  inquiryId: string;
  reference: string;
  duplicate: boolean;
}

export async function submitInquiry(
  deps: Deps,
  input: { form: FormKind; inquiry: CleanInquiry; submissionKey: string },
): Promise<SubmitResult> {
  const { policy, current } = deps.policy;
  const { inquiry, form } = input;
  const now = deps.now();
  const deleteAfter = new Date(now.getTime() + policy.retention.follow_up_window_days * 86_400_000);

  return deps.storage.batcher.run(async (trx, batch) => {
    let id = '';
    let reference = '';
    for (let attempt = 1; ; attempt++) {
      id = randomUUID();
      reference = newReference();
      const inserted = await insertInquiry(trx, {
        id,
        reference,
        form,
        name: inquiry.name,
        email: inquiry.email,
        company: inquiry.company,
        role: inquiry.role,
        country: inquiry.country,
        context: inquiry.context || null,
        free_mail: inquiry.freeMail ? 1 : 0,
        notice_version: current.version,
        submission_key: input.submissionKey,
        created_at: now.toISOString(),
        delete_after: deleteAfter.toISOString(),
      });
      if (inserted) break;
      // The same form was stored before (a resend, a double click, another instance).
      const winner = await findBySubmissionKey(trx, input.submissionKey);
      if (winner) return { inquiryId: winner.id, reference: winner.reference, duplicate: true };
      // Otherwise the random reference (40 bits) was taken: draw another.
      if (attempt === 5) throw new Error('no free inquiry reference after 5 draws');
    }

    let unsubscribeUrl: string | null = null;
    if (inquiry.marketingOptIn) {
      const consent = await grantConsent(trx, deps.signer, now, {
        email: inquiry.email,
        name: inquiry.name,
        company: inquiry.company,
        country: inquiry.country,
        inquiryId: id,
        purpose: policy.marketing.purpose,
        wording: policy.marketing.checkbox_wording,
        noticeVersion: current.version,
        channel: `web-form:${form}`,
      });
      unsubscribeUrl = `${deps.config.publicUrl}/privacy/unsubscribe/${consent.unsubscribeToken}`;
    }

    const mailInput = { ...inquiry, form, reference };
    const countryName = countryOptions.find((c) => c.code === inquiry.country)?.name ?? inquiry.country;
    queueMailsInBatch(batch, now, id, [
      { kind: 'inquiry-confirmation', draft: confirmationMail(policy, deps.config.publicUrl, mailInput, unsubscribeUrl) },
      { kind: 'staff-notification', draft: staffNotificationMail(policy, mailInput, countryName) },
    ]);
    appendAuditInBatch(batch, now, {
      actor: 'visitor',
      action: 'inquiry.created',
      entityType: 'inquiry',
      entityId: id,
      details: { form, marketing_consent: inquiry.marketingOptIn, outbox_messages: 2, free_mail: inquiry.freeMail },
    });
    return { inquiryId: id, reference, duplicate: false };
  });
}
