// The bytes of one attachment, for download. A staff read: audited with account and session.
import type { Deps } from '../deps.ts';
import { inBatch } from '../unit-of-work.ts';
import { actorOf, type StaffActor } from './staff-actor.ts';
import type { Role } from '../auth/roles.ts';
import { findAttachment, isPrivacyRequestThread } from './store.ts';

export interface AttachmentFile {
  id: string;
  threadId: string;
  filename: string;
  contentType: string;
  size: number;
  content: Buffer;
}

export async function getAttachment(deps: Pick<Deps, 'storage' | 'now' | 'mailQueued'>, input: StaffActor & { role: Role; attachmentId: string }): Promise<AttachmentFile | undefined> {
  return inBatch(deps, async (uow) => {
    const row = await findAttachment(uow.trx, input.attachmentId);
    if (!row) return undefined;
    // Mail of a privacy request is for the privacy role only, even to someone who has the id.
    if (input.role !== 'privacy' && (await isPrivacyRequestThread(uow.trx, row.thread_id))) return undefined;
    uow.audit({ actor: actorOf(input), action: 'correspondence.attachment_viewed', entityType: 'mail_attachment', entityId: row.id, details: { session: input.sessionId, thread: row.thread_id, message: row.message_id } });
    return { id: row.id, threadId: row.thread_id, filename: row.filename, contentType: row.content_type, size: Number(row.size), content: Buffer.from(row.content) };
  });
}
