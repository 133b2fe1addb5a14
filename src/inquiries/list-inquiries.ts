// The inbox: a page of inquiries for a staff member, with the filters they chose. A staff
// read of personal data, so the page itself is audited (who, which session, how many rows,
// which filters were used; never the text searched for, which may be a name).
import type { Deps } from '../deps.ts';
import { inBatch } from '../unit-of-work.ts';
import { inboxPage, type InboxCursor, type InboxFilters, type InboxRow } from './store.ts';
import { inboxTextSearch } from './text-search.ts';

export interface StaffReader {
  staffAccountId: string;
  sessionId: string;
}

export interface InboxPage {
  rows: InboxRow[];
  next: InboxCursor | undefined;
}

export async function listInquiries(deps: Pick<Deps, 'storage' | 'now' | 'mailQueued'>, reader: StaffReader, filters: InboxFilters, after: InboxCursor | undefined, limit = 50): Promise<InboxPage> {
  const search = filters.text ? await inboxTextSearch(deps.storage) : 'trigram';
  return inBatch(deps, async (uow) => {
    const rows = await inboxPage(uow.trx, filters, after, limit + 1, { search });
    const page = rows.slice(0, limit);
    uow.audit({
      actor: `staff:${reader.staffAccountId}`,
      action: 'inquiry.listed',
      entityType: 'inquiry',
      entityId: '*',
      details: { session: reader.sessionId, rows: page.length, filters: Object.keys(filters).filter((k) => filters[k as keyof InboxFilters] !== undefined).join(','), deep: after !== undefined },
    });
    const last = page.at(-1);
    return { rows: page, next: rows.length > limit && last ? { createdAt: last.created_at, id: last.id } : undefined };
  });
}
