// Brings every stored subject key under the current key: after the migration that
// created person rows (placeholders), and after SECRET_KEY is rotated. Suppression
// entries stored under an older form for a known person get the current form too, so
// the marketing export can match them by key alone. Runs at start, before listening.
import type { Deps } from '../deps.ts';
import { inTransaction } from '../unit-of-work.ts';
import { findPersonBySubjectKey, mergePeople, peopleNotKeyedWith, setSubjectKey } from './store.ts';
import { subjectKey, subjectKeys } from './subject.ts';
import { copySuppression } from '../consent/store.ts';

const BATCH = 500;

export async function rekeySubjects(deps: Pick<Deps, 'storage' | 'signer' | 'now' | 'mailQueued'>): Promise<{ rekeyed: number; merged: number }> {
  let rekeyed = 0;
  let merged = 0;
  for (;;) {
    const done = await inTransaction(deps, async (uow) => {
      const people = await peopleNotKeyedWith(uow.trx, deps.signer.currentKeyId, BATCH);
      for (const p of people) {
        const key = subjectKey(deps.signer, p.email);
        const twin = await findPersonBySubjectKey(uow.trx, key);
        if (twin) {
          // The same address already has a current row: one person, not two.
          await mergePeople(uow.trx, p.id, twin.id);
          merged++;
        } else {
          await setSubjectKey(uow.trx, p.id, key);
        }
        await copySuppression(uow.trx, subjectKeys(deps.signer, p.email), key, uow.now.toISOString());
        rekeyed++;
      }
      if (people.length > 0) uow.audit({ actor: 'system', action: 'people.rekeyed', entityType: 'person', entityId: '*', details: { count: people.length } });
      return people.length < BATCH;
    });
    if (done) return { rekeyed, merged };
  }
}
