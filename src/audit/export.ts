// The trail as JSON lines, for a verifier without the database or its secret: a header,
// the chain head, the kept public keys (with who vouched for them), the head signatures,
// then every entry. `lumetrax audit verify --file F --public-key K` checks it offline,
// trusting only the public key it is given.
import { createReadStream, closeSync, fchmodSync, openSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Kysely } from 'kysely';
import type { AuditEntry, Database } from '../storage/types.ts';
import { listEntries, listKeys, listSignatures, readHead, type AuditKey, type AuditSignature } from './store.ts';
import type { TrailSource } from './verify.ts';

const FORMAT = 'lumetrax-audit-export';

export class ExportError extends Error {}

/** Writes the trail line by line (the entries a page at a time); returns the counts. */
export async function writeExport(db: Kysely<Database>, write: (line: string) => void, now: Date): Promise<{ entries: number; signatures: number }> {
  const line = (record: object) => write(`${JSON.stringify(record)}\n`);
  line({ type: FORMAT, version: 1, exported_at: now.toISOString() });
  // Read before the entries: entries appended meanwhile are then beyond the head, which
  // verify reports, rather than silently included.
  const head = await readHead(db);
  line({ type: 'head', seq: head?.seq ?? 0, hash: head?.hash ?? null });
  for (const k of await listKeys(db)) line({ type: 'key', ...k });
  let signatures = 0;
  for (let after: { seq: number; keyId: string } | undefined; ; ) {
    const page = await listSignatures(db, after, 1000);
    if (page.length === 0) break;
    for (const s of page) if (s.seq <= (head?.seq ?? 0)) (line({ type: 'signature', ...s }), signatures++);
    const last = page[page.length - 1];
    after = { seq: last.seq, keyId: last.key_id };
  }
  let entries = 0;
  for (let from = 0; ; ) {
    const page = await listEntries(db, from, 1000);
    for (const e of page) if (e.seq <= (head?.seq ?? 0)) (line({ type: 'entry', ...e }), entries++);
    if (page.length < 1000) break;
    from = page[page.length - 1].seq;
  }
  return { entries, signatures };
}

/** An owner-only file (tightened if it existed), written through `writeExport`. */
export async function exportToFile(db: Kysely<Database>, path: string, now: Date): Promise<{ entries: number; signatures: number }> {
  const fd = openSync(path, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600);
    return await writeExport(db, (text) => writeSync(fd, text), now);
  } finally {
    closeSync(fd);
  }
}

async function* records(path: string): AsyncGenerator<{ n: number; record: Record<string, unknown> }> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const text of lines) {
    n++;
    if (text.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      throw new ExportError(`${path} line ${n}: not a JSON record of an audit export`);
    }
    if (!record || typeof record !== 'object' || typeof (record as { type?: unknown }).type !== 'string') throw new ExportError(`${path} line ${n}: a record without a type`);
    yield { n, record: record as Record<string, unknown> };
  }
}

const without = <T extends Record<string, unknown>>(r: T): Omit<T, 'type'> => {
  const { type: _type, ...rest } = r;
  return rest;
};

/**
 * The export as a trail source. A first pass reads the header, head, keys and signatures;
 * the entries are streamed by a second pass.
 */
export async function readExport(path: string): Promise<TrailSource> {
  let header = false;
  let head: TrailSource['head'];
  const keys: AuditKey[] = [];
  const signatures: AuditSignature[] = [];
  for await (const { n, record } of records(path)) {
    if (n === 1 || !header) {
      if (record.type !== FORMAT || record.version !== 1) throw new ExportError(`${path}: not an audit export (written by \`lumetrax audit export\`)`);
      header = true;
    } else if (record.type === 'head') head = typeof record.hash === 'string' ? { seq: Number(record.seq), hash: record.hash } : undefined;
    else if (record.type === 'key') keys.push(without(record) as unknown as AuditKey);
    else if (record.type === 'signature') signatures.push({ ...(without(record) as unknown as AuditSignature), seq: Number(record.seq) });
    else if (record.type !== 'entry') throw new ExportError(`${path} line ${n}: unknown record type ${JSON.stringify(record.type)}`);
  }
  if (!header) throw new ExportError(`${path}: empty; not an audit export`);
  signatures.sort((a, b) => a.seq - b.seq || (a.key_id < b.key_id ? -1 : a.key_id > b.key_id ? 1 : 0));
  async function* entries(): AsyncGenerator<AuditEntry> {
    for await (const { record } of records(path)) if (record.type === 'entry') yield without(record) as unknown as AuditEntry;
  }
  return {
    entries: entries(),
    signatures: (async function* () {
      yield* signatures;
    })(),
    keys,
    head,
  };
}
