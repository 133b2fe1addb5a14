// Country from the client address, looked up in memory at ingest in a CC0 database shipped
// as an npm package (@ip-location-db/geo-whois-asn-country-mmdb, IPv4 and IPv6 in one 7.8 MB
// file, held as one buffer: about 8 MB of RSS). The address is never written; only the
// two-letter code is kept. Loaded on first use, so a service that never counts pays nothing.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Reader, type CountryResponse } from 'mmdb-lib';

// ip-location-db's records are { country_code }, not MaxMind's shape.
type Record = { country_code?: string };

const require = createRequire(import.meta.url);
let reader: Reader<CountryResponse> | undefined;

// Decoded records by their offset in the file: the file holds one record per country, so
// the reader need not decode (and allocate) one for every look-up. Bounded all the same.
const MAX_RECORDS = 1000;
const records = new Map<number, unknown>();
const recordCache = {
  get: (offset: number) => records.get(offset),
  set: (offset: number, value: unknown) => {
    if (records.size < MAX_RECORDS) records.set(offset, value);
  },
};

function load(): Reader<CountryResponse> {
  const file = require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');
  return new Reader<CountryResponse>(readFileSync(file), { cache: recordCache as never });
}

/** ISO 3166-1 alpha-2 code, or '' when unknown (private, loopback, unlisted). */
export function countryOf(address: string): string {
  reader ??= load();
  const ip = address.startsWith('::ffff:') ? address.slice(7) : address;
  try {
    const code = (reader.get(ip) as Record | null)?.country_code;
    return typeof code === 'string' && /^[A-Z]{2}$/.test(code) ? code : '';
  } catch {
    return ''; // not an address mmdb-lib can read
  }
}
