// /privacy/preferences: anyone may ask to stop marketing by typing an address. The answer
// must not tell who is subscribed, by its words or by its timing, so the request takes
// one path whatever the address: the keyed hash of the address is written, and that is
// all. A job (`consent.withdrawal-links`) looks the waiting requests up on its own cadence
// (not woken by the request, whose answer would otherwise race a lookup whose cost
// depends on the address) and mails the link only to a subscribed address, at most
// CONSENT_MAILS_PER_DAY times a day.
import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps.ts';
import { findPersonBySubjectKey } from '../people/store.ts';
import { subjectKey, subjectKeys } from '../people/subject.ts';
import { inBatch, inTransaction } from '../unit-of-work.ts';
import { CONSENT_MAILS_PER_DAY } from './grant-consent.ts';
import { withdrawalLinkMail } from './mail.ts';
import { insertWithdrawalRequest, isSuppressed, latestConsentForPerson, spendMailAllowance, takeWithdrawalRequests } from './store.ts';
import { unsubscribeToken } from './tokens.ts';

export const WITHDRAWAL_LINKS_JOB = 'consent.withdrawal-links';

export async function requestWithdrawalLink(deps: Deps, email: string): Promise<void> {
  const key = subjectKey(deps.signer, email);
  await inBatch(deps, async (uow) => {
    await insertWithdrawalRequest(uow.trx, { id: randomUUID(), subject_key: key, requested_at: uow.now.toISOString() });
  });
}

export interface WithdrawalLinkCounts {
  requests: number;
  sent: number;
  not_subscribed: number;
  over_allowance: number;
}

/** The job: every waiting request is answered (or not) and removed, in one transaction per batch. */
export async function sendWithdrawalLinks(deps: Deps): Promise<WithdrawalLinkCounts> {
  const counts: WithdrawalLinkCounts = { requests: 0, sent: 0, not_subscribed: 0, over_allowance: 0 };
  const { policy } = deps.policy;
  for (;;) {
    const taken = await inTransaction(deps, async (uow) => {
      const requests = await takeWithdrawalRequests(uow.trx, 100);
      for (const request of requests) {
        counts.requests++;
        const person = await findPersonBySubjectKey(uow.trx, request.subject_key);
        const latest = person && (await latestConsentForPerson(uow.trx, person.id, policy.marketing.purpose));
        if (!person || latest?.action !== 'granted' || (await isSuppressed(uow.trx, subjectKeys(deps.signer, person.email)))) {
          counts.not_subscribed++;
          continue;
        }
        if (!(await spendMailAllowance(uow.trx, person.subject_key, uow.now.toISOString().slice(0, 10), CONSENT_MAILS_PER_DAY))) {
          counts.over_allowance++;
          continue;
        }
        const url = `${deps.config.publicUrl}/privacy/unsubscribe/${unsubscribeToken(deps.signer, latest.id)}`;
        uow.queueMail('withdrawal-link', withdrawalLinkMail(policy, person.email, url), { personId: person.id, inquiryId: latest.inquiry_id });
        uow.audit({ actor: 'data-subject', action: 'consent.withdrawal_link_sent', entityType: 'consent_record', entityId: latest.id });
        counts.sent++;
      }
      return requests.length;
    });
    if (taken < 100) return counts;
  }
}
