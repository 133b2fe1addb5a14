import type { Transaction } from 'kysely';
import type { Database, NewInquiry } from '../storage/types.ts';

export async function findBySubmissionKey(trx: Transaction<Database>, key: string): Promise<{ id: string; reference: string } | undefined> {
  return trx.selectFrom('inquiry').select(['id', 'reference']).where('submission_key', '=', key).executeTakeFirst();
}

/**
 * False when a row with the same submission key already exists (a resend, or a double
 * click that reached another instance): that must read as a resend, not fail on the
 * unique index. Inserting first saves a lookup on every new submission.
 */
export async function insertInquiry(trx: Transaction<Database>, inquiry: NewInquiry): Promise<boolean> {
  const row = await trx
    .insertInto('inquiry')
    .values(inquiry)
    .onConflict((oc) => oc.column('submission_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}
