// countryOf answers from range tables flattened out of the mmdb files; mmdb-lib's Reader on the
// same files is the reference, except for addresses that never leave a local network, which
// have no country whatever the data says (it has 172.16.0.0/12 and 192.168.0.0/16 as AU).
// Compared on random addresses and on both sides of every place where the reference answer
// changes, found by walking the Reader's networks (not the tables) in order.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createRequire } from 'node:module';
import ipaddr from 'ipaddr.js';
import { Reader, type Response } from 'mmdb-lib';
import { countryLookup, tableFile } from '../../src/analytics/geo.ts';
import { buildTableFile } from '../../src/analytics/geo-tables.ts';

const temporaryDirs: string[] = [];
const temporaryDir = (prefix: string) => {
  temporaryDirs.push(mkdtempSync(join(tmpdir(), prefix)));
  return temporaryDirs[temporaryDirs.length - 1];
};
after(() => temporaryDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const cacheDir = temporaryDir('lumetrax-geo-');
buildTableFile('ipv4', cacheDir);
buildTableFile('ipv6', cacheDir);
const countryOf = countryLookup(cacheDir);

const require = createRequire(import.meta.url);
const CODE = /^[A-Z]{2}$/;

// Written out rather than taken from ipaddr.js's range names, which countryOf uses.
const local = {
  ipv4: ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16'],
  ipv6: ['::/128', '::1/128', 'fc00::/7', 'fe80::/10'],
};

type Family<T> = {
  name: 'ipv4' | 'ipv6';
  bits: number;
  toBig: (n: T) => bigint;
  fromBig: (n: bigint) => T;
  show: (n: T) => string;
};

const ipv4: Family<number> = {
  name: 'ipv4',
  bits: 32,
  toBig: BigInt,
  fromBig: Number,
  show: (n) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`,
};

const ipv6: Family<bigint> = {
  name: 'ipv6',
  bits: 128,
  toBig: (n) => n,
  fromBig: (n) => n,
  show: (n) => {
    const hex = n.toString(16).padStart(32, '0');
    let text = hex.slice(0, 4);
    for (let at = 4; at < 32; at += 4) text += ':' + hex.slice(at, at + 4);
    return text;
  },
};

/** mmdb-lib's answer for an address, '' for local ones, and the length of its network. */
function reference<T>(family: Family<T>) {
  const file = require.resolve(`@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country-${family.name}.mmdb`);
  const reader = new Reader<Response>(readFileSync(file), { cache: new Map() }); // one record per country
  const localRanges = local[family.name].map((cidr) => {
    const [network, length] = ipaddr.parseCIDR(cidr);
    const first = network.toByteArray().reduce((n, byte) => (n << 8n) | BigInt(byte), 0n);
    return [first, first + (1n << BigInt(family.bits - length)) - 1n] as const;
  });
  return (n: T): [string, number] => {
    const [data, prefixLength] = reader.getWithPrefixLength(family.show(n));
    const big = family.toBig(n);
    if (localRanges.some(([first, last]) => big >= first && big <= last)) return ['', prefixLength];
    const code = (data as { country_code?: unknown } | null)?.country_code;
    return [typeof code === 'string' && CODE.test(code) ? code : '', prefixLength];
  };
}

/**
 * Walks the reference's networks in order and compares on both sides of each place where its
 * answer changes: all of them, or `sample` of them chosen at random (the walk is the same).
 */
function compareAtChanges<T>(family: Family<T>, expected: (n: T) => [string, number], sample = Infinity) {
  const end = 1n << BigInt(family.bits);
  const changes: { start: bigint; code: string; previous: string | undefined }[] = [];
  let previous: string | undefined;
  for (let start = 0n; start < end; ) {
    const [code, prefixLength] = expected(family.fromBig(start));
    if (code !== previous) changes.push({ start, code, previous });
    previous = code;
    start += 1n << BigInt(family.bits - prefixLength);
  }
  // The first `sample` of a partial Fisher-Yates shuffle.
  const checked = Math.min(sample, changes.length);
  for (let i = 0; i < checked; i++) {
    const pick = i + Math.floor(Math.random() * (changes.length - i));
    [changes[i], changes[pick]] = [changes[pick], changes[i]];
    const { start, code, previous } = changes[i];
    const address = family.show(family.fromBig(start));
    assert.equal(countryOf(address), code, address);
    if (previous !== undefined) {
      const before = family.show(family.fromBig(start - 1n));
      assert.equal(countryOf(before), previous, before);
    }
  }
  return changes.length;
}

test('IPv4: the same country as mmdb-lib for random addresses and on both sides of every change', () => {
  const expected = reference(ipv4);
  for (const n of randomFillSync(new Uint32Array(100_000))) {
    assert.equal(countryOf(ipv4.show(n)), expected(n)[0], ipv4.show(n));
  }
  const changes = compareAtChanges(ipv4, expected);
  assert.ok(changes > 100_000, `only ${changes} changes of country`);
});

test('IPv6: the same country as mmdb-lib for random addresses and on both sides of 100,000 changes chosen at random', () => {
  const expected = reference(ipv6);
  const words = randomFillSync(new BigUint64Array(200_000));
  for (let i = 0; i < words.length; i += 2) {
    // Nine in ten from global unicast (2000::/3), where the data is; the rest from anywhere.
    const high = i % 20 === 0 ? words[i] : (words[i] & ((1n << 61n) - 1n)) | (1n << 61n);
    const n = (high << 64n) | words[i + 1];
    assert.equal(countryOf(ipv6.show(n)), expected(n)[0], ipv6.show(n));
  }
  const changes = compareAtChanges(ipv6, expected, 100_000);
  assert.ok(changes > 100_000, `only ${changes} changes of country`);
});

test('edge cases: mapped IPv4, compressed and upper-case IPv6, unknown and unreadable input', () => {
  assert.equal(countryOf('8.8.8.8'), 'US');
  assert.equal(countryOf('::ffff:8.8.8.8'), 'US');
  assert.equal(countryOf('::ffff:808:808'), 'US');
  assert.equal(countryOf('2001:4860:4860::8888'), 'US');
  assert.equal(countryOf('2001:4860:4860:0000:0000:0000:0000:8888'), 'US');
  assert.equal(countryOf('2001:4860:4860::8888'.toUpperCase()), 'US');
  assert.equal(countryOf('172.15.255.255'), 'US');
  assert.equal(countryOf('172.32.0.0'), 'US');
  for (const unknown of ['127.0.0.1', '172.16.0.0', '172.31.255.255', '192.168.255.255', '100.64.0.1', '169.254.1.1', '10.1.2.3', '192.168.0.1', '172.16.5.4', '0.0.0.0', '255.255.255.255', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1']) {
    assert.equal(countryOf(unknown), '', unknown);
  }
  for (const unreadable of ['', 'garbage', '1.2.3', '1.2.3.4.5', '256.1.1.1', '08.8.8.8', '0x8.8.8.8', '134744072', '8.8.8.8 ', ' 8.8.8.8', '2001:4860::8888::1', '2001:4860:4860::8888/64', 'gggg::1', ':::', '::ffff:8.8.8']) {
    assert.equal(countryOf(unreadable), '', JSON.stringify(unreadable));
  }
});

/** Resolves when `check` holds, polling; fails after `ms`. */
async function eventually(check: () => boolean, what: string, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`still not ${what} after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('without table files, no country until a child process has built them, then the right one', async () => {
  const emptyDir = temporaryDir('lumetrax-geo-empty-');
  const lookup = countryLookup(emptyDir, (line) => assert.fail(`unexpected log: ${line}`));
  assert.equal(lookup('8.8.8.8'), '');
  assert.equal(lookup('2001:4860:4860::8888'), '');
  await eventually(() => lookup('8.8.8.8') === 'US', 'US for 8.8.8.8');
  await eventually(() => lookup('2001:4860:4860::8888') === 'US', 'US for 2001:4860:4860::8888');
  assert.deepEqual(readdirSync(emptyDir).sort(), [basename(tableFile('ipv4', emptyDir)), basename(tableFile('ipv6', emptyDir))]);
});

test('a table that cannot be built is logged once, without the address, and the family keeps answering no country', async () => {
  const notADir = join(temporaryDir('lumetrax-geo-bad-'), 'file');
  writeFileSync(notADir, '');
  const lines: string[] = [];
  const lookup = countryLookup(join(notADir, 'cache'), (line) => lines.push(line));
  assert.equal(lookup('8.8.8.8'), '');
  await eventually(() => lines.length > 0, 'logged');
  assert.equal(lookup('8.8.4.4'), '');
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^geo: the ipv4 country table could not be built \(geo-tables: ENOTDIR: .*\); ipv4 visitors get no country until a restart$/);
  assert.doesNotMatch(lines[0], /8\.8\./);
});
