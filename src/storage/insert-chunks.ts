// SQLite binds at most 32,766 parameters in one statement (PostgreSQL 65,535), so a
// multi-row insert is split into chunks that stay under the smaller bound.
const MAX_BOUND_PARAMETERS = 32_766;

/** `rows` in order, in slices whose parameters (rows x columns) fit one statement. */
export function insertChunks<T>(rows: readonly T[], columnsPerRow: number): T[][] {
  const size = Math.max(1, Math.floor(MAX_BOUND_PARAMETERS / columnsPerRow));
  const chunks: T[][] = [];
  for (let i = 0; i < rows.length; i += size) chunks.push(rows.slice(i, i + size));
  return chunks;
}
