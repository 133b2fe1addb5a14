// The ingest's per-address budget: at most `max` page-view reports from one client address
// in a minute (the minute starting at its first report), then 429 until it ends. Counted in
// this process's memory, under a salted hash of the address (the salt is random and never
// leaves the process, so no address is held), with no await and no Redis round trip: the
// check runs for every view. With several instances each counts its own share, so an
// address may send up to `max` to each: the budget is a guard against one address
// flooding the counts, not a quota.
//
// Bounded: at most `cap` addresses start a minute within one minute; past that, new
// addresses go uncounted until the next minute (a flood from that many addresses is not
// one address's). Entries live in two generations of a minute each: an entry is made in
// the current one and the previous one is dropped a minute later, when every entry in it
// has run out.
import { hash, randomBytes } from 'node:crypto';

interface Entry {
  n: number;
  until: number;
}

export class AddressBudget {
  private current = new Map<number, Entry>();
  private previous = new Map<number, Entry>();
  private startedAt = -Infinity;
  private readonly salt = randomBytes(16).toString('base64');
  private readonly max: number;
  private readonly windowMs: number;
  private readonly cap: number;

  constructor(max: number, options: { windowMs?: number; cap?: number } = {}) {
    this.max = max;
    this.windowMs = options.windowMs ?? 60_000;
    this.cap = options.cap ?? 5000;
  }

  /** Counts one report from `address` at `now` (ms); 0 when within the budget, else the seconds until it renews. */
  take(address: string, now: number): number {
    if (now - this.startedAt >= this.windowMs) {
      this.previous = this.current;
      this.current = new Map();
      this.startedAt = now;
    }
    // 48 bits of the salted hash as a number: two addresses share a budget with odds of
    // about one in 2^48 per pair.
    const key = hash('sha256', `${this.salt}\0${address}`, 'buffer').readUIntBE(0, 6);
    let entry = this.current.get(key) ?? this.previous.get(key);
    if (entry === undefined || entry.until <= now) {
      if (this.current.size >= this.cap) return 0;
      entry = { n: 0, until: now + this.windowMs };
      this.current.set(key, entry);
    }
    entry.n++;
    return entry.n > this.max ? Math.max(1, Math.ceil((entry.until - now) / 1000)) : 0;
  }
}
