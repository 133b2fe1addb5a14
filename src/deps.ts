// What every domain's routes and use cases may be given. Built once in main.ts (or by
// the test support), so tests run the real thing with their own database and clock.
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.ts';
import type { LoadedPolicy } from './policy/load.ts';
import type { Storage } from './storage/db.ts';
import type { Signer } from './http/signing.ts';

export interface Deps {
  config: Config;
  policy: LoadedPolicy;
  storage: Storage;
  signer: Signer;
  now: () => Date;
  /** Wakes the mail delivery job after new outbox rows are committed. */
  mailQueued: () => void;
  log?: FastifyBaseLogger;
}
