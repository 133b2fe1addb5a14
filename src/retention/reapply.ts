// After a restore: every deletion the live database recorded (sweeps and erasure
// requests, from its deletion log) is made again in the restored data, and the live
// suppression list, holds and log are carried over, so a restore never brings a deleted
// person back. The log keeps keyed hashes of ids, so each restored row's id is hashed
// (under the current and previous keys) and looked up; all of the log is applied, which
// is safe: a row deleted before the snapshot is not in it.
import type { Kysely, Transaction } from 'kysely';
import { DELETED_ID_LABEL } from './deletion-log.ts';
import type { Signer } from '../http/signing.ts';
import type { Database } from '../storage/types.ts';
import { deleteInquiries, deletePeople, deleteThreads, type Removed } from './sweep-store.ts';
import { n as deleted } from './sweep-store.ts';
import { domainOf, findHoldsCovering } from './holds.ts';

type Deleter = (trx: Transaction<Database>, ids: string[]) => Promise<Removed>;
const simple = (table: 'mail_attachment' | 'consent_record' | 'consent_confirmation' | 'withdrawal_request' | 'outbox'): Deleter => async (trx, ids) => ({ counts: { [table]: deleted(await trx.deleteFrom(table).where('id', 'in', ids).executeTakeFirst()) }, ids });

// People first: deleting a person takes everything of theirs with them.
const TABLES: [keyof Database & string, Deleter][] = [
  ['person', deletePeople],
  ['inquiry', deleteInquiries],
  ['mail_thread', deleteThreads],
  ['mail_attachment', simple('mail_attachment')],
  ['consent_record', simple('consent_record')],
  ['consent_confirmation', simple('consent_confirmation')],
  ['withdrawal_request', simple('withdrawal_request')],
  ['outbox', simple('outbox')],
];

const PAGE = 5000;

export interface ReapplyResult {
  /** Rows deleted again per table. */
  deleted: Record<string, number>;
  /** Rows copied from the live database. */
  carried: { deletion_log: number; suppression: number; retention_hold: number; retention_run: number; erasure_proof: number };
}

export async function reapplyDeletions(live: Kysely<Database> | undefined, restored: Kysely<Database>, signer: Signer): Promise<ReapplyResult> {
  const carried = { deletion_log: 0, suppression: 0, retention_hold: 0, retention_run: 0, erasure_proof: 0 };
  if (live) {
    // Copied a page at a time; rows the snapshot already has are left as they are,
    // except holds, whose lifting after the snapshot must carry over too.
    carried.deletion_log = await copyMissing(live, restored, 'deletion_log', 'id');
    carried.retention_run = await copyMissing(live, restored, 'retention_run', 'id');
    carried.suppression = await copyMissing(live, restored, 'suppression', 'subject_key');
    carried.retention_hold = await copyMissing(live, restored, 'retention_hold', 'id');
    carried.erasure_proof = await copyMissing(live, restored, 'erasure_proof', 'id');
    for (const h of await live.selectFrom('retention_hold').selectAll().where('lifted_at', 'is not', null).execute()) {
      await restored.updateTable('retention_hold').set({ lifted_at: h.lifted_at, lifted_by: h.lifted_by }).where('id', '=', h.id).where('lifted_at', 'is', null).execute();
    }
  }

  // Every logged hash (the restored database now has the live log as well).
  const hashes = new Set<string>();
  let after = '';
  for (;;) {
    const rows = await restored.selectFrom('deletion_log').select(['id', 'affected_id_hashes']).where('id', '>', after).orderBy('id').limit(500).execute();
    if (rows.length === 0) break;
    for (const r of rows) for (const h of JSON.parse(r.affected_id_hashes) as string[]) hashes.add(h);
    after = rows[rows.length - 1].id;
  }

  const total: Record<string, number> = {};
  const add = (removed: Removed) => {
    for (const [t, c] of Object.entries(removed.counts)) total[t] = (total[t] ?? 0) + c;
  };
  await reapplyErasures(restored, add);
  if (hashes.size === 0) return { deleted: total, carried };
  for (const [table, remove] of TABLES) {
    let cursor = '';
    for (;;) {
      const rows = (await restored
        .selectFrom(table as 'person')
        .select('id')
        .where('id', '>', cursor)
        .orderBy('id')
        .limit(PAGE)
        .execute()) as { id: string }[];
      if (rows.length === 0) break;
      cursor = rows[rows.length - 1].id;
      const doomed = rows.map((r) => r.id).filter((id) => signer.keyedHashes(DELETED_ID_LABEL, id).some((h) => hashes.has(h)));
      if (doomed.length === 0) continue;
      add(await restored.transaction().execute((trx) => remove(trx, doomed)));
    }
  }
  return { deleted: total, carried };
}

/**
 * Erasure requests (rights/erase-person.ts) leave a proof with the keyed hash of the
 * address: the people the snapshot has under that subject key, created before the
 * erasure, are erased again, unless a hold in force now covers them (as it would have
 * kept them then).
 */
async function reapplyErasures(restored: Kysely<Database>, add: (removed: Removed) => void): Promise<void> {
  const now = new Date().toISOString();
  const proofs = await restored.selectFrom('erasure_proof').select(['subject_key', 'erased_at']).execute();
  for (const proof of proofs) {
    const people = await restored.selectFrom('person').select(['id', 'email']).where('subject_key', '=', proof.subject_key).where('created_at', '<=', proof.erased_at).execute();
    for (const person of people) {
      const inquiryIds = (await restored.selectFrom('inquiry').select('id').where('person_id', '=', person.id).execute()).map((r) => r.id);
      const holds = await findHoldsCovering(restored, { personId: person.id, inquiryIds, emailDomain: domainOf(person.email) }, now);
      if (holds.length > 0) continue;
      add(await restored.transaction().execute((trx) => deletePeople(trx, [person.id])));
    }
  }
}

async function copyMissing<T extends 'deletion_log' | 'retention_run' | 'suppression' | 'retention_hold' | 'erasure_proof'>(live: Kysely<Database>, restored: Kysely<Database>, table: T, key: 'id' | 'subject_key'): Promise<number> {
  let copied = 0;
  let cursor = '';
  for (;;) {
    const rows = (await live.selectFrom(table as 'deletion_log').selectAll().where(key as 'id', '>', cursor).orderBy(key as 'id').limit(500).execute()) as Record<string, unknown>[];
    if (rows.length === 0) break;
    cursor = rows[rows.length - 1][key] as string;
    for (const row of rows) {
      const r = await restored.insertInto(table as 'deletion_log').values(row as never).onConflict((oc) => oc.column(key as 'id').doNothing()).executeTakeFirst();
      copied += Number(r.numInsertedOrUpdatedRows ?? 0n);
    }
  }
  return copied;
}
