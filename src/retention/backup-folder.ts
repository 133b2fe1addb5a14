// The backup folder: where the scheduled backup job (and `lumetrax backup` without --out)
// writes its snapshots, and where each is destroyed once it is older than the policy's
// retention.backup_retention_days, so the retention page's "kept for N days, then
// destroyed" holds without an operator's cron. A snapshot's age is read from its name
// (the UTC instant it was taken), not from the file's mtime, which a copy or a restore
// of the folder would reset. Only files named the way this module names them are ever
// deleted: anything else an operator keeps in the folder is left alone.
import { chmodSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Storage } from '../storage/db.ts';
import { backupSqlite } from './backup.ts';

// To the millisecond, so the job and a `lumetrax backup` in the same second do not collide.
const SNAPSHOT_NAME = /^lumetrax-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z\.sqlite$/;

/** lumetrax-20261206T023000123Z.sqlite */
export function snapshotName(at: Date): string {
  return `lumetrax-${at.toISOString().slice(0, 23).replace(/[-:.]/g, '')}Z.sqlite`;
}

/** When the snapshot was taken, from its name; undefined for a file this module did not name. */
export function takenAt(name: string): Date | undefined {
  const m = SNAPSHOT_NAME.exec(name);
  if (!m) return undefined;
  const at = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7])));
  // Date.UTC rolls a 13th month or a 32nd day over; such a name is not one of ours.
  return snapshotName(at) === name ? at : undefined;
}

/** The folder, created owner-only (0700) if missing and tightened if others could read it. */
export function ensureBackupFolder(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** Destroys the snapshots in `dir` taken more than `retentionDays` before `now`. */
export function pruneBackups(dir: string, now: Date, retentionDays: number): { pruned: number; kept: number } {
  const cutoff = now.getTime() - retentionDays * 86_400_000;
  let pruned = 0;
  let kept = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const at = entry.isFile() ? takenAt(entry.name) : undefined;
    if (!at) continue;
    if (at.getTime() < cutoff) {
      rmSync(join(dir, entry.name), { force: true });
      pruned++;
    } else kept++;
  }
  return { pruned, kept };
}

export interface FolderBackup {
  file: string;
  bytes: number;
  pruned: number;
  kept: number;
}

/** A new snapshot in the folder, then the folder pruned to the retention period. */
export async function backupToFolder(storage: Storage, dir: string, now: Date, retentionDays: number): Promise<FolderBackup> {
  ensureBackupFolder(dir);
  const file = join(dir, snapshotName(now));
  const { bytes } = await backupSqlite(storage, file);
  return { file, bytes, ...pruneBackups(dir, now, retentionDays) };
}
