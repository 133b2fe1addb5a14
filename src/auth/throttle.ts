// Sign-in counters, keyed by keyed hashes (never a raw address or email): failures per
// typed account, attempts per client address. In each instance's memory, or in Redis
// when REDIS_URL is set so that several instances share them. While Redis is away the
// instance falls back to its own memory: sign-in stays throttled, if per instance.
import type { Redis } from 'ioredis';

export interface SignInThrottle {
  /** How many in the current window, and how long until it ends. */
  read(key: string, now: number): Promise<{ n: number; retryAfterSeconds: number }>;
  add(key: string, now: number): Promise<void>;
  clear(key: string): Promise<void>;
}

export class MemoryThrottle implements SignInThrottle {
  private readonly counts = new Map<string, { n: number; until: number }>();
  private readonly windowMs: number;
  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }
  async read(key: string, now: number) {
    const c = this.counts.get(key);
    return c && c.until > now ? { n: c.n, retryAfterSeconds: Math.ceil((c.until - now) / 1000) } : { n: 0, retryAfterSeconds: 0 };
  }
  async add(key: string, now: number) {
    const c = this.counts.get(key);
    if (c && c.until > now) c.n++;
    else this.counts.set(key, { n: 1, until: now + this.windowMs });
    // Keep the map small: drop lapsed counters now and then.
    if (this.counts.size > 10_000) for (const [k, v] of this.counts) if (v.until <= now) this.counts.delete(k);
  }
  async clear(key: string) {
    this.counts.delete(key);
  }
}

/** Counters in Redis with the window as their TTL (Redis's clock decides the window). */
export class RedisThrottle implements SignInThrottle {
  private readonly redis: Redis;
  private readonly windowMs: number;
  private readonly fallback: MemoryThrottle;
  private readonly onError: (error: unknown) => void;
  constructor(redis: Redis, windowMs: number, onError: (error: unknown) => void) {
    this.redis = redis;
    this.windowMs = windowMs;
    this.fallback = new MemoryThrottle(windowMs);
    this.onError = onError;
  }
  private key(key: string) {
    return `lumetrax:sign-in:${key}`;
  }
  async read(key: string, now: number) {
    try {
      const [n, ttl] = await Promise.all([this.redis.get(this.key(key)), this.redis.pttl(this.key(key))]);
      const fromRedis = { n: Number(n ?? 0), retryAfterSeconds: ttl > 0 ? Math.ceil(ttl / 1000) : 0 };
      const local = await this.fallback.read(key, now);
      // Failures counted locally during an outage still count.
      return local.n > fromRedis.n ? local : fromRedis;
    } catch (error) {
      this.onError(error);
      return this.fallback.read(key, now);
    }
  }
  async add(key: string, now: number) {
    try {
      await this.redis.multi().set(this.key(key), 0, 'PX', this.windowMs, 'NX').incr(this.key(key)).exec();
    } catch (error) {
      this.onError(error);
      await this.fallback.add(key, now);
    }
  }
  async clear(key: string) {
    await this.fallback.clear(key);
    try {
      await this.redis.del(this.key(key));
    } catch (error) {
      this.onError(error);
    }
  }
}

/** The throttle for this instance; `close` releases Redis. */
export async function openSignInThrottle(redisUrl: string | undefined, windowMs: number, log: { warn(obj: object, msg: string): void }): Promise<{ throttle: SignInThrottle; close(): Promise<void> }> {
  if (!redisUrl) return { throttle: new MemoryThrottle(windowMs), close: async () => undefined };
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl, { connectTimeout: 1000, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
  let healthy = true;
  const onError = (error: unknown) => {
    // Once per outage: the message names no key and no address.
    if (healthy) log.warn({ code: (error as { code?: string })?.code }, 'sign-in throttle store (Redis) unavailable; counting in this instance until it returns');
    healthy = false;
  };
  redis.on('error', onError);
  redis.on('ready', () => {
    healthy = true;
  });
  await redis.connect().catch(onError);
  return { throttle: new RedisThrottle(redis, windowMs, onError), close: async () => redis.disconnect() };
}
