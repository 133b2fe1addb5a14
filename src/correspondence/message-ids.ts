// Message-IDs as threading uses them. The outbox worker sends every message as
// `<outboxId@domain>`, the domain taken from the policy's mail_from the same way.
import type { Policy } from '../policy/schema.ts';

const ONE_ID = /<[^<>\s\p{Cc}]{1,900}>/gu;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function messageIdDomain(policy: Pick<Policy, 'organisation'>): string {
  return /@([^>\s]+)>?\s*$/.exec(policy.organisation.mail_from)?.[1] ?? 'localhost';
}

export function outboxMessageId(policy: Pick<Policy, 'organisation'>, outboxId: string): string {
  return `<${outboxId}@${messageIdDomain(policy)}>`;
}

/** The outbox id inside one of our own Message-IDs, or undefined. */
export function outboxIdOf(policy: Pick<Policy, 'organisation'>, messageId: string): string | undefined {
  const m = /^<([^@<>]+)@([^<>]+)>$/.exec(messageId);
  if (!m || m[2].toLowerCase() !== messageIdDomain(policy).toLowerCase() || !UUID.test(m[1])) return undefined;
  return m[1];
}

/** Every well-formed `<id>` in header values (mailparser gives strings or arrays), in order, once each. */
export function idsIn(...values: Array<string | string[] | undefined>): string[] {
  const out: string[] = [];
  for (const value of values.flat()) {
    if (typeof value !== 'string') continue;
    for (const id of value.match(ONE_ID) ?? []) if (!out.includes(id)) out.push(id);
  }
  return out;
}

/** One well-formed id, or undefined (a missing or malformed Message-ID is replaced by the caller). */
export function oneId(value: string | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return /^<[^<>\s\p{Cc}]{1,900}>$/u.test(trimmed) ? trimmed : undefined;
}

// What the outbox's threading-header check accepts (mail/queue-mail.ts): ids that are safe to repeat.
const SENDABLE_ID = /^<[^<>\s"(),;:\\[\]]{1,900}>$/;

export function isSendableId(id: string): boolean {
  return SENDABLE_ID.test(id);
}
