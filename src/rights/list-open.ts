// `lumetrax rights list [--json]`: the open requests, soonest answer due first, with
// status, type, jurisdiction, both due dates and the time left. No addresses and no
// words of the requester: a terminal is no place for them, and the reference is enough
// to open the request in the console.
import type { Kysely } from 'kysely';
import type { Database } from '../storage/types.ts';
import { riskOf } from './list-requests.ts';
import { queue } from './store.ts';

export interface OpenRequestLine {
  id: string;
  reference: string;
  status: string;
  type: string;
  jurisdiction: string;
  channel: string;
  verified: boolean;
  receivedAt: string;
  acknowledgeBy: string;
  respondBy: string;
  rule: string;
  ruleKind: string;
  citation: string;
  elapsed: number;
  risk: string;
}

export async function listOpenRequests(db: Kysely<Database>, now: Date): Promise<OpenRequestLine[]> {
  const rows = await queue(db, { open: true }, 100_000);
  return rows.map((r) => {
    const { elapsed, risk } = riskOf(r, now);
    return {
      id: r.id,
      reference: r.reference,
      status: r.status,
      type: r.type,
      jurisdiction: r.jurisdiction,
      channel: r.channel,
      verified: r.verified_at !== null,
      receivedAt: r.received_at,
      acknowledgeBy: r.acknowledge_by,
      respondBy: r.respond_by,
      rule: r.respond_rule,
      ruleKind: r.respond_rule_kind,
      citation: r.respond_citation,
      elapsed: Math.round(elapsed * 1000) / 1000,
      risk,
    };
  });
}

export function formatOpenRequests(lines: OpenRequestLine[], json: boolean): string {
  if (json) return `${JSON.stringify(lines, null, 2)}\n`;
  if (lines.length === 0) return 'No open privacy requests.\n';
  const header = ['reference', 'status', 'type', 'jurisdiction', 'verified', 'received', 'acknowledge by', 'respond by', 'used', 'risk'];
  const table = lines.map((l) => [l.reference, l.status, l.type, l.jurisdiction, l.verified ? 'yes' : 'no', l.receivedAt, l.acknowledgeBy, l.respondBy, `${Math.round(l.elapsed * 100)}%`, l.risk]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const fmt = (row: string[]) => row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return `${[fmt(header), ...table.map(fmt)].join('\n')}\n${lines.length} open ${lines.length === 1 ? 'request' : 'requests'}; times in UTC.\n`;
}
