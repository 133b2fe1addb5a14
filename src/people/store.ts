import type { Kysely, QueryCreator, Transaction } from 'kysely';
import type { Database, Person } from '../storage/types.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** A person's contact details as given, under their subject key. */
export interface PersonContact {
  id: string;
  subjectKey: string;
  email: string;
  name: string;
  at: string;
}

/**
 * One row per subject key: a new address adds a person, a known one refreshes the
 * contact details with the latest given. Returns the person's id either way. As a query
 * not yet run, so a caller can make it part of one larger statement.
 */
function personUpsertQuery(db: Db | QueryCreator<Database>, person: PersonContact) {
  return db
    .insertInto('person')
    .values({ id: person.id, subject_key: person.subjectKey, email: person.email, name: person.name, created_at: person.at, updated_at: person.at })
    .onConflict((oc) => oc.column('subject_key').doUpdateSet({ email: person.email, name: person.name, updated_at: person.at }))
    .returning('id');
}

export async function upsertPerson(db: Db, person: PersonContact): Promise<string> {
  return (await personUpsertQuery(db, person).executeTakeFirstOrThrow()).id;
}

export async function findPerson(db: Db, id: string): Promise<Person | undefined> {
  return db.selectFrom('person').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findPersonBySubjectKey(db: Db, subjectKey: string): Promise<Person | undefined> {
  return db.selectFrom('person').selectAll().where('subject_key', '=', subjectKey).executeTakeFirst();
}

/** People whose subject key was not made with the given key id (moved rows, or a rotated key). */
export async function peopleNotKeyedWith(db: Db, keyId: string, limit: number): Promise<Array<Pick<Person, 'id' | 'email' | 'subject_key'>>> {
  return db
    .selectFrom('person')
    .select(['id', 'email', 'subject_key'])
    .where('subject_key', 'not like', `${keyId}:%`)
    .orderBy('id')
    .limit(limit)
    .execute();
}

export async function setSubjectKey(db: Db, id: string, subjectKey: string): Promise<void> {
  await db.updateTable('person').set({ subject_key: subjectKey }).where('id', '=', id).execute();
}

/** Merges `from` into `into`: their records now point at one person (same address under two keys). */
export async function mergePeople(db: Db, from: string, into: string): Promise<void> {
  for (const table of ['inquiry', 'consent_record', 'outbox', 'consent_confirmation', 'mail_thread'] as const) {
    await db.updateTable(table).set({ person_id: into }).where('person_id', '=', from).execute();
  }
  await db.updateTable('mail_message').set({ from_person_id: into }).where('from_person_id', '=', from).execute();
  await db.deleteFrom('person').where('id', '=', from).execute();
}
