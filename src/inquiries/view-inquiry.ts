// One inquiry opened by a staff member: audited with their account and session.
import type { Deps } from '../deps.ts';
import { inBatch } from '../unit-of-work.ts';
import type { StaffReader } from './list-inquiries.ts';
import { inquiryDetail, type InquiryDetail } from './store.ts';

export async function viewInquiry(deps: Pick<Deps, 'storage' | 'now' | 'mailQueued'>, reader: StaffReader, inquiryId: string): Promise<InquiryDetail | undefined> {
  return inBatch(deps, async (uow) => {
    const inquiry = await inquiryDetail(uow.trx, inquiryId);
    if (inquiry) {
      uow.audit({ actor: `staff:${reader.staffAccountId}`, action: 'inquiry.viewed', entityType: 'inquiry', entityId: inquiry.id, details: { session: reader.sessionId, person: inquiry.person_id } });
    }
    return inquiry;
  });
}
