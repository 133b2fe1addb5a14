// The policy's correspondence section, read in one place.
import type { Policy } from '../policy/schema.ts';

export interface InboundSettings {
  /** Lower-cased recipient addresses the listener accepts. */
  addresses: Set<string>;
  messageMaxBytes: number;
  attachmentMaxBytes: number;
  oversizeAttachment: 'drop' | 'refuse';
  replyAddress: string;
}

export function inboundSettings(policy: Pick<Policy, 'organisation' | 'correspondence'>): InboundSettings {
  const c = policy.correspondence;
  const addresses = [policy.organisation.privacy_address, policy.organisation.staff_inbox, c.reply_address, ...c.inbound_addresses];
  return {
    addresses: new Set(addresses.map((a) => a.trim().toLowerCase())),
    messageMaxBytes: c.message_max_bytes,
    attachmentMaxBytes: c.attachment_max_bytes,
    oversizeAttachment: c.oversize_attachment,
    replyAddress: c.reply_address,
  };
}

/** The IMAP polling job's name (here, so the job list need not load the IMAP client). */
export const IMAP_POLL_JOB = 'correspondence.imap-poll';
