// The marketing list: people whose latest consent record is a grant and who are not on
// the suppression list. Nobody else, ever.
import { toCsv } from '../http/csv.ts';
import type { Deps } from '../deps.ts';
import { appendAudit } from '../audit/append-audit.ts';
import { currentConsents } from './store.ts';

export async function exportMarketingList(deps: Pick<Deps, 'storage' | 'policy' | 'now'>, actor: string): Promise<{ csv: string; rows: number }> {
  const purpose = deps.policy.policy.marketing.purpose;
  const consents = await currentConsents(deps.storage.db, purpose);
  const csv = toCsv(
    ['email', 'name', 'company', 'country', 'consented_at', 'notice_version', 'channel', 'wording'],
    consents.map((c) => [c.email, c.name, c.company, c.country, c.recorded_at, c.notice_version ?? '', c.channel, c.wording ?? '']),
  );
  const now = deps.now();
  await deps.storage.batcher.run((trx) =>
    appendAudit(trx, now, { actor, action: 'marketing.exported', entityType: 'consent_record', entityId: '*', details: { rows: consents.length } }),
  );
  return { csv, rows: consents.length };
}
