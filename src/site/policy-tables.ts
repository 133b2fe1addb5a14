// Tables rendered from the policy, used by the notice and the retention page alike, so
// what is published is what runs.
import type { LoadedPolicy } from '../policy/load.ts';
import { describePeriod, requestTypes, type DeadlineRow } from '../policy/deadline-table.ts';
import { html, type SafeHtml } from '../http/html.ts';
import { fieldNames, optionalFields } from '../inquiries/validate-inquiry.ts';
import { keptInWords } from '../retention/schedule.ts';

// Visitors read plain words; the policy speaks fideslang. One table maps the two.
const categoryWords: Record<string, string> = {
  'user.name': 'Name',
  'user.contact.email': 'Email address',
  'user.contact.phone_number': 'Phone number',
  'user.contact.address': 'Postal address',
  'user.contact.address.country': 'Country',
  'user.workplace': 'Company',
  'user.job_title': 'Job title',
  'user.content.private': 'Your message',
  'user.content': 'What you write to us',
  'user.privacy_preferences': 'Your marketing choice',
  'user.device.cookie_id': 'Cookie identifier',
  'user.device.ip_address': 'Network (IP) address',
  'user.behavior.browsing_history': 'Pages visited',
  'system.operations': 'Technical records',
};

/** A data category in plain words; an unknown id reads as its last part ("user.x.home_city" -> "Home city"). */
export function categoryLabel(category: string): string {
  const known = categoryWords[category];
  if (known) return known;
  const last = category.split('.').pop() ?? category;
  const words = last.replace(/_/g, ' ').trim();
  return words ? words[0].toUpperCase() + words.slice(1) : category;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** 2026-11-25 -> 25 November 2026 (en-GB), without Intl: ICU's date-format and zone data cost ~8 MB of RSS. */
export function formatDate(iso: string): string {
  const [year, month, day] = iso.split('-').map(Number);
  return `${day} ${MONTHS[month - 1]} ${year}`;
}

const basisLabel: Record<string, string> = {
  consent: 'Consent',
  contract: 'Contract (a request you started)',
  legal_obligation: 'Legal obligation',
  vital_interests: 'Vital interests',
  public_task: 'Public task',
  legitimate_interest: 'Legitimate interest',
};

export function humanLifetime(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} day${seconds === 86400 ? '' : 's'}`;
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`;
  if (seconds % 60 === 0) return `${seconds / 60} minute${seconds === 60 ? '' : 's'}`;
  return `${seconds} seconds`;
}

// A wide table scrolls sideways on a narrow screen; `scrolls` makes its wrapper a named,
// focusable region so keyboard users can scroll it too.
function table(caption: string, headers: string[], rows: Array<Array<string | SafeHtml>>, scrolls = false): SafeHtml {
  const region = scrolls ? html` role="region" tabindex="0" aria-label="${caption}"` : '';
  return html`<div class="table-wrap"${region}><table class="data-table">
<caption>${caption}</caption>
<thead><tr>${headers.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
<tbody>${rows.map((r) => html`<tr>${r.map((c, i) => (i === 0 ? html`<th scope="row">${c}</th>` : html`<td>${c}</td>`))}</tr>`)}</tbody>
</table></div>`;
}

export function cookieTable(loaded: LoadedPolicy): SafeHtml {
  const { cookies } = loaded.policy;
  if (cookies.length === 0) return html`<p>We set no cookies at all.</p>`;
  return table(
    'Cookies this site may set',
    ['Name', 'Purpose', 'Type', 'Lifetime', 'When it is set'],
    cookies.map((c) => [c.name, c.purpose, 'Strictly necessary, first-party', humanLifetime(c.lifetime_seconds), c.set_when]),
  );
}

export function purposesTable(loaded: LoadedPolicy): SafeHtml {
  return table(
    'Why we use personal data, and the lawful basis for each purpose',
    ['Purpose', 'Lawful basis', 'Detail'],
    loaded.policy.purposes.map((p) => [p.name, basisLabel[p.lawful_basis], p.basis_detail]),
  );
}

export function fieldsTable(loaded: LoadedPolicy): SafeHtml {
  const f = loaded.policy.fields;
  const rows: Array<[string, string, string]> = fieldNames.map((name) => [f[name].label, optionalFields.has(name) ? 'Optional' : 'Required', categoryLabel(f[name].category)]);
  rows.push(['Marketing opt-in', 'Optional, unticked unless you tick it', categoryLabel('user.privacy_preferences')]);
  return table('What the demo and contact forms ask for', ['Field', 'Required?', 'Kind of data'], rows);
}

export function retentionTable(loaded: LoadedPolicy): SafeHtml {
  const { retention, analytics } = loaded.policy;
  // One row per rule of the policy: the same rules the deletion job applies.
  const rows: Array<[string, string, string, string]> = retention.rules.map((r) => [r.data, keptInWords(r), r.purpose, basisLabel[r.legal_basis]]);
  rows.push(['Raw analytics events (page, source, device class, country and a visitor key that changes every day; no address or browser details)', `Until the next ${analytics.rollup_cadence} count, at most ${analytics.raw_event_lifetime_hours} hours; then only aggregated totals are kept`, 'Counting page views without identifying anyone', basisLabel.legitimate_interest]);
  return table('How long we keep each kind of data', ['Data', 'How long we keep it', 'Why', 'Legal basis'], rows);
}

function deadlineCell(row: DeadlineRow | undefined): string {
  if (!row) return 'Not in our table';
  if (row.deadline) return describePeriod(row.deadline);
  return row.noStatutoryRight ? 'No such legal right' : 'No fixed period';
}

/**
 * The regional legal deadlines, one row per jurisdiction (and period of force), rendered
 * from the same table the request clock reads, with each law's citation and sources.
 */
export function deadlinesTable(loaded: LoadedPolicy): SafeHtml {
  const groups = new Map<string, DeadlineRow[]>();
  for (const row of loaded.regionalRules) {
    const key = `${row.jurisdiction}|${row.effectiveFrom ?? ''}|${row.effectiveUntil ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  const rows = [...groups.values()].map((rs) => {
    const first = rs[0];
    const when = first.effectiveFrom && first.effectiveUntil
      ? ` (requests received ${formatDate(first.effectiveFrom)} to ${formatDate(first.effectiveUntil)})`
      : first.effectiveFrom
        ? ` (requests received from ${formatDate(first.effectiveFrom)})`
        : first.effectiveUntil
          ? ` (requests received until ${formatDate(first.effectiveUntil)})`
          : '';
    const unverified = rs.some((r) => r.confidence === 'low');
    const citations = [...new Set(rs.map((r) => r.citation))];
    // Written out, not linked: the site's pages link to nothing outside it.
    const sources = [...new Set(rs.flatMap((r) => r.source.split(/\s+;\s+/)))].join(' ; ');
    return [
      html`${first.name}${when} <span class="muted">${first.jurisdiction}</span>`,
      ...requestTypes.map((t) => deadlineCell(rs.find((r) => r.requestType === t))),
      html`${citations.join('; ')}${unverified ? html` <strong>(not yet confirmed against the legal text)</strong>` : ''}<br><span class="muted source">Sources: ${sources}</span>`,
    ];
  });
  return table('Legal deadlines for answering a request to access, correct or delete personal data', ['Where you live', 'Access', 'Correction', 'Deletion', 'Law'], rows, true);
}
