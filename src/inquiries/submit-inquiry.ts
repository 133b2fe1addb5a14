// Stores a validated inquiry with everything that must happen with it, atomically: the
// person, the inquiry, the consent record (or the request to confirm it) when the box was
// ticked, the outbox messages and the audit entry. The caller answers success only after
// this resolves (i.e. committed).
import { randomBytes, randomUUID } from 'node:crypto';
import type { Deps } from '../deps.ts';
import type { FormKind } from '../policy/schema.ts';
import { grantConsent } from '../consent/grant-consent.ts';
import { personContact } from '../people/record-person.ts';
import { inBatchLed } from '../unit-of-work.ts';
import { countryOptions } from './countries.ts';
import { confirmationMail, staffNotificationMail } from './mail.ts';
import { findBySubmissionKey, insertInquiriesWithPeople, insertInquiryWithPerson, type InquiryWithPerson } from './store.ts';
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
  personId: string;
  reference: string;
  duplicate: boolean;
}

export async function submitInquiry(
  deps: Deps,
  input: { form: FormKind; inquiry: CleanInquiry; submissionKey: string },
): Promise<SubmitResult> {
  const { policy, current } = deps.policy;
  const { inquiry, form } = input;

  const deleteAfter = (now: Date) => new Date(now.getTime() + policy.retention.follow_up_window_days * 86_400_000).toISOString();
  const draw = (now: Date): InquiryWithPerson => ({
    person: personContact(now, deps.signer, { email: inquiry.email, name: inquiry.name }),
    inquiry: {
      id: randomUUID(),
      reference: newReference(),
      form,
      company: inquiry.company,
      role: inquiry.role,
      country: inquiry.country,
      context: inquiry.context || null,
      free_mail: inquiry.freeMail ? 1 : 0,
      notice_version: current.version,
      submission_key: input.submissionKey,
      created_at: now.toISOString(),
      // Retention counts from the last activity; the submission is the first.
      last_activity_at: now.toISOString(),
      delete_after: deleteAfter(now),
    },
  });

  // The person and inquiry insert opens the unit of work, so a batch of submissions
  // writes them in one statement (insertInquiriesWithPeople).
  return inBatchLed(deps, insertInquiriesWithPeople, draw, async (uow, first, firstDrawn) => {
    let drawn = firstDrawn;
    let written = first;
    for (let attempt = 1; !written.inserted; attempt++) {
      // The same form was stored before (a resend, a double click, another instance).
      const winner = await findBySubmissionKey(uow.trx, input.submissionKey);
      if (winner) return { inquiryId: winner.id, personId: written.personId, reference: winner.reference, duplicate: true };
      // Otherwise the random reference (40 bits) was taken: draw another.
      if (attempt === 5) throw new Error('no free inquiry reference after 5 draws');
      drawn = draw(uow.now);
      written = await insertInquiryWithPerson(uow.trx, drawn.person, drawn.inquiry);
    }
    const { id, reference } = drawn.inquiry;
    const personId = written.personId;

    const consent = inquiry.marketingOptIn
      ? await grantConsent(uow, deps, { personId, email: inquiry.email, inquiryId: id, channel: `web-form:${form}` })
      : undefined;

    const mailInput = { ...inquiry, form, reference };
    const countryName = countryOptions.find((c) => c.code === inquiry.country)?.name ?? inquiry.country;
    const refs = { personId, inquiryId: id };
    uow.queueMail('inquiry-confirmation', confirmationMail(policy, deps.config.publicUrl, mailInput, consent?.status === 'granted' ? consent.unsubscribeUrl : null), refs);
    uow.queueMail('staff-notification', staffNotificationMail(policy, mailInput, countryName), refs);
    uow.audit({
      actor: 'visitor',
      action: 'inquiry.created',
      entityType: 'inquiry',
      entityId: id,
      details: { form, marketing_consent: consent?.status ?? 'not_asked', outbox_messages: consent?.status === 'confirmation_sent' ? 3 : 2, free_mail: inquiry.freeMail },
    });
    return { inquiryId: id, personId, reference, duplicate: false };
  });
}
