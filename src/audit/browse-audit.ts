// The trail as privacy and admin staff browse it in the console. Entries hold ids and
// counts only, but who looked at the trail is itself worth knowing: each page is recorded.
import type { Deps } from '../deps.ts';
import type { AuditEntry } from '../storage/types.ts';
import { inBatch } from '../unit-of-work.ts';
import { browseEntries, type AuditFilters } from './store.ts';

export interface AuditPage {
  entries: AuditEntry[];
  /** Pass as `beforeSeq` for the next (older) page; undefined on the last. */
  next: number | undefined;
}

export async function browseAudit(
  deps: Pick<Deps, 'storage' | 'now' | 'mailQueued'>,
  reader: { staffAccountId: string; sessionId: string },
  filters: AuditFilters,
  beforeSeq: number | undefined,
  limit = 100,
): Promise<AuditPage> {
  return inBatch(deps, async (uow) => {
    const rows = await browseEntries(uow.trx, filters, beforeSeq, limit + 1);
    const entries = rows.slice(0, limit);
    uow.audit({ actor: `staff:${reader.staffAccountId}`, action: 'audit.viewed', entityType: 'audit_log', entityId: '*', details: { session: reader.sessionId, rows: entries.length } });
    return { entries, next: rows.length > limit ? entries.at(-1)?.seq : undefined };
  });
}
