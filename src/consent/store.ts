import type { Kysely, Transaction } from 'kysely';
import type { ConsentConfirmationTable, ConsentRecord, ConsentRecordTable, Database } from '../storage/types.ts';

type Db = Kysely<Database> | Transaction<Database>;

export async function insertConsentRecord(db: Db, record: ConsentRecordTable): Promise<void> {
  await db.insertInto('consent_record').values(record).execute();
}

export async function findConsentRecord(db: Db, id: string): Promise<ConsentRecord | undefined> {
  return db.selectFrom('consent_record').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function latestConsentForPerson(db: Db, personId: string, purpose: string): Promise<ConsentRecord | undefined> {
  return db
    .selectFrom('consent_record')
    .selectAll()
    .where('person_id', '=', personId)
    .where('purpose', '=', purpose)
    .orderBy('recorded_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** `keys`: every form the person's subject key may have been stored under. */
export async function isSuppressed(db: Db, keys: string[]): Promise<boolean> {
  const row = await db.selectFrom('suppression').select('subject_key').where('subject_key', 'in', keys).executeTakeFirst();
  return row !== undefined;
}

export async function addSuppression(db: Db, subjectKey: string, reason: string, at: string): Promise<void> {
  await db
    .insertInto('suppression')
    .values({ subject_key: subjectKey, reason, created_at: at })
    .onConflict((oc) => oc.column('subject_key').doNothing())
    .execute();
}

/** A confirmed fresh opt-in lifts the suppression, in every form it was stored. */
export async function removeSuppression(db: Db, keys: string[]): Promise<number> {
  const result = await db.deleteFrom('suppression').where('subject_key', 'in', keys).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** An entry stored under an older key form gets the current form as well. */
export async function copySuppression(db: Db, keys: string[], currentKey: string, at: string): Promise<void> {
  const old = await db.selectFrom('suppression').select('reason').where('subject_key', 'in', keys).where('subject_key', '!=', currentKey).executeTakeFirst();
  if (old) await addSuppression(db, currentKey, old.reason, at);
}

export interface CurrentConsent {
  email: string;
  name: string;
  company: string | null;
  country: string | null;
  recorded_at: string;
  notice_version: string | null;
  channel: string;
  wording: string | null;
}

/**
 * People whose latest record for the purpose is a grant and who are not suppressed, with
 * their contact details from the person row and company and country from the inquiry
 * the consent came with.
 */
export async function currentConsents(db: Db, purpose: string): Promise<CurrentConsent[]> {
  return db
    .selectFrom('consent_record as c')
    .innerJoin('person as p', 'p.id', 'c.person_id')
    .leftJoin('inquiry as i', 'i.id', 'c.inquiry_id')
    .select(['p.email', 'p.name', 'i.company', 'i.country', 'c.recorded_at', 'c.notice_version', 'c.channel', 'c.wording'])
    .where('c.purpose', '=', purpose)
    .where('c.action', '=', 'granted')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('consent_record as later')
            .select('later.id')
            .whereRef('later.person_id', '=', 'c.person_id')
            .where('later.purpose', '=', purpose)
            .where((eb) =>
              eb.or([
                eb('later.recorded_at', '>', eb.ref('c.recorded_at')),
                eb.and([eb('later.recorded_at', '=', eb.ref('c.recorded_at')), eb('later.id', '>', eb.ref('c.id'))]),
              ]),
            ),
        ),
      ),
    )
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('suppression as s').select('s.subject_key').whereRef('s.subject_key', '=', 'p.subject_key'))),
    )
    .orderBy('c.recorded_at')
    .execute();
}

export async function insertConfirmation(db: Db, row: ConsentConfirmationTable): Promise<void> {
  await db.insertInto('consent_confirmation').values(row).execute();
}

export async function takeConfirmation(db: Db, id: string): Promise<ConsentConfirmationTable | undefined> {
  return db.deleteFrom('consent_confirmation').where('id', '=', id).returningAll().executeTakeFirst();
}

export async function deleteExpiredConfirmations(db: Db, now: string): Promise<number> {
  const result = await db.deleteFrom('consent_confirmation').where('expires_at', '<', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function insertWithdrawalRequest(db: Db, row: { id: string; subject_key: string; requested_at: string }): Promise<void> {
  await db.insertInto('withdrawal_request').values(row).execute();
}

export async function takeWithdrawalRequests(db: Db, limit: number): Promise<Array<{ id: string; subject_key: string }>> {
  const rows = await db.selectFrom('withdrawal_request').select(['id', 'subject_key']).orderBy('requested_at').limit(limit).execute();
  if (rows.length > 0) await db.deleteFrom('withdrawal_request').where('id', 'in', rows.map((r) => r.id)).execute();
  return rows;
}

/** Counts one more mail for the subject today; false when the day's allowance is used up. */
export async function spendMailAllowance(db: Db, subjectKey: string, day: string, perDay: number): Promise<boolean> {
  const row = await db
    .insertInto('mail_allowance')
    .values({ subject_key: subjectKey, day, sent: 1 })
    .onConflict((oc) => oc.columns(['subject_key', 'day']).doUpdateSet((eb) => ({ sent: eb('mail_allowance.sent', '+', 1) })))
    .returning('sent')
    .executeTakeFirstOrThrow();
  return Number(row.sent) <= perDay;
}

export async function deleteOldAllowances(db: Db, beforeDay: string): Promise<number> {
  const result = await db.deleteFrom('mail_allowance').where('day', '<', beforeDay).executeTakeFirst();
  return Number(result.numDeletedRows);
}
