// Checks an audit trail, from the database or from an export: every entry's hash and its
// link to the one before, the chain head, and every head signature (by a trusted key, over
// the hash the chain has at that seq now). Entries and signatures are read in seq order,
// a page at a time, so a long trail is never held in memory.
import type { KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AuditEntry, Database } from '../storage/types.ts';
import { entryHash, GENESIS_HASH } from './hash.ts';
import { headMessage, keyMessage, verifyBytes } from './sign-head.ts';
import { keyId, readPublicKey } from './signing-key.ts';
import { listEntries, listKeys, listSignatures, readHead, type AuditKey, type AuditSignature } from './store.ts';

export interface TrailSource {
  /** In seq order. */
  entries: AsyncIterable<AuditEntry>;
  /** In seq order. */
  signatures: AsyncIterable<AuditSignature>;
  keys: AuditKey[];
  head: { seq: number; hash: string } | undefined;
}

export interface Finding {
  /** The entry it names (the first bad one is the first finding). */
  seq: number;
  message: string;
}

export interface TrailCheck {
  entries: number;
  /** Signatures that verified and match the chain. */
  signatures: number;
  lastSignedSeq: number | undefined;
  /** In seq order, at most MAX_FINDINGS; `moreFindings` counts the rest. */
  findings: Finding[];
  moreFindings: number;
  /** Entries before the first finding (what verifyAuditChain reports as good). */
  goodEntries: number;
}

const MAX_FINDINGS = 1000;

/**
 * The keys whose signatures count: the anchors (the configured key, or the public key
 * given to an offline check), then every kept key vouched for by a key already trusted.
 */
export function trustedKeys(anchors: KeyObject[], rows: AuditKey[]): Map<string, KeyObject> {
  const trusted = new Map(anchors.map((k) => [keyId(k), k] as const));
  for (let grew = true; grew; ) {
    grew = false;
    for (const row of rows) {
      if (trusted.has(row.key_id) || !row.endorsed_by || !row.endorsement) continue;
      const endorser = trusted.get(row.endorsed_by);
      const key = readPublicKey(row.public_key);
      if (!endorser || !key || keyId(key) !== row.key_id) continue;
      if (!verifyBytes(endorser, keyMessage(row.key_id, row.public_key), row.endorsement)) continue;
      trusted.set(row.key_id, key);
      grew = true;
    }
  }
  return trusted;
}

export async function checkTrail(source: TrailSource, anchors: KeyObject[]): Promise<TrailCheck> {
  const trusted = trustedKeys(anchors, source.keys);
  const inTable = new Set(source.keys.map((k) => k.key_id));
  const findings: Finding[] = [];
  let moreFindings = 0;
  let goodEntries: number | undefined;
  let count = 0;
  const report = (seq: number, message: string) => {
    goodEntries ??= count;
    if (findings.length < MAX_FINDINGS) findings.push({ seq, message });
    else moreFindings++;
  };

  let signatures = 0;
  let lastSignedSeq: number | undefined;
  /** The last seq whose signed hash still matches: a rewrite happened after it. */
  let lastMatching = 0;
  const beyond: AuditSignature[] = [];
  /** Checks the signature itself; true when a trusted key made it over what it says. */
  const signatureHolds = (s: AuditSignature): boolean => {
    const key = trusted.get(s.key_id);
    if (!key) {
      report(s.seq, inTable.has(s.key_id)
        ? `signature at seq ${s.seq} (${s.signed_at}): key ${s.key_id} is kept beside the chain but not vouched for by the trusted key (${anchors.map(keyId).join(', ')})`
        : `signature at seq ${s.seq} (${s.signed_at}): names unknown key ${s.key_id}`);
      return false;
    }
    if (!verifyBytes(key, headMessage(s.seq, s.hash, s.signed_at, s.key_id), s.signature)) {
      report(s.seq, `signature at seq ${s.seq} (${s.signed_at}): does not verify with the public key of key ${s.key_id} (forged or altered)`);
      return false;
    }
    return true;
  };
  const checkSignature = (s: AuditSignature, entry: AuditEntry | undefined) => {
    if (!signatureHolds(s)) return;
    // Missing entries are reported by the entry that follows the gap.
    if (!entry) return;
    if (entry.hash !== s.hash) {
      const since = lastMatching > 0 ? `after seq ${lastMatching} (the last signed head that still matches), ` : '';
      report(s.seq, `entry ${s.seq}: its hash is not the one signed at ${s.signed_at} by key ${s.key_id}: the chain was rewritten ${since}at or before entry ${s.seq}`);
      return;
    }
    lastMatching = s.seq;
    signatures++;
    lastSignedSeq = s.seq;
  };

  const sigs = source.signatures[Symbol.asyncIterator]();
  let sig = await sigs.next();
  let prev = GENESIS_HASH;
  let lastSeq = 0;
  for await (const e of source.entries) {
    const { hash, ...rest } = e;
    if (e.seq !== lastSeq + 1) {
      report(e.seq, e.seq <= lastSeq
        ? `entry ${e.seq}: out of order after entry ${lastSeq}`
        : `entry ${e.seq}: follows entry ${lastSeq}; ${e.seq - lastSeq === 2 ? `entry ${lastSeq + 1} is` : `entries ${lastSeq + 1} to ${e.seq - 1} are`} missing (deleted)`);
    } else if (e.prev_hash !== prev) {
      report(e.seq, `entry ${e.seq}: does not chain from entry ${lastSeq} (an entry was inserted, removed or edited here)`);
    }
    if (entryHash(rest) !== hash) report(e.seq, `entry ${e.seq}: its content does not match its hash (edited or inserted)`);
    count++;
    while (!sig.done && sig.value.seq <= e.seq) {
      checkSignature(sig.value, sig.value.seq === e.seq ? e : undefined);
      sig = await sigs.next();
    }
    // Chain on from the stored hash, so an edit is reported once, not for every later entry.
    prev = hash;
    lastSeq = e.seq;
  }
  for (; !sig.done; sig = await sigs.next()) if (signatureHolds(sig.value)) beyond.push(sig.value);
  if (beyond.length > 0) {
    const last = beyond[beyond.length - 1];
    report(lastSeq + 1, `entry ${lastSeq + 1}: missing: the chain ends at seq ${lastSeq}, but seq ${last.seq} was signed at ${last.signed_at} by key ${last.key_id} (the tail was cut off)`);
  }
  const head = source.head;
  if (!head) report(lastSeq + 1, 'the chain head is missing');
  else if (head.seq > lastSeq) report(lastSeq + 1, `entry ${lastSeq + 1}: missing: the chain head is at seq ${head.seq}, the chain ends at seq ${lastSeq}`);
  else if (head.seq < lastSeq) report(head.seq + 1, `entry ${head.seq + 1}: not counted by the chain head (head at seq ${head.seq}, chain ends at seq ${lastSeq}; inserted)`);
  else if (head.hash !== prev) report(lastSeq, `entry ${lastSeq}: the chain head's hash is not this entry's`);

  findings.sort((a, b) => a.seq - b.seq);
  return { entries: count, signatures, lastSignedSeq, findings, moreFindings, goodEntries: goodEntries ?? count };
}

async function* paged<T>(fetch: (last: T | undefined) => Promise<T[]>): AsyncGenerator<T> {
  let last: T | undefined;
  for (;;) {
    const page = await fetch(last);
    if (page.length === 0) return;
    yield* page;
    last = page[page.length - 1];
  }
}

/** The trail as it stands in the database. Without anchors, signatures are not read. */
export function databaseTrail(db: Kysely<Database>, options: { signatures: boolean }, head: TrailSource['head'], keys: AuditKey[]): TrailSource {
  return {
    entries: paged<AuditEntry>((last) => listEntries(db, last?.seq ?? 0, 1000)),
    signatures: options.signatures ? paged<AuditSignature>((last) => listSignatures(db, last && { seq: last.seq, keyId: last.key_id }, 1000)) : (async function* () {})(),
    keys,
    head,
  };
}

/** Hashes and signatures of the trail in the database, trusting `anchors` (and keys they vouch for). */
export async function verifyAuditTrail(db: Kysely<Database>, anchors: KeyObject[]): Promise<TrailCheck> {
  const head = await readHead(db);
  const keys = await listKeys(db);
  return checkTrail(databaseTrail(db, { signatures: true }, head, keys), anchors);
}

/** One line per finding, or the line saying the trail is intact. */
export function describeCheck(check: TrailCheck): { ok: boolean; lines: string[] } {
  if (check.findings.length === 0) {
    const signed = check.lastSignedSeq === undefined ? 'not signed yet' : `last signed at seq ${check.lastSignedSeq}`;
    return { ok: true, lines: [`Audit chain intact: ${check.entries} entries, ${check.signatures} signatures (${signed})`] };
  }
  const lines = check.findings.map((f) => f.message);
  if (check.moreFindings > 0) lines.push(`... and ${check.moreFindings} more findings`);
  return { ok: false, lines };
}
