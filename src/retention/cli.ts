// `lumetrax hold ...`: the same use cases as the console's holds page, with `cli` as the
// actor in the audit trail. Refusals are one line and exit 1.
import type { Config } from '../config.ts';
import type { Storage } from '../storage/db.ts';
import { liftHold, listHolds, placeHold, RetentionError, type HoldRecord } from './holds.ts';

export type WithStorage = <T>(fn: (storage: Storage, config: Config) => Promise<T>) => Promise<T>;

const depsOf = (storage: Storage) => ({ storage, now: () => new Date(), mailQueued: () => undefined });
// Reasons are typed by staff; control characters are shown escaped so they cannot rewrite the screen.
const printable = (text: string) => text.replace(/[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

async function refusalsAsExit1(fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof RetentionError) {
      console.error(`lumetrax: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

export function formatHold(h: HoldRecord): string {
  const state = h.liftedAt ? `lifted ${h.liftedAt} by ${h.liftedBy}` : h.until ? `until ${h.until}` : 'until lifted';
  return `${h.id}  ${h.kind}  ${h.scope} ${h.scopeId}  placed ${h.placedAt} by ${h.placedBy}  ${state}\n    ${printable(h.reason)}`;
}

export function holdAdd(withStorage: WithStorage, input: { kind: string; scope: string; target: string; reason: string; until?: string }): Promise<number> {
  return refusalsAsExit1(() =>
    withStorage(async (storage) => {
      const hold = await placeHold(depsOf(storage), { actor: 'cli', ...input });
      console.log(`Hold ${hold.id} placed: ${hold.kind} on ${hold.scope} ${hold.scopeId}${hold.until ? ` until ${hold.until}` : ', until lifted'}.`);
      return 0;
    }),
  );
}

export function holdList(withStorage: WithStorage, includeLifted: boolean): Promise<number> {
  return withStorage(async (storage) => {
    const holds = await listHolds(depsOf(storage), { actor: 'cli', includeLifted });
    if (holds.length === 0) console.log(includeLifted ? 'No holds have been placed.' : 'No holds are in place.');
    for (const h of holds) console.log(formatHold(h));
    return 0;
  });
}

export function holdLift(withStorage: WithStorage, id: string): Promise<number> {
  return refusalsAsExit1(() =>
    withStorage(async (storage) => {
      const hold = await liftHold(depsOf(storage), { actor: 'cli', holdId: id });
      console.log(`Hold ${hold.id} lifted; what it covered follows the retention rules again.`);
      return 0;
    }),
  );
}
