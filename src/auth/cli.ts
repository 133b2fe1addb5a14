// `lumetrax user ...`: the same use cases as the console's accounts page, with 'cli' as
// the actor in the audit trail. Output goes to the operator's terminal only.
import type { Config } from '../config.ts';
import type { Storage } from '../storage/db.ts';
import { AccountError, addAccount, disableAccount, listAccounts, resetAccount } from './accounts.ts';
import { isRole, ROLES } from './roles.ts';

type WithStorage = <T>(fn: (storage: Storage, config: Config) => Promise<T>) => Promise<T>;

const depsOf = (storage: Storage, config: Config) => ({ storage, config, now: () => new Date(), mailQueued: () => undefined });
const CLI = { kind: 'cli' } as const;
// Echoed quoted, so a stray control character cannot reach the terminal.
const quoted = (text: string) => JSON.stringify(text);

async function refusalsAsExit1(fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof AccountError) {
      console.error(`lumetrax: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

export function userAdd(withStorage: WithStorage, email: string, role: string): Promise<number> {
  if (!isRole(role)) {
    console.error(`lumetrax: unknown role ${quoted(role)} (roles: ${ROLES.join(', ')})`);
    return Promise.resolve(1);
  }
  return refusalsAsExit1(() =>
    withStorage(async (storage, config) => {
      const link = await addAccount(depsOf(storage, config), { email, role }, CLI);
      console.log(`Account ${link.accountId} added (${role}). Set-up link, usable once until ${link.expiresAt}:\n${link.url}`);
      return 0;
    }),
  );
}

export function userList(withStorage: WithStorage): Promise<number> {
  return withStorage(async (storage) => {
    const accounts = await listAccounts({ storage });
    if (accounts.length === 0) console.log('No accounts yet. Add one with `lumetrax user add --email E --role R`.');
    for (const a of accounts) console.log([a.id, a.email, a.role, a.status === 'pending' ? 'pending (set-up link not used yet)' : a.status, `changed ${a.updated_at}`].join('  '));
    return 0;
  });
}

export function userDisable(withStorage: WithStorage, email: string): Promise<number> {
  return refusalsAsExit1(() =>
    withStorage(async (storage, config) => {
      const done = await disableAccount(depsOf(storage, config), { email }, CLI);
      console.log(`Account ${done.accountId} disabled; ${done.sessionsEnded} ${done.sessionsEnded === 1 ? 'session' : 'sessions'} ended.`);
      return 0;
    }),
  );
}

export function userReset(withStorage: WithStorage, email: string): Promise<number> {
  return refusalsAsExit1(() =>
    withStorage(async (storage, config) => {
      const link = await resetAccount(depsOf(storage, config), { email }, CLI);
      console.log(`Account ${link.accountId} reset: the old link, password and authenticator no longer work. New set-up link, usable once until ${link.expiresAt}:\n${link.url}`);
      return 0;
    }),
  );
}
