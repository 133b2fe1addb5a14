// Country from the client address, looked up in memory at ingest in a CC0 database shipped
// as an npm package (@ip-location-db/geo-whois-asn-country-mmdb). The package has a file per
// address family (IPv4 3.0 MB, IPv6 4.8 MB), each held as one buffer once the first address
// of its family arrives: a site whose visitors all come over IPv4 never pays for the IPv6
// table. The address is never written; only the two-letter code is kept.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Reader, type CountryResponse } from 'mmdb-lib';

// ip-location-db's records are { country_code }, not MaxMind's shape.
type Record = { country_code?: string };

const require = createRequire(import.meta.url);

// Decoded records by their offset in the file: a file holds one record per country, so the
// reader need not decode (and allocate) one for every look-up. Bounded all the same.
const MAX_RECORDS = 1000;
function recordCache() {
  const records = new Map<number, unknown>();
  return {
    get: (offset: number) => records.get(offset),
    set: (offset: number, value: unknown) => {
      if (records.size < MAX_RECORDS) records.set(offset, value);
    },
  };
}

function load(family: 'ipv4' | 'ipv6'): Reader<CountryResponse> {
  const file = require.resolve(`@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country-${family}.mmdb`);
  return new Reader<CountryResponse>(readFileSync(file), { cache: recordCache() as never });
}

let v4: Reader<CountryResponse> | undefined;
let v6: Reader<CountryResponse> | undefined;
const CODE = /^[A-Z]{2}$/;

/** ISO 3166-1 alpha-2 code, or '' when unknown (private, loopback, unlisted). */
export function countryOf(address: string): string {
  const ip = address.startsWith('::ffff:') ? address.slice(7) : address;
  try {
    // mmdb-lib checks the address itself (and throws for one it cannot read).
    const reader = ip.includes(':') ? (v6 ??= load('ipv6')) : (v4 ??= load('ipv4'));
    const code = (reader.get(ip) as Record | null)?.country_code;
    return typeof code === 'string' && CODE.test(code) ? code : '';
  } catch {
    return ''; // not an address mmdb-lib can read
  }
}
