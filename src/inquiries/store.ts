import type { Transaction } from 'kysely';
import type { Database, NewInquiry } from '../storage/types.ts';

export async function findBySubmissionKey(trx: Transaction<Database>, key: string): Promise<{ id: string; reference: string } | undefined> {
  return trx.selectFrom('inquiry').select(['id', 'reference']).where('submission_key', '=', key).executeTakeFirst();
}

/**
 * False when a unique key is taken: the submission key (a resend, or a double click that
 * reached another instance), which must read as a resend, or by rare chance the random
 * reference, which the caller draws again. A failed statement would abort the whole
 * transaction on PostgreSQL, hence DO NOTHING. Inserting first saves a lookup on every
 * new submission.
 */
export async function insertInquiry(trx: Transaction<Database>, inquiry: NewInquiry): Promise<boolean> {
  const row = await trx
    .insertInto('inquiry')
    .values(inquiry)
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}
