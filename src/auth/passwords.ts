// Passwords: argon2id from node:crypto (Node 24), stored as a PHC string so each hash
// carries the costs it was made with (raising ARGON2_* later keeps old hashes valid).
// Strength is judged by zxcvbn-ts with its common-password and name lists.
import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import type { Config } from '../config.ts';

export interface Argon2Costs {
  memoryKib: number;
  passes: number;
  parallelism: number;
}

export function costsFrom(config: Pick<Config, 'argon2MemoryKib' | 'argon2Passes' | 'argon2Parallelism'>): Argon2Costs {
  return { memoryKib: config.argon2MemoryKib, passes: config.argon2Passes, parallelism: config.argon2Parallelism };
}

function derive(password: string, salt: Buffer, costs: Argon2Costs, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2(
      'argon2id',
      // NFC: the same password typed on another keyboard or system hashes the same.
      { message: Buffer.from(password.normalize('NFC'), 'utf8'), nonce: salt, parallelism: costs.parallelism, tagLength: length, memory: costs.memoryKib, passes: costs.passes },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

export async function hashPassword(password: string, costs: Argon2Costs): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, costs, 32);
  return `$argon2id$v=19$m=${costs.memoryKib},t=${costs.passes},p=${costs.parallelism}$${b64(salt)}$${b64(hash)}`;
}

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** True when `password` matches; a malformed stored hash is simply no match. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = PHC.exec(stored);
  if (!m) return false;
  const expected = Buffer.from(m[5], 'base64');
  const actual = await derive(password, Buffer.from(m[4], 'base64'), { memoryKib: Number(m[1]), passes: Number(m[2]), parallelism: Number(m[3]) }, expected.length);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

const dummyHashes = new Map<string, Promise<string>>();
/**
 * A hash of a random password with the configured costs: checked against when the
 * account does not exist, so a sign-in takes the same time either way.
 */
export function dummyHash(costs: Argon2Costs): Promise<string> {
  const key = `${costs.memoryKib}/${costs.passes}/${costs.parallelism}`;
  let hash = dummyHashes.get(key);
  if (!hash) dummyHashes.set(key, (hash = hashPassword(randomBytes(16).toString('hex'), costs)));
  return hash;
}

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

// Loaded on first use (setting a password is rare): its dictionaries hold several MB.
const require = createRequire(import.meta.url);
let estimator: ZxcvbnFactory | undefined;

/** Undefined when the password is strong enough; otherwise the reason, for the person. */
export function passwordProblem(password: string, userInputs: string[]): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `Use at least ${MIN_PASSWORD_LENGTH} characters. A few unrelated words make a strong, memorable password.`;
  if (password.length > MAX_PASSWORD_LENGTH) return `Use at most ${MAX_PASSWORD_LENGTH} characters.`;
  if (!estimator) {
    const { ZxcvbnFactory: Factory } = require('@zxcvbn-ts/core') as typeof import('@zxcvbn-ts/core');
    const common = require('@zxcvbn-ts/language-common') as typeof import('@zxcvbn-ts/language-common');
    estimator = new Factory({ dictionary: { ...common.dictionary }, graphs: common.adjacencyGraphs });
  }
  // zxcvbn slows down on very long input; the start of the password decides its guessability.
  const result = estimator.check(password.slice(0, 100), userInputs);
  if (result.score < 3) {
    return 'This password is too easy to guess: it is common, or built from a common pattern, a word with substitutions or your own details. Choose a longer one, for example four or more unrelated words.';
  }
  return undefined;
}
