// The daily secret behind visitor keys. It is random (never derived from the date or from
// SECRET_KEY), lives only in this process's memory, or, with REDIS_URL, in Redis under a
// key that expires at the end of its UTC day so every instance uses the same one, and is
// destroyed at rotation: our copy is overwritten with zeros and the Redis key deleted. So
// keys from different days cannot be linked, not even by the operator, once the day is over.
import { createSecretKey, randomFillSync, type KeyObject } from 'node:crypto';
import type { Redis } from 'ioredis';

export const SECRET_BYTES = 32;
const REDIS_PREFIX = 'lumetrax:analytics:daily-secret:';

export const utcDay = (at: Date): string => at.toISOString().slice(0, 10);

export class DailySecret {
  private day = '';
  private secret: Buffer | undefined;
  // The same bytes as an HMAC key object: made once a day, it makes each visitor key about
  // 20 times cheaper than passing the buffer (which sets up the key on every call). Node
  // clears a key object's bytes when it frees them; at rotation we drop our reference.
  private key: KeyObject | undefined;
  // The held day as a span of milliseconds, so the per-view check is two comparisons.
  private dayStart = 0;
  private dayEnd = 0;
  private pending: Promise<Buffer> | undefined;
  private readonly redis: Redis | undefined;

  private readonly onRedisAway: (error: unknown) => void;

  /** `onRedisAway` hears when this instance had to make the day's secret on its own. */
  constructor(redis?: Redis, onRedisAway: (error: unknown) => void = () => undefined) {
    this.redis = redis;
    this.onRedisAway = onRedisAway;
  }

  /** The secret of `at`'s UTC day; the previous day's is destroyed first. */
  current(at: Date): Buffer | Promise<Buffer> {
    const day = utcDay(at);
    if (day === this.day && this.secret) return this.secret;
    if (this.pending && day === this.day) return this.pending;
    this.destroy();
    this.day = day;
    const pending = this.obtain(day, at).then(
      (secret) => {
        if (this.day !== day) {
          secret.fill(0); // rotated while we waited
          throw new Error('the analytics day rotated');
        }
        this.secret = secret;
        this.key = createSecretKey(secret);
        this.dayStart = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
        this.dayEnd = this.dayStart + 86_400_000;
        this.pending = undefined;
        return secret;
      },
      (error: unknown) => {
        if (this.day === day) this.pending = undefined;
        throw error;
      },
    );
    this.pending = pending;
    return pending;
  }

  /** The day's secret as an HMAC key. */
  hmacKey(at: Date): KeyObject | Promise<KeyObject> {
    const t = at.getTime();
    if (this.key && t >= this.dayStart && t < this.dayEnd) return this.key;
    const secret = this.current(at);
    return secret instanceof Promise ? secret.then(() => this.key!) : this.key!;
  }

  /** Destroys the secret if its day is over (called on a timer, so an idle night still rotates). */
  async rotateIfDue(at: Date): Promise<boolean> {
    if (this.day === '' || utcDay(at) === this.day) return false;
    const old = this.day;
    this.destroy();
    this.day = '';
    if (this.redis) await this.redis.del(REDIS_PREFIX + old).catch(() => undefined);
    return true;
  }

  /** The day whose secret is held ('' for none), for the rotation test. */
  get heldDay(): string {
    return this.secret ? this.day : '';
  }

  private destroy(): void {
    this.secret?.fill(0);
    this.secret = undefined;
    this.key = undefined;
    this.dayStart = 0;
    this.dayEnd = 0;
    this.pending = undefined;
  }

  private async obtain(day: string, at: Date): Promise<Buffer> {
    // Buffer.alloc, not randomBytes: a buffer of its own, never a slice of a shared pool.
    const fresh = randomFillSync(Buffer.alloc(SECRET_BYTES));
    if (!this.redis) return fresh;
    const endOfDay = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1);
    const ttlMs = Math.max(1000, endOfDay - at.getTime());
    // The first instance to ask sets it; the others read it. The previous day's is deleted.
    // With Redis away, this instance counts the day under a secret of its own (as private,
    // only not shared: a visitor seen by two instances counts twice) rather than not at all.
    let shared: Buffer | null;
    try {
      await this.redis.set(REDIS_PREFIX + day, fresh, 'PX', ttlMs, 'NX');
      shared = await this.redis.getBuffer(REDIS_PREFIX + day);
      const previous = utcDay(new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() - 1)));
      await this.redis.del(REDIS_PREFIX + previous);
    } catch (error) {
      this.onRedisAway(error);
      return fresh;
    }
    if (!shared || shared.length !== SECRET_BYTES) {
      this.onRedisAway(new Error('the shared analytics secret in Redis is not 32 bytes'));
      return fresh;
    }
    fresh.fill(0);
    return shared;
  }
}

export const dailySecretRedisKey = (day: string) => REDIS_PREFIX + day;
