// The first staff answer to an inquiry nobody has written about yet: a thread for it,
// opened with a record of the confirmation mail the visitor received (its Message-ID is
// the outbox id), so the reply threads under that mail in their mail program and their
// answer finds its way back. The confirmation's text is not kept once it is sent, and is
// not copied here either.
import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps.ts';
import { inBatch } from '../unit-of-work.ts';
import { outboxMessageId } from './message-ids.ts';
import { actorOf, CorrespondenceError, type StaffActor } from './staff-actor.ts';
import { findInquiry, insertMessage, insertThread, latestThreadOfInquiry } from './store.ts';

export async function startThread(deps: Pick<Deps, 'storage' | 'policy' | 'now' | 'mailQueued'>, input: StaffActor & { inquiryId: string }): Promise<{ threadId: string; created: boolean }> {
  return inBatch(deps, async (uow) => {
    const inquiry = await findInquiry(uow.trx, input.inquiryId);
    if (!inquiry) throw new CorrespondenceError('not_found', 'no such inquiry');
    const existing = await latestThreadOfInquiry(uow.trx, inquiry.id);
    if (existing) return { threadId: existing, created: false };
    const detail = await uow.trx.selectFrom('inquiry').select(['reference', 'form', 'created_at']).where('id', '=', inquiry.id).executeTakeFirstOrThrow();
    const noun = detail.form === 'demo' ? 'demo request' : 'message';
    const subject = `We received your ${noun} (${detail.reference})`;
    const threadId = randomUUID();
    const at = uow.now.toISOString();
    await insertThread(uow.trx, { id: threadId, inquiry_id: inquiry.id, person_id: inquiry.person_id, subject, created_at: at, last_message_at: detail.created_at });
    const confirmation = await uow.trx.selectFrom('outbox').select('id').where('inquiry_id', '=', inquiry.id).where('kind', '=', 'inquiry-confirmation').executeTakeFirst();
    if (confirmation) {
      await insertMessage(uow.trx, {
        id: randomUUID(),
        thread_id: threadId,
        direction: 'out',
        message_id: outboxMessageId(deps.policy.policy, confirmation.id),
        in_reply_to: null,
        reference_ids: null,
        from_person_id: null,
        from_address: null,
        staff_account_id: null,
        outbox_id: confirmation.id,
        source: 'console',
        subject,
        text_body: '(Our automatic confirmation of the form. Its text is not kept once sent.)',
        html_body: null,
        note: 'automatic confirmation',
        at: detail.created_at,
      });
    }
    uow.audit({ actor: actorOf(input), action: 'correspondence.thread_started', entityType: 'mail_thread', entityId: threadId, details: { session: input.sessionId, inquiry: inquiry.id } });
    return { threadId, created: true };
  });
}
