// The chain's hash function, shared by the writer and every verifier (database or export).
import { createHash } from 'node:crypto';
import type { AuditEntry } from '../storage/types.ts';

export const GENESIS_HASH = '0'.repeat(64);

export function entryHash(e: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256')
    .update(JSON.stringify([e.seq, e.at, e.actor, e.action, e.entity_type, e.entity_id, e.details, e.prev_hash]))
    .digest('hex');
}
