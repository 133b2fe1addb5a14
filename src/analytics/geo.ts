// Country from the client address, looked up at ingest in a CC0 database shipped as an npm
// package (@ip-location-db/geo-whois-asn-country-mmdb), a file per address family. Each
// family's search tree is flattened once, outside the service (geo-tables.ts: run by
// scripts/ensure-setup.mjs before start and test), into a table file of sorted range starts
// and a one-byte country index per range, cut into fixed-size blocks. The service keeps only
// the first start of each block (the fences) and the country list in memory; a look-up finds
// the block among the fences and reads that one block with one pread from the file, which
// the OS page cache holds (not counted in the process's RSS; mmap would be). Measured on the
// 2026-06 data, 1 KB blocks:
//   IPv4  341,574 ranges, 1.7 MB file, fences 6.7 KB
//   IPv6  268,349 ranges by the high 64 bits + 8,885 finer ones (a side table in the same
//         file, looked up with a second read), 2.6 MB file, fences 19 + 2.4 KB
// First use of both families adds ~0.1 MB of RSS (building the tables in the process added
// 17-19 MB), for ~1-1.5 µs more CPU per look-up (the pread). A family whose file is missing
// or unreadable answers '' until a child process has built it (FamilyTable below).
// The address is never written; only the two-letter code is kept.
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ipaddr from 'ipaddr.js';

export type Family = 'ipv4' | 'ipv6';

/** Bumped whenever the table file layout changes: it is part of the file name. */
export const TABLE_FORMAT = 1;
export const TABLE_MAGIC = 'LTGEOTAB';
// Index value that sends an IPv6 look-up on to the side table.
export const SPLIT = 255;

/**
 * The file's JSON header, after the magic and its byte length. Offsets are from the file's
 * start; `fences` holds `stride` words per block, `data` the blocks, each `blockBytes` long:
 * `perBlock` starts (`stride` words each) then their `perBlock` country indexes. Words are
 * in the byte order of the machine that built the file (`endianness`): the file is a cache.
 */
export type TableHeader = {
  format: number;
  family: Family;
  source: string; // the mmdb package's version
  endianness: 'LE' | 'BE';
  blockBytes: number;
  countries: string[]; // '' at 0 for no data
  tables: { stride: number; count: number; perBlock: number; blocks: number; fences: number; data: number }[];
};

const require = createRequire(import.meta.url);
const MMDB_PACKAGE = '@ip-location-db/geo-whois-asn-country-mmdb';

export function mmdbFile(family: Family): string {
  return require.resolve(`${MMDB_PACKAGE}/geo-whois-asn-country-${family}.mmdb`);
}

let mmdbVersion: string | undefined;
export function sourceVersion(): string {
  return (mmdbVersion ??= (JSON.parse(readFileSync(join(dirname(mmdbFile('ipv4')), 'package.json'), 'utf8')) as { version: string }).version);
}

// The project root found as src/config.ts finds it (not imported: that would load zod and
// the rest of the config into the builder's child process and this module's import cost).
const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const defaultCacheDir = (): string => join(projectRoot, 'node_modules', '.cache', 'lumetrax-geo');

/** e.g. ipv4-2.3.2026061719-v1.bin: a new package version or layout never reads an old file. */
export function tableFile(family: Family, cacheDir: string): string {
  return join(cacheDir, `${family}-${sourceVersion()}-v${TABLE_FORMAT}.bin`);
}

type BlockTable = {
  stride: number;
  count: number;
  perBlock: number;
  blocks: number;
  fences: Uint32Array;
  data: number;
  // Views of the file's one reused block buffer.
  starts: Uint32Array;
  index: Uint8Array;
};

type OpenTable = { fd: number; block: Uint8Array; countries: string[]; main: BlockTable; side: BlockTable | undefined };

function readExactly(fd: number, into: Uint8Array, position: number): void {
  if (readSync(fd, into, 0, into.byteLength, position) !== into.byteLength) throw new Error('geo: table file is truncated');
}

/** Opens and checks a table file; throws when it is missing, from elsewhere or cut short. */
export function openTable(family: Family, path: string): OpenTable {
  const fd = openSync(path, 'r');
  try {
    const head = new Uint8Array(12);
    readExactly(fd, head, 0);
    const headText = Buffer.from(head.buffer);
    if (headText.toString('latin1', 0, 8) !== TABLE_MAGIC) throw new Error('geo: not a table file');
    const json = Buffer.alloc(headText.readUInt32LE(8));
    readExactly(fd, json, 12);
    const header = JSON.parse(json.toString('utf8')) as TableHeader;
    if (header.format !== TABLE_FORMAT || header.family !== family || header.source !== sourceVersion() || header.endianness !== endianness()) {
      throw new Error('geo: table file from another version or machine');
    }
    const block = new Uint8Array(new ArrayBuffer(header.blockBytes));
    const tables = header.tables.map((t): BlockTable => {
      const fences = new Uint32Array(t.blocks * t.stride);
      readExactly(fd, new Uint8Array(fences.buffer), t.fences);
      const starts = new Uint32Array(block.buffer, 0, t.perBlock * t.stride);
      const index = new Uint8Array(block.buffer, starts.byteLength, t.perBlock);
      return { ...t, fences, starts, index };
    });
    const last = header.tables[header.tables.length - 1];
    if (fstatSync(fd).size !== last.data + last.blocks * header.blockBytes) throw new Error('geo: table file has the wrong size');
    return { fd, block, countries: header.countries, main: tables[0], side: tables[1] };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** Position of the last start <= key (big-endian words) among the first `count`; the first is 0. */
function rangeAt(starts: Uint32Array, stride: number, count: number, key: Uint32Array): number {
  let low = 0;
  let high = count - 1;
  while (low < high) {
    const mid = (low + high + 1) >>> 1;
    let cmp = 0;
    for (let w = 0, at = mid * stride; w < stride && cmp === 0; w++, at++) cmp = starts[at] - key[w];
    if (cmp <= 0) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** Country index of the range holding `key`: one block read. */
function indexIn(file: OpenTable, table: BlockTable, key: Uint32Array): number {
  const block = rangeAt(table.fences, table.stride, table.blocks, key);
  readExactly(file.fd, file.block, table.data + block * file.block.byteLength);
  const count = Math.min(table.perBlock, table.count - block * table.perBlock);
  return table.index[rangeAt(table.starts, table.stride, count, key)];
}

const builderScript = join(dirname(fileURLToPath(import.meta.url)), `geo-tables${extname(fileURLToPath(import.meta.url))}`);

/**
 * One family's table file. Until the file can be read, look-ups answer '' (no country): the
 * file is then built once, by a child process, so the service never holds the mmdb file or
 * the builder's garbage. A failed build is logged and the family stays without countries.
 */
class FamilyTable {
  private file: OpenTable | undefined;
  private state: 'closed' | 'building' | 'failed' = 'closed';
  private readonly family: Family;
  private readonly cacheDir: string;
  private readonly log: (line: string) => void;

  constructor(family: Family, cacheDir: string, log: (line: string) => void) {
    this.family = family;
    this.cacheDir = cacheDir;
    this.log = log;
  }

  lookup(key: Uint32Array): string {
    const file = this.file ?? this.open();
    if (!file) return '';
    let at: number;
    try {
      at = indexIn(file, file.main, key);
      if (at === SPLIT && file.side) at = indexIn(file, file.side, key);
    } catch {
      // The file went bad under us: open (or build) it again at the next look-up.
      closeSync(file.fd);
      this.file = undefined;
      return '';
    }
    return file.countries[at];
  }

  private open(): OpenTable | undefined {
    if (this.state !== 'closed') return undefined;
    try {
      this.file = openTable(this.family, tableFile(this.family, this.cacheDir));
      return this.file;
    } catch {
      this.build();
      return undefined;
    }
  }

  private build(): void {
    this.state = 'building';
    const child = spawn(process.execPath, [builderScript, '--dir', this.cacheDir, this.family], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-2000)));
    // A build must not keep a finished process alive; it completes on its own.
    child.unref();
    (child.stderr as unknown as { unref(): void }).unref();
    const fail = (reason: string) => {
      this.state = 'failed';
      this.log(`geo: the ${this.family} country table could not be built (${reason}); ${this.family} visitors get no country until a restart`);
    };
    child.on('error', (error) => fail(error.message));
    child.on('close', (code) => {
      if (this.state !== 'building') return;
      if (code !== 0) return fail(stderr.trim().split('\n').pop()?.slice(0, 200) || `exit code ${code}`);
      try {
        this.file = openTable(this.family, tableFile(this.family, this.cacheDir));
        this.state = 'closed';
      } catch (error) {
        fail(error instanceof Error ? error.message : 'unreadable');
      }
    });
  }
}

/**
 * A look-up on the table files in `cacheDir` (node_modules/.cache/lumetrax-geo unless a test
 * gives its own); `log` gets one line when a table cannot be built.
 */
export function countryLookup(cacheDir = defaultCacheDir(), log: (line: string) => void = (line) => console.error(line)) {
  const v4 = new FamilyTable('ipv4', cacheDir, log);
  const v6 = new FamilyTable('ipv6', cacheDir, log);
  const key = new Uint32Array(4);
  /** ISO 3166-1 alpha-2 code, or '' when unknown (private, loopback, unlisted, unparsable). */
  return (address: string): string => {
    let ip = parse(address);
    if (ip instanceof ipaddr.IPv6 && ip.isIPv4MappedAddress()) ip = ip.toIPv4Address();
    if (!ip) return '';
    if (ip instanceof ipaddr.IPv4) {
      const [a, b, c, d] = ip.octets;
      key[0] = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
      return v4.lookup(key);
    }
    const parts = ip.parts;
    for (let w = 0; w < 4; w++) key[w] = ((parts[2 * w] << 16) | parts[2 * w + 1]) >>> 0;
    return v6.lookup(key);
  };
}

/** ISO 3166-1 alpha-2 code, or '' when unknown (private, loopback, unlisted, unparsable). */
export const countryOf = countryLookup();

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
