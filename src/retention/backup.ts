// `lumetrax backup` and `lumetrax restore` for the embedded database (SQLite).
//   - A backup is `VACUUM INTO` a new owner-only file: a consistent snapshot taken inside
//     one read transaction while the service keeps running, written page by page from
//     the live rows only (freed pages, and so deleted data, are not copied).
//   - A restore copies the snapshot beside the database, migrates it, re-applies every
//     deletion the live database logged (and carries over its log, suppression list and
//     holds), zeroes and compacts it, and only then moves it into place: the service,
//     stopped meanwhile, never serves a restored row that was deleted.
// On PostgreSQL, pg_dump and pg_restore do the copying (README, "Backups"), and
// `lumetrax retention reapply --from URL` the re-applying.
import { closeSync, copyFileSync, chmodSync, existsSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { sql } from 'kysely';
import type { DatabaseTarget } from '../config.ts';
import type { Signer } from '../http/signing.ts';
import { openStorage, type Storage } from '../storage/db.ts';
import { migrateToLatest } from '../storage/migrate.ts';
import { inTransaction } from '../unit-of-work.ts';
import { reapplyDeletions, type ReapplyResult } from './reapply.ts';

export class BackupError extends Error {}

const OWNER_ONLY = 0o600;

export async function backupSqlite(storage: Storage, out: string): Promise<{ bytes: number }> {
  if (storage.kind !== 'sqlite') throw new BackupError('backup: the database is PostgreSQL; take backups with pg_dump (see README, "Backups")');
  // Created empty and owner-only first, so the snapshot is never readable by others.
  let fd: number;
  try {
    fd = openSync(out, 'wx', OWNER_ONLY);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new BackupError(code === 'EEXIST' ? `backup: ${out} exists already; give a new file name` : `backup: cannot create ${out} (${code})`);
  }
  closeSync(fd);
  try {
    await sql`VACUUM INTO ${out}`.execute(storage.db);
  } catch (error) {
    rmSync(out, { force: true });
    throw error;
  }
  chmodSync(out, OWNER_ONLY);
  return { bytes: statSync(out).size };
}

function isSqliteFile(file: string): boolean {
  const header = Buffer.alloc(16);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  return header.toString('latin1') === 'SQLite format 3\0';
}

export async function restoreSqlite(target: DatabaseTarget, file: string, signer: Signer, now: () => Date = () => new Date()): Promise<ReapplyResult> {
  if (target.kind !== 'sqlite') throw new BackupError('restore: the database is PostgreSQL; restore the dump with pg_restore into a new database, then run `lumetrax retention reapply --from OLD_DATABASE_URL` (see README, "Backups")');
  if (!existsSync(file) || !statSync(file).isFile()) throw new BackupError(`restore: no file ${file}`);
  if (!isSqliteFile(file)) throw new BackupError(`restore: ${file} is not a backup made by \`lumetrax backup\` (not an SQLite database)`);
  const path = target.path;
  const wal = `${path}-wal`;

  let live: Storage | undefined;
  if (existsSync(path)) {
    // Closing the last connection removes the WAL; one that stays means another process
    // (the service) has the database open.
    const probe = openStorage(target);
    await sql`select 1`.execute(probe.db);
    await probe.close();
    if (existsSync(wal)) throw new BackupError('restore: the database is in use (is the service running?); stop the service, then restore');
    live = openStorage(target);
    await migrateToLatest(live.db);
  }

  const staging = `${path}.restoring`;
  for (const f of [staging, `${staging}-wal`, `${staging}-shm`]) rmSync(f, { force: true });
  copyFileSync(file, staging);
  chmodSync(staging, OWNER_ONLY);
  const restored = openStorage({ kind: 'sqlite', path: staging });
  let result: ReapplyResult;
  try {
    await migrateToLatest(restored.db);
    result = await reapplyDeletions(live?.db, restored.db, signer);
    await inTransaction({ storage: restored, now, mailQueued: () => undefined }, async (uow) => {
      uow.audit({ actor: 'cli', action: 'retention.restored', entityType: 'database', entityId: 'sqlite', details: { ...Object.fromEntries(Object.entries(result.deleted).map(([t, c]) => [`redeleted_${t}`, c])), carried_log_entries: result.carried.deletion_log, carried_suppression: result.carried.suppression, carried_erasure_proofs: result.carried.erasure_proof } });
    });
    // Freed pages are zeroed (secure_delete); VACUUM then rebuilds the file from live rows.
    await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(restored.db);
    await sql`VACUUM`.execute(restored.db);
  } finally {
    await restored.close();
    await live?.close();
  }
  for (const f of [wal, `${path}-shm`]) rmSync(f, { force: true });
  renameSync(staging, path);
  return result;
}
