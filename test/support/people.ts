// Tests look people up by address; the database keeps the address once, on the person
// row, and everything else refers to it. These join the two back together.
import type { Kysely } from 'kysely';
import type { Database } from '../../src/storage/types.ts';

/** Inquiries of the person with this address, with their name and address. */
export function inquiriesByEmail(db: Kysely<Database>, email: string) {
  return db
    .selectFrom('inquiry')
    .innerJoin('person', 'person.id', 'inquiry.person_id')
    .selectAll('inquiry')
    .select(['person.email', 'person.name'])
    .where('person.email', '=', email)
    .orderBy('inquiry.created_at')
    .execute();
}

/** Every inquiry, with its person's name and address. */
export function allInquiries(db: Kysely<Database>) {
  return db.selectFrom('inquiry').innerJoin('person', 'person.id', 'inquiry.person_id').selectAll('inquiry').select(['person.email', 'person.name', 'person.subject_key']).execute();
}

/** Consent records of the people with these addresses, oldest first, with the address and subject key. */
export function consentRecordsByEmail(db: Kysely<Database>, ...emails: string[]) {
  return db
    .selectFrom('consent_record')
    .innerJoin('person', 'person.id', 'consent_record.person_id')
    .selectAll('consent_record')
    .select(['person.email', 'person.subject_key'])
    .where('person.email', 'in', emails)
    .orderBy('consent_record.recorded_at')
    .orderBy('consent_record.id')
    .execute();
}
