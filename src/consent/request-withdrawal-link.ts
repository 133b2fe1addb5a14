// /privacy/preferences: anyone may ask to stop marketing by typing an address. The link
// goes to that address only, and the page says the same thing whether or not the
// address is subscribed, so nobody can learn who is on the list.
import type { Deps } from '../deps.ts';
import { appendAuditInBatch } from '../audit/append-audit.ts';
import { queueMail } from '../mail/queue-mail.ts';
import { unsubscribeHeaders } from '../mail/templates.ts';
import { isSuppressed, latestConsentForSubject } from './store.ts';
import { subjectKey, unsubscribeToken } from './subject-key.ts';

export async function requestWithdrawalLink(deps: Deps, email: string): Promise<{ sent: boolean }> {
  const { policy } = deps.policy;
  const key = subjectKey(deps.signer, email);
  const now = deps.now();
  const result = await deps.storage.batcher.run(async (trx, batch) => {
    const latest = await latestConsentForSubject(trx, key, policy.marketing.purpose);
    if (!latest || latest.action !== 'granted' || (await isSuppressed(trx, key))) return { sent: false };
    const url = `${deps.config.publicUrl}/privacy/unsubscribe/${unsubscribeToken(deps.signer, latest.id)}`;
    const text = [
      'Hello,',
      '',
      `Someone (we hope you) asked ${policy.organisation.name} to stop sending marketing email to this address.`,
      'To confirm, open this link and press the button:',
      url,
      '',
      'If you did not ask for this, ignore this email and nothing will change.',
      '',
      policy.organisation.name,
    ].join('\n');
    await queueMail(trx, now, 'withdrawal-link', latest.inquiry_id, {
      to: latest.email,
      subject: `Confirm: stop marketing email from ${policy.organisation.name}`,
      text,
      headers: unsubscribeHeaders(url),
    });
    appendAuditInBatch(batch, now, { actor: 'data-subject', action: 'consent.withdrawal_link_sent', entityType: 'consent_record', entityId: latest.id });
    return { sent: true };
  });
  if (result.sent) deps.mailQueued();
  return result;
}
