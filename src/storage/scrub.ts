// After an erasure (or any deletion of personal data), nothing of the deleted rows may
// stay readable on disk.
//
// SQLite: every connection runs with `secure_delete = ON` (set at open in
// sqlite-driver.ts), so a deleted row's bytes are overwritten with zeros in the page that
// held it, and freed pages are zeroed. In WAL mode the earlier versions of those pages
// still sit in the -wal file (the frames written when the row was inserted or changed),
// until a checkpoint copies the current pages back and the log is reset. So after an
// erasure we checkpoint with TRUNCATE: the database file gets the zeroed pages and the
// -wal file is cut to zero bytes. A checkpoint cannot finish while another connection
// reads an old snapshot; it is then tried again a few times, and the result says whether
// it finished (`complete`), so a caller can report a WAL it could not clear.
// The -shm file is the WAL's index (page numbers and checksums), never row contents.
//
// PostgreSQL: nothing here can scrub it (see ARCHITECTURE.md, "Erasure"): a deleted row
// is a dead tuple until VACUUM makes its space reusable, and its bytes stay in the data
// files, the WAL segments and any backup or replica until overwritten.
import { sql } from 'kysely';
import type { Storage } from './db.ts';

export interface ScrubResult {
  kind: Storage['kind'];
  /** SQLite: the checkpoint copied every WAL frame back and truncated the log. */
  complete: boolean;
  attempts: number;
}

const ATTEMPTS = 5;

export async function scrubAfterDeletion(storage: Pick<Storage, 'kind' | 'db'>): Promise<ScrubResult> {
  if (storage.kind !== 'sqlite') return { kind: storage.kind, complete: false, attempts: 0 };
  for (let attempt = 1; ; attempt++) {
    // busy = 1 when a reader kept the checkpoint from finishing.
    const { rows } = await sql<{ busy: number; log: number; checkpointed: number }>`PRAGMA wal_checkpoint(TRUNCATE)`.execute(storage.db);
    const busy = Number(rows[0]?.busy ?? 1);
    if (busy === 0) return { kind: 'sqlite', complete: true, attempts: attempt };
    if (attempt >= ATTEMPTS) return { kind: 'sqlite', complete: false, attempts: attempt };
    await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
  }
}
