// The privacy notice: the version's prose (Markdown we write and review) with the
// policy's values and tables substituted in.
import { Marked } from 'marked';
import type { LoadedPolicy } from '../policy/load.ts';
import { escapeHtml, trusted, type SafeHtml } from '../http/html.ts';
import { cadenceInWords } from '../retention/schedule.ts';
import { cookieTable, fieldsTable, purposesTable, retentionTable } from './policy-tables.ts';

const marked = new Marked({ gfm: true, async: false });

export function inlineValues(loaded: LoadedPolicy): Record<string, string> {
  const { policy } = loaded;
  return {
    'org.name': policy.organisation.name,
    'org.legal_name': policy.organisation.legal_name,
    privacy_address: policy.organisation.privacy_address,
    privacy_subject: policy.organisation.privacy_subject,
    follow_up_window_days: String(policy.retention.follow_up_window_days),
    acknowledge_business_days: String(policy.deadlines.acknowledge_business_days),
    answer_business_days: String(policy.deadlines.answer_business_days),
    sweep_cadence: cadenceInWords(policy.retention.sweep_cadence, policy.business_calendar.time_zone),
    raw_event_lifetime_hours: String(policy.analytics.raw_event_lifetime_hours),
    small_count_threshold: String(policy.analytics.small_count_threshold),
  };
}

/** The postal address, only when the policy gives one (it is optional for organisations without a public office). */
export function postalAddress(loaded: LoadedPolicy): string | undefined {
  const address: string | undefined = loaded.policy.organisation.postal_address;
  return address && address.trim() ? address.trim() : undefined;
}

export function renderNotice(loaded: LoadedPolicy, version: string): SafeHtml | null {
  let source = loaded.notices.get(version);
  if (source === undefined) return null;
  const values = inlineValues(loaded);
  const postal = postalAddress(loaded);
  if (postal) values.postal_address = postal;
  // Without an address, the line that would print it goes: "By post:" with nothing after
  // it promises a way to reach us that does not exist.
  else source = source.split('\n').filter((line) => !/\{\{\s*postal_address\s*\}\}/.test(line)).join('\n');
  const blocks: Record<string, SafeHtml> = {
    fields_table: fieldsTable(loaded),
    purposes_table: purposesTable(loaded),
    retention_table: retentionTable(loaded),
    cookie_table: cookieTable(loaded),
  };
  // Markdown special characters in values must not turn into markup: values are
  // substituted as HTML-escaped text after Markdown rendering, via opaque markers.
  const withMarkers = source.replace(/\{\{\s*([a-z_.]+)\s*\}\}/g, (_m, key: string) => `@@${key}@@`);
  let rendered = marked.parse(withMarkers) as string;
  rendered = rendered.replace(/<p>@@([a-z_.]+)@@<\/p>/g, (m, key: string) => blocks[key]?.value ?? m);
  rendered = rendered.replace(/@@([a-z_.]+)@@/g, (m, key: string) =>
    key in values ? escapeHtml(values[key]) : key in blocks ? blocks[key].value : m,
  );
  const unknown = rendered.match(/@@([a-z_.]+)@@/);
  if (unknown) throw new Error(`notice ${version}: unknown placeholder {{${unknown[1]}}}`);
  return trusted(rendered);
}
