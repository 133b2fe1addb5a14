// What the `lumetrax audit ...` commands do; src/main.ts holds their entries.
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Kysely } from 'kysely';
import { ConfigError } from '../config.ts';
import type { Database } from '../storage/types.ts';
import { exportToFile, ExportError, readExport, writeExport } from './export.ts';
import { readPublicKey } from './signing-key.ts';
import { checkTrail, describeCheck, verifyAuditTrail, type TrailCheck } from './verify.ts';

/** An input the operator can fix (a file that is not an export or a key): one line, exit 1, like a bad setting. */
export class AuditInputError extends ConfigError {}

function print(check: TrailCheck): number {
  const { ok, lines } = describeCheck(check);
  for (const line of lines) console.log(line);
  return ok ? 0 : 1;
}

function readPublicKeyFile(path: string): KeyObject {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new AuditInputError(`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); write it with \`lumetrax audit export-key > FILE\``);
  }
  const key = readPublicKey(text);
  if (!key) throw new AuditInputError(`${path}: not an Ed25519 public key in PEM form (as printed by \`lumetrax audit export-key\`)`);
  return key;
}

/** The database's trail, trusting the configured signing key, or the public key in `publicKeyFile`. */
export async function verifyDatabase(db: Kysely<Database>, signingKey: KeyObject, publicKeyFile?: string): Promise<number> {
  const anchor = publicKeyFile ? readPublicKeyFile(publicKeyFile) : signingKey;
  return print(await verifyAuditTrail(db, [anchor]));
}

/** An export, offline: no database, no secret, only the public key. */
export async function verifyExport(file: string, publicKeyFile: string): Promise<number> {
  const anchor = readPublicKeyFile(publicKeyFile);
  try {
    return print(await checkTrail(await readExport(file), [anchor]));
  } catch (error) {
    if (error instanceof ExportError) throw new AuditInputError(error.message);
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new AuditInputError(`${file}: no such file`);
    throw error;
  }
}

export async function exportTrail(db: Kysely<Database>, out: string | undefined, now: Date): Promise<number> {
  if (out) {
    const { entries, signatures } = await exportToFile(db, out, now).catch((error: NodeJS.ErrnoException) => {
      if (error.syscall === 'open') throw new AuditInputError(`${out}: cannot be written (${error.code}); give a file name in a folder this user may write to`);
      throw error;
    });
    console.error(`Wrote ${entries} entries and ${signatures} signatures to ${out}`);
  } else await writeExport(db, (line) => process.stdout.write(line), now);
  return 0;
}
