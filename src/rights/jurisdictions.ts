// The jurisdictions a requester may choose: every country (ISO 3166-1, English names),
// and after each, the subdivisions the regional deadline table has rows for (US-CA,
// CA-QC, ...), plus "somewhere else or not sure" (unspecified). The clock takes any of
// them: a country without a row of its own is timed on the company deadline.
import type { LoadedPolicy } from '../policy/load.ts';
import { countryOptions } from '../inquiries/countries.ts';
import { UNSPECIFIED } from './due-dates.ts';

const cache = new WeakMap<LoadedPolicy, Array<{ code: string; name: string }>>();

export function jurisdictionOptions(policy: LoadedPolicy): Array<{ code: string; name: string }> {
  const known = cache.get(policy);
  if (known) return known;
  const subdivisions = new Map<string, Array<{ code: string; name: string }>>();
  for (const row of policy.regionalRules) {
    const code = row.jurisdiction;
    if (code.length <= 2) continue;
    const list = subdivisions.get(code.slice(0, 2)) ?? [];
    if (!list.some((s) => s.code === code)) list.push({ code, name: row.name.replace(/\s*\(.*$/, '').trim() || code });
    subdivisions.set(code.slice(0, 2), list);
  }
  const out: Array<{ code: string; name: string }> = [];
  for (const c of countryOptions) {
    out.push(c);
    for (const s of (subdivisions.get(c.code) ?? []).sort((a, b) => (a.name < b.name ? -1 : 1))) out.push({ code: s.code, name: `${c.name}: ${s.name}` });
  }
  cache.set(policy, out);
  return out;
}

export function isJurisdiction(policy: LoadedPolicy, code: string): boolean {
  return code === UNSPECIFIED || jurisdictionOptions(policy).some((j) => j.code === code);
}

export function jurisdictionName(policy: LoadedPolicy, code: string): string {
  if (code === UNSPECIFIED) return 'Not yet known';
  return jurisdictionOptions(policy).find((j) => j.code === code)?.name ?? code;
}
