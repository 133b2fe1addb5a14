// countryOf answers from range tables flattened out of the mmdb files; mmdb-lib's Reader on the
// same files is the reference, except for addresses that never leave a local network, which
// have no country whatever the data says (it has 172.16.0.0/12 and 192.168.0.0/16 as AU).
// Compared on random addresses and on both sides of every place where the reference answer
// changes, found by walking the Reader's networks (not the tables) in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import ipaddr from 'ipaddr.js';
import { Reader, type Response } from 'mmdb-lib';
import { countryOf } from '../../src/analytics/geo.ts';

const require = createRequire(import.meta.url);
const CODE = /^[A-Z]{2}$/;

const local = {
  ipv4: ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16'],
  ipv6: ['::/128', '::1/128', 'fc00::/7', 'fe80::/10'],
};

function reference(family: 'ipv4' | 'ipv6') {
  const file = require.resolve(`@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country-${family}.mmdb`);
  const reader = new Reader<Response>(readFileSync(file));
  const networks = local[family].map((cidr) => ipaddr.parseCIDR(cidr));
  return (address: string): [string, number] => {
    const [data, prefixLength] = reader.getWithPrefixLength(address);
    const code = (data as { country_code?: unknown } | null)?.country_code;
    const parsed = ipaddr.parse(address);
    if (networks.some((network) => parsed.match(network))) return ['', prefixLength];
    return [typeof code === 'string' && CODE.test(code) ? code : '', prefixLength];
  };
}

const v4String = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const v6String = (n: bigint) => n.toString(16).padStart(32, '0').match(/.{4}/g)!.join(':');

/** Every network of the database in address order, as [first address, country]. */
function* networks<T extends number | bigint>(first: T, end: T, after: (start: T, prefixLength: number) => T, show: (n: T) => string, country: (address: string) => [string, number]) {
  for (let start = first; start < end; ) {
    const [code, prefixLength] = country(show(start));
    yield [start, code] as const;
    start = after(start, prefixLength);
  }
}

function compareAtChanges<T extends number | bigint>(networkList: Iterable<readonly [T, string]>, show: (n: T) => string, before: (n: T) => T) {
  let previous: string | undefined;
  let changes = 0;
  for (const [start, code] of networkList) {
    if (code !== previous) {
      assert.equal(countryOf(show(start)), code, show(start));
      if (previous !== undefined) assert.equal(countryOf(show(before(start))), previous, show(before(start)));
      changes++;
    }
    previous = code;
  }
  return changes;
}

test('IPv4: the same country as mmdb-lib for random addresses and on both sides of every change', () => {
  const country = reference('ipv4');
  const random = randomFillSync(new Uint32Array(200_000));
  for (const n of random) {
    const address = v4String(n);
    assert.equal(countryOf(address), country(address)[0], address);
  }
  const changes = compareAtChanges(networks(0, 2 ** 32, (start, prefixLength) => start + 2 ** (32 - prefixLength), v4String, country), v4String, (n) => n - 1);
  assert.ok(changes > 100_000, `only ${changes} changes of country`);
});

test('IPv6: the same country as mmdb-lib for random addresses and on both sides of every change', () => {
  const country = reference('ipv6');
  const words = randomFillSync(new BigUint64Array(400_000));
  for (let i = 0; i < words.length; i += 2) {
    // Nine in ten from global unicast (2000::/3), where the data is; the rest from anywhere.
    const high = i % 20 === 0 ? words[i] : (words[i] & ((1n << 61n) - 1n)) | (1n << 61n);
    const address = v6String((high << 64n) | words[i + 1]);
    assert.equal(countryOf(address), country(address)[0], address);
  }
  const changes = compareAtChanges(networks(0n, 1n << 128n, (start, prefixLength) => start + (1n << BigInt(128 - prefixLength)), v6String, country), v6String, (n) => n - 1n);
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
