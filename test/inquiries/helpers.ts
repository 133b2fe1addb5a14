// Shared by the intake and fuzz tests: row counts and whole-database scans, read through
// the running server's own storage so they see exactly what it committed.
import { readFileSync, existsSync } from 'node:fs';
import { sql } from 'kysely';
import type { TestServer } from '../support/server.ts';

export interface Counts {
  inquiry: number;
  outbox: number;
  consent_record: number;
  audit_log: number;
  suppression: number;
}

/** One statement, so the five counts are a consistent snapshot. */
export async function counts(server: TestServer): Promise<Counts> {
  const { rows } = await sql<Record<keyof Counts, string | number>>`select
    (select count(*) from inquiry) as inquiry,
    (select count(*) from outbox) as outbox,
    (select count(*) from consent_record) as consent_record,
    (select count(*) from audit_log) as audit_log,
    (select count(*) from suppression) as suppression`.execute(server.running.deps.storage.db);
  const r = rows[0];
  return {
    inquiry: Number(r.inquiry),
    outbox: Number(r.outbox),
    consent_record: Number(r.consent_record),
    audit_log: Number(r.audit_log),
    suppression: Number(r.suppression),
  };
}

export function delta(after: Counts, before: Counts): Counts {
  return {
    inquiry: after.inquiry - before.inquiry,
    outbox: after.outbox - before.outbox,
    consent_record: after.consent_record - before.consent_record,
    audit_log: after.audit_log - before.audit_log,
    suppression: after.suppression - before.suppression,
  };
}

export const nothingAdded: Counts = { inquiry: 0, outbox: 0, consent_record: 0, audit_log: 0, suppression: 0 };

/**
 * Every value of every column of every table (found by introspection, so a table added
 * later is covered too), as one string. On SQLite the raw database and WAL bytes are
 * added, so a value cannot hide in a page the tables no longer reference.
 */
export async function everythingStored(server: TestServer): Promise<string> {
  const db = server.running.deps.storage.db;
  // On PostgreSQL only this test's schema is listed: introspecting every schema races
  // with other tests dropping theirs.
  const tables =
    server.database.kind === 'postgres'
      ? (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(db)).rows
      : await db.introspection.getTables({ withInternalKyselyTables: true });
  if (tables.length < 6) throw new Error(`introspection found only ${tables.length} tables`);
  const parts: string[] = [];
  for (const t of tables) {
    const { rows } = await sql`select * from ${sql.table(t.name)}`.execute(db);
    parts.push(JSON.stringify(rows));
  }
  const target = server.database.target;
  if (target.kind === 'sqlite') {
    for (const file of [target.path, `${target.path}-wal`]) {
      if (existsSync(file)) parts.push(readFileSync(file).toString('utf8'));
    }
  }
  return parts.join('\n');
}

export function receiptCookie(res: Response): string | undefined {
  return res.headers.getSetCookie().find((c) => c.startsWith('lt_receipt='));
}

export function tokenIn(body: string): string | undefined {
  return /name="form_token" value="([^"]+)"/.exec(body)?.[1];
}

/** A POST with exactly the headers given (no Origin or Sec-Fetch-Site unless asked). */
export function rawPost(url: string, body: string | URLSearchParams, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: typeof body === 'string' ? body : body.toString(),
  });
}
