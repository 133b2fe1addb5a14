import type { Transaction } from 'kysely';
import type { Database, NewInquiry } from '../storage/types.ts';

export async function findBySubmissionKey(trx: Transaction<Database>, key: string): Promise<{ id: string; reference: string } | undefined> {
  return trx.selectFrom('inquiry').select(['id', 'reference']).where('submission_key', '=', key).executeTakeFirst();
}

export async function insertInquiry(trx: Transaction<Database>, inquiry: NewInquiry): Promise<void> {
  await trx.insertInto('inquiry').values(inquiry).execute();
}
