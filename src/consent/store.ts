import type { Kysely, Transaction } from 'kysely';
import type { ConsentRecord, ConsentRecordTable, Database } from '../storage/types.ts';

type Db = Kysely<Database> | Transaction<Database>;

export async function insertConsentRecord(db: Db, record: ConsentRecordTable): Promise<void> {
  await db.insertInto('consent_record').values(record).execute();
}

export async function findConsentRecord(db: Db, id: string): Promise<ConsentRecord | undefined> {
  return db.selectFrom('consent_record').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function latestConsentForSubject(db: Db, subjectKey: string, purpose: string): Promise<ConsentRecord | undefined> {
  return db
    .selectFrom('consent_record')
    .selectAll()
    .where('subject_key', '=', subjectKey)
    .where('purpose', '=', purpose)
    .orderBy('recorded_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function isSuppressed(db: Db, subjectKey: string): Promise<boolean> {
  const row = await db.selectFrom('suppression').select('subject_key').where('subject_key', '=', subjectKey).executeTakeFirst();
  return row !== undefined;
}

export async function addSuppression(db: Db, subjectKey: string, reason: string, at: string): Promise<void> {
  await db
    .insertInto('suppression')
    .values({ subject_key: subjectKey, reason, created_at: at })
    .onConflict((oc) => oc.column('subject_key').doNothing())
    .execute();
}

/** Latest record per subject for a purpose, where that record is a grant and the subject is not suppressed. */
export async function currentConsents(db: Db, purpose: string): Promise<ConsentRecord[]> {
  return db
    .selectFrom('consent_record as c')
    .selectAll('c')
    .where('c.purpose', '=', purpose)
    .where('c.action', '=', 'granted')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('consent_record as later')
            .select('later.id')
            .whereRef('later.subject_key', '=', 'c.subject_key')
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
      not(exists(selectFrom('suppression as s').select('s.subject_key').whereRef('s.subject_key', '=', 'c.subject_key'))),
    )
    .orderBy('c.recorded_at')
    .execute();
}
