// Whether the inbox's text search reads trigram indexes or scans, asked of the database
// once and kept for the life of the storage. Only PostgreSQL can lack the indexes: the
// migration creates them only when its role could create the pg_trgm extension.
import type { FastifyBaseLogger } from 'fastify';
import type { Storage } from '../storage/db.ts';
import { textSearchIndexed, type TextSearch } from './store.ts';

const known = new WeakMap<Storage, Promise<TextSearch>>();

export function inboxTextSearch(storage: Storage): Promise<TextSearch> {
  let mode = known.get(storage);
  if (!mode) {
    mode = textSearchIndexed(storage.db).then((indexed): TextSearch => (indexed ? 'trigram' : 'scan'));
    // A failed look-up (the database away) is asked again next time, not remembered.
    mode.catch(() => known.delete(storage));
    known.set(storage, mode);
  }
  return mode;
}

/** Said once, at start, when searches will scan (no personal data: nothing searched yet). */
export async function reportTextSearch(storage: Storage, log: Pick<FastifyBaseLogger, 'warn'>): Promise<void> {
  if ((await inboxTextSearch(storage)) === 'scan') {
    log.warn('inbox text search: the pg_trgm trigram indexes are missing (the extension could not be created), so searches read every inquiry; README "Running on PostgreSQL" says how to add them');
  }
}
