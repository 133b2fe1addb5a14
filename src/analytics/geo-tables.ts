// Builds the country table files that geo.ts reads (layout: TableHeader there), one per
// address family, from the mmdb files of @ip-location-db/geo-whois-asn-country-mmdb. Run
// outside the service, which only reads the result:
//   node src/analytics/geo-tables.ts [--dir DIR] [ipv4|ipv6 ...]
// builds each named family (default both) whose file is missing or unreadable, into
// node_modules/.cache/lumetrax-geo/ unless --dir says otherwise. scripts/ensure-setup.mjs
// runs it before start and test; geo.ts runs it in a child process when a file is missing.
// Each file is written under a temporary name and renamed, so a reader never sees half.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { endianness } from 'node:os';
import { parseArgs } from 'node:util';
import ipaddr from 'ipaddr.js';
import { Reader, type Response } from 'mmdb-lib';
import { defaultCacheDir, mmdbFile, openTable, sourceVersion, SPLIT, TABLE_FORMAT, TABLE_MAGIC, tableFile, type Family, type TableHeader } from './geo.ts';

// ip-location-db's records are { country_code }, not MaxMind's shape.
type CountryRecord = { country_code?: string };

// Addresses that never leave a site or a provider's network have no country, though the data
// names one for some (172.16.0.0/12 and 192.168.0.0/16 as AU): that would be every visitor's
// country when seen through a proxy on such a network. Written into the tables as no data.
type LocalNetwork = { prefix: Uint32Array; length: number };
const localNetworks = (cidrs: string[]): LocalNetwork[] =>
  cidrs.map((cidr) => {
    const [address, length] = ipaddr.parseCIDR(cidr);
    const bytes = address.toByteArray();
    const prefix = new Uint32Array(4);
    bytes.forEach((byte, i) => (prefix[i >>> 2] |= byte << (24 - 8 * (i & 3))));
    return { prefix, length };
  });
const LOCAL = {
  // unspecified, RFC 1918, shared (CGNAT), loopback, link-local
  ipv4: localNetworks(['0.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16']),
  // unspecified, loopback, unique local, link-local
  ipv6: localNetworks(['::/128', '::1/128', 'fc00::/7', 'fe80::/10']),
};

/**
 * Range starts as big-endian 32-bit words, `stride` per range (1 for IPv4, 2 for the high half
 * of IPv6), sorted; `countries[index[i]]` is the code of range i ('' at 0 for no data). An
 * index of SPLIT sends the look-up on to `split`, ranges by all 128 bits.
 */
type RangeTable = {
  stride: number;
  starts: Uint32Array;
  index: Uint8Array;
  countries: string[];
  split: { starts: Uint32Array; index: Uint8Array };
};

const CODE = /^[A-Z]{2}$/;
const MARKER = Buffer.from('\xAB\xCD\xEFMaxMind.com', 'latin1');

function readNodes(db: Buffer, recordSize: number) {
  switch (recordSize) {
    case 24:
      return { left: (n: number) => db.readUIntBE(n * 6, 3), right: (n: number) => db.readUIntBE(n * 6 + 3, 3) };
    case 28:
      return {
        left: (n: number) => ((db[n * 7 + 3] & 0xf0) << 20) | db.readUIntBE(n * 7, 3),
        right: (n: number) => ((db[n * 7 + 3] & 0x0f) << 24) | db.readUIntBE(n * 7 + 4, 3),
      };
    case 32:
      return { left: (n: number) => db.readUInt32BE(n * 8), right: (n: number) => db.readUInt32BE(n * 8 + 4) };
  }
  throw new Error(`geo: unsupported mmdb record size ${recordSize}`);
}

/**
 * Walks the file's search tree in address order and emits one range per change of country.
 * Only the tree is read here; records are decoded by mmdb-lib, once per distinct record.
 */
function buildRangeTable(db: Buffer, family: Family): RangeTable {
  if (db.lastIndexOf(MARKER) < 0) throw new Error('geo: not a MaxMind DB file');
  const reader = new Reader<Response>(db);
  const { nodeCount, recordSize, ipVersion } = reader.metadata;
  const { left, right } = readNodes(db, recordSize);
  const bitLength = family === 'ipv4' ? 32 : 128;
  if (family === 'ipv6' && ipVersion !== 6) throw new Error('geo: IPv6 lookups need an IPv6 database');

  // An IPv6 database keeps IPv4 under ::/96, where mmdb-lib looks too.
  let root = 0;
  if (family === 'ipv4' && ipVersion === 6) {
    for (let depth = 0; depth < 96 && root < nodeCount; depth++) root = left(root);
  }

  const countries = [''];
  const countryIndex = new Map<string, number>([['', 0]]);
  const indexByRecord = new Map<number, number>();
  const prefix = new Uint32Array(4); // bits of the current path, the rest zero

  const addressOf = (words: Uint32Array) => {
    if (family === 'ipv4') return ipaddr.fromByteArray([words[0] >>> 24, (words[0] >>> 16) & 255, (words[0] >>> 8) & 255, words[0] & 255]).toString();
    const parts: number[] = [];
    for (const word of words) parts.push(word >>> 16, word & 0xffff);
    return new ipaddr.IPv6(parts).toString();
  };

  const countryOfRecord = (record: number, depth: number): number => {
    const known = indexByRecord.get(record);
    if (known !== undefined) return known;
    // Any address of this network resolves to this record; its start is at hand.
    const [data, prefixLength] = reader.getWithPrefixLength(addressOf(prefix));
    if (prefixLength !== depth) throw new Error('geo: search tree walk disagrees with mmdb-lib');
    const raw = (data as CountryRecord | null)?.country_code;
    const code = typeof raw === 'string' && CODE.test(raw) ? raw : '';
    let at = countryIndex.get(code);
    if (at === undefined) {
      at = countries.push(code) - 1;
      countryIndex.set(code, at);
    }
    indexByRecord.set(record, at);
    return at;
  };

  // Built in a process of its own (the builder's run), so growing arrays cost the service nothing.
  const ranges = family === 'ipv4' ? new Ranges4() : new Ranges6();
  let previous = -1;
  const emit = (country: number) => {
    if (country === previous) return; // same country as the range before: one range
    previous = country;
    ranges.add(prefix, country);
  };

  // `near`: the local networks the current prefix could still fall in (or already does).
  const visit = (record: number, depth: number, near: LocalNetwork[], leafDepth = depth): void => {
    if (near.length > 0 && near.some((network) => network.length <= depth)) return emit(0);
    if (record >= nodeCount && near.length === 0) {
      return emit(record === nodeCount ? 0 : countryOfRecord(record, leafDepth));
    }
    // mmdb-lib stops at the last bit whatever the record says.
    if (depth === bitLength) return emit(0);
    // A node, or a record whose network holds a local one and is split around it.
    const isNode = record < nodeCount;
    const word = depth >>> 5;
    const bit = 1 << (31 - (depth & 31));
    const nearRight = near.length === 0 ? near : near.filter((network) => network.prefix[word] & bit);
    const nearLeft = near.length === 0 ? near : near.filter((network) => !(network.prefix[word] & bit));
    visit(isNode ? left(record) : record, depth + 1, nearLeft, isNode ? depth + 1 : leafDepth);
    prefix[word] |= bit;
    visit(isNode ? right(record) : record, depth + 1, nearRight, isNode ? depth + 1 : leafDepth);
    prefix[word] &= ~bit;
  };
  visit(root, 0, LOCAL[family]);
  ranges.finish();
  if (countries.length > SPLIT) throw new Error('geo: more countries than a byte can index');
  return { ...ranges.done(), countries };
}


/** Values written in order, then handed over as a typed array. */
class Column<A extends Uint8Array | Uint32Array> {
  private readonly values: number[] = [];
  private readonly typed: (values: number[]) => A;
  constructor(typed: (values: number[]) => A) {
    this.typed = typed;
  }
  push(value: number) {
    this.values.push(value);
  }
  done(): A {
    return this.typed(this.values);
  }
}
const words = () => new Column((values) => Uint32Array.from(values));
const bytes = () => new Column((values) => Uint8Array.from(values));

class Ranges4 {
  readonly starts: Column<Uint32Array>;
  readonly index: Column<Uint8Array>;
  constructor() {
    this.starts = words();
    this.index = bytes();
  }
  add(prefix: Uint32Array, country: number) {
    this.starts.push(prefix[0]);
    this.index.push(country);
  }
  finish() {}
  done() {
    return { stride: 1, starts: this.starts.done(), index: this.index.done(), split: { starts: new Uint32Array(0), index: new Uint8Array(0) } };
  }
}

/**
 * Most IPv6 boundaries in the data fall on /64s, a few thousand do not. So the main table
 * keys ranges by the high 64 bits; a /64 holding finer boundaries gets SPLIT there, and its
 * ranges go, with all 128 bits, to a small side table. Ranges arrive in order and are held
 * back only while they start in the same /64.
 */
class Ranges6 {
  readonly mainStarts: Column<Uint32Array>;
  readonly mainIndex: Column<Uint8Array>;
  readonly sideStarts: Column<Uint32Array>;
  readonly sideIndex: Column<Uint8Array>;
  private lastMain = -1;
  private groupHi0 = -1;
  private groupHi1 = -1;
  private group: number[] = []; // low words and country of each range starting in this /64
  private countryBefore = 0; // of the range before the group
  private continuation: [number, number, number] | undefined; // next /64 after a split one

  constructor() {
    this.mainStarts = words();
    this.mainIndex = bytes();
    this.sideStarts = words();
    this.sideIndex = bytes();
  }

  add(prefix: Uint32Array, country: number) {
    if (prefix[0] !== this.groupHi0 || prefix[1] !== this.groupHi1) {
      this.flush();
      this.groupHi0 = prefix[0];
      this.groupHi1 = prefix[1];
    }
    this.group.push(prefix[2], prefix[3], country);
  }

  private pushMain(hi0: number, hi1: number, country: number) {
    if (country === this.lastMain && country !== SPLIT) return;
    this.mainStarts.push(hi0);
    this.mainStarts.push(hi1);
    this.mainIndex.push(country);
    this.lastMain = country;
  }

  private pushSide(hi0: number, hi1: number, lo0: number, lo1: number, country: number) {
    this.sideStarts.push(hi0);
    this.sideStarts.push(hi1);
    this.sideStarts.push(lo0);
    this.sideStarts.push(lo1);
    this.sideIndex.push(country);
  }

  private flush() {
    const { group } = this;
    if (group.length === 0) return;
    const { groupHi0: hi0, groupHi1: hi1 } = this;
    // A split /64 before this one runs on into the next, unless this group starts there.
    if (this.continuation && (this.continuation[0] !== hi0 || this.continuation[1] !== hi1)) this.pushMain(...this.continuation);
    this.continuation = undefined;
    const last = group[group.length - 1];
    const aligned = group[0] === 0 && group[1] === 0;
    if (group.length === 3 && aligned) {
      this.pushMain(hi0, hi1, last);
    } else {
      this.pushMain(hi0, hi1, SPLIT);
      if (!aligned) this.pushSide(hi0, hi1, 0, 0, this.countryBefore);
      for (let at = 0; at < group.length; at += 3) this.pushSide(hi0, hi1, group[at], group[at + 1], group[at + 2]);
      const next1 = (hi1 + 1) >>> 0;
      const next0 = next1 === 0 ? hi0 + 1 : hi0;
      if (next0 <= 0xffffffff) this.continuation = [next0, next1, last];
    }
    this.countryBefore = last;
    group.length = 0;
  }

  finish() {
    this.flush();
    if (this.continuation) this.pushMain(...this.continuation);
    this.continuation = undefined;
  }

  done() {
    return {
      stride: 2,
      starts: this.mainStarts.done(),
      index: this.mainIndex.done(),
      split: { starts: this.sideStarts.done(), index: this.sideIndex.done() },
    };
  }
}


// 1 KB: a look-up copies little, and no block straddles a 4 KB page of the file.
const BLOCK_BYTES = 1024;

/** Cuts a sorted column of starts (`stride` words each) into blocks; their first starts are the fences. */
function blocksOf(starts: Uint32Array, index: Uint8Array, stride: number) {
  const perBlock = Math.floor(BLOCK_BYTES / (stride * 4 + 1));
  const count = index.length;
  const blocks = Math.ceil(count / perBlock);
  const fences = new Uint32Array(blocks * stride);
  const data = new Uint8Array(blocks * BLOCK_BYTES);
  for (let block = 0; block < blocks; block++) {
    const first = block * perBlock;
    const end = Math.min(first + perBlock, count);
    fences.set(starts.subarray(first * stride, first * stride + stride), block * stride);
    new Uint32Array(data.buffer, block * BLOCK_BYTES, perBlock * stride).set(starts.subarray(first * stride, end * stride));
    data.set(index.subarray(first, end), block * BLOCK_BYTES + perBlock * stride * 4);
  }
  return { stride, count, perBlock, blocks, fences, data };
}

/** The table file's bytes: magic, header length and JSON header, fences, then block-aligned blocks. */
function tableFileBytes(table: RangeTable, family: Family): Buffer[] {
  const parts = [blocksOf(table.starts, table.index, table.stride)];
  if (family === 'ipv6') parts.push(blocksOf(table.split.starts, table.split.index, 4));
  const header = (offsets: { fences: number; data: number }[]): Buffer => {
    const fields: TableHeader = {
      format: TABLE_FORMAT,
      family,
      source: sourceVersion(),
      endianness: endianness(),
      blockBytes: BLOCK_BYTES,
      countries: table.countries,
      tables: parts.map(({ stride, count, perBlock, blocks }, i) => ({ stride, count, perBlock, blocks, ...offsets[i] })),
    };
    const json = Buffer.from(JSON.stringify(fields));
    const head = Buffer.alloc(12);
    head.write(TABLE_MAGIC, 0, 'latin1');
    head.writeUInt32LE(json.length, 8);
    return Buffer.concat([head, json]);
  };
  // The header's length depends on the offsets it holds: room for offsets up to 8 digits.
  const room = header(parts.map(() => ({ fences: 99_999_999, data: 99_999_999 }))).length;
  const offsets: { fences: number; data: number }[] = [];
  let at = Math.ceil(room / 4) * 4;
  for (const part of parts) {
    offsets.push({ fences: at, data: 0 });
    at += part.fences.byteLength;
  }
  at = Math.ceil(at / BLOCK_BYTES) * BLOCK_BYTES;
  for (const [i, part] of parts.entries()) {
    offsets[i].data = at;
    at += part.data.byteLength;
  }
  const out: Buffer[] = [header(offsets)];
  let written = out[0].length;
  const pad = (to: number) => {
    out.push(Buffer.alloc(to - written));
    written = to;
  };
  for (const [i, part] of parts.entries()) {
    pad(offsets[i].fences);
    out.push(Buffer.from(part.fences.buffer, part.fences.byteOffset, part.fences.byteLength));
    written += part.fences.byteLength;
  }
  for (const [i, part] of parts.entries()) {
    pad(offsets[i].data);
    out.push(Buffer.from(part.data.buffer));
    written += part.data.byteLength;
  }
  return out;
}

/** Builds one family's table file from its mmdb file; returns its path. */
export function buildTableFile(family: Family, cacheDir = defaultCacheDir()): string {
  const path = tableFile(family, cacheDir);
  const bytes = Buffer.concat(tableFileBytes(buildRangeTable(readFileSync(mmdbFile(family)), family), family));
  mkdirSync(cacheDir, { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, bytes);
    renameSync(temporary, path);
  } finally {
    rmSync(temporary, { force: true });
  }
  return path;
}

/** Builds the family's table file unless a readable one is there; true when it built. */
export function ensureTableFile(family: Family, cacheDir = defaultCacheDir()): boolean {
  try {
    closeSync(openTable(family, tableFile(family, cacheDir)).fd);
    return false;
  } catch {
    buildTableFile(family, cacheDir);
    return true;
  }
}

if (import.meta.main) {
  try {
    const { values, positionals } = parseArgs({ options: { dir: { type: 'string' } }, allowPositionals: true });
    const families = positionals.length > 0 ? positionals : ['ipv4', 'ipv6'];
    for (const family of families) {
      if (family !== 'ipv4' && family !== 'ipv6') throw new Error(`unknown family ${family} (ipv4 or ipv6)`);
    }
    for (const family of families as Family[]) {
      const started = performance.now();
      if (ensureTableFile(family, values.dir)) {
        console.log(`${tableFile(family, values.dir ?? defaultCacheDir())} built in ${Math.round(performance.now() - started)} ms`);
      }
    }
  } catch (error) {
    // One line: geo.ts logs the last line a failed build wrote.
    console.error(`geo-tables: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
