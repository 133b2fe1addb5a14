// Country from the client address, looked up in memory at ingest in a CC0 database shipped
// as an npm package (@ip-location-db/geo-whois-asn-country-mmdb), a file per address family
// (IPv4 3.0 MB, IPv6 4.8 MB). At the first address of a family its file is read once, its
// search tree flattened into sorted range starts with a one-byte country index per range
// (neighbours of one country merged), and the file dropped. Measured on the 2026-06 data:
//   IPv4  341,574 ranges, 1.71 MB (Uint32 starts + Uint8 index), built in ~0.1-0.2 s
//   IPv6  268,349 ranges by the high 64 bits + 8,885 finer ones, 2.57 MB, built in ~0.2-0.3 s
// (the files held as buffers were 3.0 and 4.8 MB). A site whose visitors all come over IPv4
// never builds the IPv6 table. The address is never written; only the two-letter code is kept.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import ipaddr from 'ipaddr.js';
import { Reader, type Response } from 'mmdb-lib';

// ip-location-db's records are { country_code }, not MaxMind's shape.
type CountryRecord = { country_code?: string };

type Family = 'ipv4' | 'ipv6';

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

const require = createRequire(import.meta.url);
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

  // The tree is walked twice: to count the ranges, then to fill arrays of that exact size.
  // Growing arrays instead left their discarded copies in the RSS (JS arrays: tens of MB).
  let ranges: Ranges4 | Ranges6 = family === 'ipv4' ? new Ranges4() : new Ranges6();
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
  ranges = ranges instanceof Ranges4 ? new Ranges4(ranges) : new Ranges6(ranges);
  previous = -1;
  visit(root, 0, LOCAL[family]);

  ranges.finish();
  if (countries.length > SPLIT) throw new Error('geo: more countries than a byte can index');
  return { ...ranges.done(), countries };
}

// Index value that sends an IPv6 look-up on to the side table.
const SPLIT = 255;

/** Values written in order; without an array only counted, to size the next one. */
class Column<A extends Uint8Array | Uint32Array> {
  length = 0;
  readonly values: A | undefined;
  constructor(values?: A) {
    this.values = values;
  }
  push(value: number) {
    if (this.values) this.values[this.length] = value;
    this.length++;
  }
  done(): A {
    if (this.values?.length !== this.length) throw new Error('geo: the second walk disagrees with the first');
    return this.values;
  }
}
// A column for the first walk, or one the size of what the first walk counted.
const words = (counted?: Column<Uint32Array>) => new Column(counted && new Uint32Array(counted.length));
const bytes = (counted?: Column<Uint8Array>) => new Column(counted && new Uint8Array(counted.length));

class Ranges4 {
  readonly starts: Column<Uint32Array>;
  readonly index: Column<Uint8Array>;
  constructor(counted?: Ranges4) {
    this.starts = words(counted?.starts);
    this.index = bytes(counted?.index);
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

  constructor(counted?: Ranges6) {
    this.mainStarts = words(counted?.mainStarts);
    this.mainIndex = bytes(counted?.mainIndex);
    this.sideStarts = words(counted?.sideStarts);
    this.sideIndex = bytes(counted?.sideIndex);
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

/** Position of the last range whose start <= key (big-endian words); the first starts at 0. */
function rangeAt(starts: Uint32Array, stride: number, key: Uint32Array): number {
  let low = 0;
  let high = starts.length / stride - 1;
  while (low < high) {
    const mid = (low + high + 1) >>> 1;
    let cmp = 0;
    for (let w = 0, at = mid * stride; w < stride && cmp === 0; w++, at++) cmp = starts[at] - key[w];
    if (cmp <= 0) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** Code of the range holding `key` (big-endian words: 1 for IPv4, 4 for IPv6). */
function lookup(table: RangeTable, key: Uint32Array): string {
  let at = table.index[rangeAt(table.starts, table.stride, key)];
  if (at === SPLIT) at = table.split.index[rangeAt(table.split.starts, 4, key)];
  return table.countries[at];
}

function load(family: Family): RangeTable {
  const file = require.resolve(`@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country-${family}.mmdb`);
  return buildRangeTable(readFileSync(file), family);
}

let v4: RangeTable | undefined;
let v6: RangeTable | undefined;
const key = new Uint32Array(4);

/** ISO 3166-1 alpha-2 code, or '' when unknown (private, loopback, unlisted, unparsable). */
export function countryOf(address: string): string {
  let ip = parse(address);
  if (ip instanceof ipaddr.IPv6 && ip.isIPv4MappedAddress()) ip = ip.toIPv4Address();
  if (!ip) return '';
  if (ip instanceof ipaddr.IPv4) {
    const [a, b, c, d] = ip.octets;
    key[0] = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
    return lookup((v4 ??= load('ipv4')), key);
  }
  const parts = ip.parts;
  for (let w = 0; w < 4; w++) key[w] = ((parts[2 * w] << 16) | parts[2 * w + 1]) >>> 0;
  return lookup((v6 ??= load('ipv6')), key);
}

// Dotted quads only, no leading zeros: ipaddr.js also reads '127.1', '0x7f.0.0.1' and octal.
const DOTTED_QUAD = /^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/;

function parse(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  try {
    // Tried by family: ipaddr.js's IPv4 patterns take ~15 µs to refuse an IPv6 string.
    if (address.includes(':')) return ipaddr.IPv6.parse(address);
    if (DOTTED_QUAD.test(address)) return ipaddr.IPv4.parse(address); // throws above 255
  } catch {
    // not an address
  }
  return undefined;
}
