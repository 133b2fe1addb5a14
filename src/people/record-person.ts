// The person behind a submission: found by subject key, created when new, contact
// details refreshed to what they gave last.
import { randomUUID } from 'node:crypto';
import type { Signer } from '../http/signing.ts';
import type { UnitOfWork } from '../unit-of-work.ts';
import { upsertPerson } from './store.ts';
import { subjectKey } from './subject.ts';

export async function recordPerson(uow: UnitOfWork, signer: Signer, contact: { email: string; name: string }): Promise<{ personId: string; subjectKey: string }> {
  const key = subjectKey(signer, contact.email);
  const personId = await upsertPerson(uow.trx, { id: randomUUID(), subjectKey: key, email: contact.email, name: contact.name, at: uow.now.toISOString() });
  return { personId, subjectKey: key };
}
