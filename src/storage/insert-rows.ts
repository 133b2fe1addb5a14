// Multi-row inserts written as SQL text, for the statements every submission's batch runs
// (outbox mail, audit entries, the intake's lead statement). Kysely's builder reads every
// column of every row through generic property access (megamorphic in the service, where
// many row shapes pass through it) and then compiles the tree it built: `perf` put that at
// about 15% of the PostgreSQL intake's CPU. Each text is built once: on SQLite per table,
// column list and row count, the values as parameters; on PostgreSQL per table and column
// list, the rows as one JSON parameter (a prepared statement: pg-prepared.ts).
import { CompiledQuery, PostgresAdapter, type Kysely, type Transaction } from 'kysely';
import { insertChunks } from './insert-chunks.ts';
import { prepared } from './pg-prepared.ts';
import type { Database } from './types.ts';

type Db = Kysely<Database> | Transaction<Database>;

const texts = new Map<string, string>();
const MAX_TEXTS = 512;

export function isPostgres(db: Db): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** Builds (once per shape) and caches a statement's text. */
export function cachedText(key: string, build: () => string): string {
  let text = texts.get(key);
  if (text === undefined) {
    text = build();
    if (texts.size >= MAX_TEXTS) texts.delete(texts.keys().next().value!);
    texts.set(key, text);
  }
  return text;
}

/** The row's values in column order, as one flat parameter list for all rows. */
function flatValues<T>(rows: readonly T[], columns: ReadonlyArray<keyof T>): unknown[] {
  const values: unknown[] = [];
  for (const row of rows) for (const c of columns) values.push(row[c] ?? null);
  return values;
}

/** SQLite: the INSERT for `rows` rows of `columns` into `table` (names are the code's own, never input). */
function sqliteInsertText(table: string, columns: readonly string[], rows: number): string {
  return cachedText(`sqlite|${table}|${columns.join(',')}|${rows}`, () => {
    const row = `(${columns.map(() => '?').join(', ')})`;
    return `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${Array(rows).fill(row).join(', ')}`;
  });
}

/**
 * `rows` in slices of power-of-two lengths (37 rows: 32, 4, 1). SQLite keeps a compiled
 * program for every statement text in the connection's cache, with the values last bound
 * to it; one text per batch size (1 to 60 and more under load) held several MB of native
 * memory, where seven shapes up to 64 rows hold a fraction of it.
 */
function powerOfTwoSlices<T>(rows: readonly T[]): T[][] {
  const slices: T[][] = [];
  let at = 0;
  while (at < rows.length) {
    const size = 2 ** Math.floor(Math.log2(rows.length - at));
    slices.push(rows.slice(at, at + size));
    at += size;
  }
  return slices;
}

// Rows per statement on PostgreSQL, where they go as one JSON parameter.
const JSON_ROWS_PER_STATEMENT = 5_000;

/**
 * PostgreSQL: `rows` as one JSON parameter the server unpacks with the table's own row
 * type, so the text is the same for any number of rows and runs as a prepared statement.
 */
export function jsonInsertText(table: string, columns: readonly string[]): string {
  return cachedText(`json|${table}|${columns.join(',')}`, () => {
    const list = columns.map((c) => `"${c}"`).join(', ');
    return prepared(`insert into "${table}" (${list}) select ${list} from json_populate_recordset(null::"${table}", $1::json)`);
  });
}

/** Inserts every row (all of one shape: the columns are the first row's keys), chunked to fit. */
export async function insertRows<T extends object>(db: Db, table: keyof Database & string, rows: readonly T[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]) as Array<keyof T & string>;
  if (isPostgres(db)) {
    for (let at = 0; at < rows.length; at += JSON_ROWS_PER_STATEMENT) {
      await db.executeQuery(CompiledQuery.raw(jsonInsertText(table, columns), [JSON.stringify(rows.slice(at, at + JSON_ROWS_PER_STATEMENT))]));
    }
    return;
  }
  for (const chunk of insertChunks(rows, columns.length).flatMap(powerOfTwoSlices)) {
    await db.executeQuery(CompiledQuery.raw(sqliteInsertText(table, columns, chunk.length), flatValues(chunk, columns)));
  }
}
