// The marketing list: people whose latest consent record is a grant and who are not on
// the suppression list. Nobody else, ever.
import { toCsv } from '../http/csv.ts';
import type { Deps } from '../deps.ts';
import { inTransaction } from '../unit-of-work.ts';
import { currentConsents } from './store.ts';

export async function exportMarketingList(deps: Pick<Deps, 'storage' | 'policy' | 'now' | 'mailQueued'>, actor: string): Promise<{ csv: string; rows: number }> {
  const purpose = deps.policy.policy.marketing.purpose;
  // Read and audited in one transaction: the entry counts exactly the rows exported.
  return inTransaction(deps, async (uow) => {
    const consents = await currentConsents(uow.trx, purpose);
    uow.audit({ actor, action: 'marketing.exported', entityType: 'consent_record', entityId: '*', details: { rows: consents.length } });
    const csv = toCsv(
      ['email', 'name', 'company', 'country', 'consented_at', 'notice_version', 'channel', 'wording'],
      consents.map((c) => [c.email, c.name, c.company ?? '', c.country ?? '', c.recorded_at, c.notice_version ?? '', c.channel, c.wording ?? '']),
    );
    return { csv, rows: consents.length };
  });
}
