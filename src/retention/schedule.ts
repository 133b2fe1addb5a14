// The published schedule in words, from the policy's rules: how long each rule keeps
// its data and from which event, and when the sweep runs. Pure functions, used by the
// retention page, the privacy notice and `lumetrax retention run --dry-run` alike.
import cronstrue from 'cronstrue';
import type { Policy } from '../policy/schema.ts';
import type { RetentionEvent } from '../storage/categories.ts';
import type { InquiryStatus } from '../storage/types.ts';

export type RetentionRule = Policy['retention']['rules'][number];

const EVENT_WORDS: Record<RetentionEvent, string> = {
  closed: 'after the request is closed',
  last_activity: 'after the last message or change',
  received: 'after we receive it',
  withdrawn: 'after you withdraw or unsubscribe',
  fulfilled: 'after it is completed',
};

/** 180 -> "180 days", 1095 -> "3 years", 1 -> "1 day". */
export function daysInWords(days: number): string {
  if (days > 0 && days % 365 === 0) return days === 365 ? '1 year' : `${days / 365} years`;
  return days === 1 ? '1 day' : `${days} days`;
}

export function keptInWords(rule: Pick<RetentionRule, 'keep_days' | 'from'>): string {
  if (rule.keep_days === 'indefinitely') return 'Indefinitely';
  if (rule.keep_days === 0) return `Deleted at the next sweep ${EVENT_WORDS[rule.from]}`;
  return `${daysInWords(rule.keep_days)} ${EVENT_WORDS[rule.from]}`;
}

/** "0 3 * * *" in Europe/Dublin -> "at 03:00, every day (Europe/Dublin time)". */
export function cadenceInWords(cron: string, timeZone: string): string {
  const fields = cron.trim().split(/\s+/);
  let words = cronstrue.toString(cron, { use24HourTimeFormat: true, verbose: false });
  words = words[0].toLowerCase() + words.slice(1);
  if (fields.length === 5 && fields.slice(2).every((f) => f === '*') && !fields[1].includes('/') && !fields[1].includes('*')) words += ', every day';
  return `${words} (${timeZone} time)`;
}

/** When the rule makes data due: the instant before which its event must lie. */
export function cutoffOf(rule: Pick<RetentionRule, 'keep_days'>, asOf: Date): string | undefined {
  if (rule.keep_days === 'indefinitely') return undefined;
  return new Date(asOf.getTime() - rule.keep_days * 86_400_000).toISOString();
}

/** The event an inquiry's retention counts from, by its status (as the sweep reads it). */
const INQUIRY_EVENT: Record<InquiryStatus, RetentionEvent> = { new: 'received', in_conversation: 'last_activity', closed: 'closed' };

export interface InquiryDeletion {
  /** The instant from which the sweep deletes it, as it stands now. */
  at: string;
  rule: RetentionRule;
}

/**
 * When the sweep will delete an inquiry if nothing about it changes: its status picks the
 * rule (never answered, gone quiet, closed), and the rule's event plus its keep_days is
 * the date. A reply or closing it moves the date; a hold keeps it past the date. Undefined
 * when its rule keeps it indefinitely.
 */
export function inquiryDeletion(rules: readonly RetentionRule[], inquiry: { status: InquiryStatus; created_at: string; last_activity_at: string | null; closed_at: string | null }): InquiryDeletion | undefined {
  const event = INQUIRY_EVENT[inquiry.status];
  const from = event === 'received' ? inquiry.created_at : event === 'last_activity' ? inquiry.last_activity_at : inquiry.closed_at;
  if (!from) return undefined;
  let first: InquiryDeletion | undefined;
  // The sweep deletes once any rule for its event says so: the earliest date wins.
  for (const rule of rules) {
    if (rule.category !== 'inquiries' || rule.from !== event || rule.keep_days === 'indefinitely') continue;
    const at = new Date(Date.parse(from) + rule.keep_days * 86_400_000).toISOString();
    if (!first || at < first.at) first = { at, rule };
  }
  return first;
}
