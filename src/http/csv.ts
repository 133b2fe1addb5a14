// The one CSV writer for every export. Exports are opened in spreadsheets, which run a
// cell beginning with a formula character as a formula (CSV / formula injection), so
// every cell is neutralised and quoted here, not by each caller.
import { stringify } from 'csv-stringify/sync';

export type CsvCell = string | number | null | undefined;

// OWASP CSV Injection: = + - @ TAB CR; NUL from ASVS 5.0 1.2.10. The full-width forms
// (U+FF1D U+FF0B U+FF0D U+FF20) too: spreadsheets in CJK locales can take them for the
// ASCII ones (Excel does when they are typed), and a prefixed name costs nothing.
const TRIGGERS = new Set(['=', '+', '-', '@', '\t', '\r', '\0', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20']);

// Leading whitespace does not make a cell safe: importers that trim spaces (an option in
// LibreOffice, on by default in some tools) would then see the trigger first.
const LEADING_SPACE = /^[\s\u00A0\u2000-\u200B\u3000\uFEFF]*/u;

/** Returns the cell as a spreadsheet will read it as text: prefixed with ' if it could start a formula. */
export function neutraliseCell(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  // A number's own text (digits, '-', '.', 'e', 'Infinity', 'NaN') cannot form a formula.
  if (typeof value === 'number') return String(value);
  if (value === '') return '';
  if (TRIGGERS.has(value[0])) return `'${value}`;
  const rest = value.slice(LEADING_SPACE.exec(value)![0].length);
  if (rest !== '' && rest !== value && TRIGGERS.has(rest[0])) return `'${value}`;
  return value;
}

/**
 * CSV with a header row. Every cell, header included, is double-quoted (embedded quotes
 * doubled) so separators, quotes and line breaks inside a value never start a new cell or
 * row, and every data cell goes through neutraliseCell.
 */
export function toCsv(columns: readonly string[], rows: Iterable<readonly CsvCell[]>): string {
  const body: string[][] = [];
  for (const row of rows) {
    if (row.length !== columns.length) throw new Error(`CSV row has ${row.length} cells, expected ${columns.length}`);
    body.push(row.map(neutraliseCell));
  }
  return stringify([columns.map(neutraliseCell), ...body], { quoted: true, quoted_empty: true, eof: true });
}
