// A ticked opt-in becomes an append-only consent record: purpose, the exact wording
// shown, the notice version in force, the time and the channel.
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Signer } from '../http/signing.ts';
import type { Database } from '../storage/types.ts';
import { insertConsentRecord } from './store.ts';
import { subjectKey, unsubscribeToken } from './subject-key.ts';

export interface GrantInput {
  email: string;
  name: string;
  company: string;
  country: string;
  inquiryId: string;
  purpose: string;
  wording: string;
  noticeVersion: string;
  channel: string;
}

export async function grantConsent(trx: Transaction<Database>, signer: Signer, at: Date, input: GrantInput): Promise<{ id: string; unsubscribeToken: string }> {
  const id = randomUUID();
  await insertConsentRecord(trx, {
    id,
    subject_key: subjectKey(signer, input.email),
    email: input.email,
    name: input.name,
    company: input.company,
    country: input.country,
    inquiry_id: input.inquiryId,
    purpose: input.purpose,
    action: 'granted',
    wording: input.wording,
    notice_version: input.noticeVersion,
    channel: input.channel,
    recorded_at: at.toISOString(),
  });
  return { id, unsubscribeToken: unsubscribeToken(signer, id) };
}
