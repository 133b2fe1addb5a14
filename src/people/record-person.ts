// The person behind a submission: found by subject key, created when new, contact
// details refreshed to what they gave last (the store writes it, on PostgreSQL in the
// same statement as the inquiry).
import { randomUUID } from 'node:crypto';
import type { Signer } from '../http/signing.ts';
import type { PersonContact } from './store.ts';
import { subjectKey } from './subject.ts';

/** The person's row as it is to be written (a fresh id, used only if they are new). */
export function personContact(now: Date, signer: Signer, contact: { email: string; name: string }): PersonContact {
  return { id: randomUUID(), subjectKey: subjectKey(signer, contact.email), email: contact.email, name: contact.name, at: now.toISOString() };
}
