// The ceiling for the intake benchmark: a bare Fastify route that parses the same form
// and does one plain INSERT of the same row into a table shaped like `inquiry` (same
// columns, unique keys and index), nothing else: no validation, token check, consent,
// outbox or audit. SQLite with WAL + synchronous=FULL, or a pg pool.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import Fastify from 'fastify';
import formbody from '@fastify/formbody';
import pg from 'pg';

const port = Number(process.env.PORT ?? 3001);
const url = process.env.DATABASE_URL ?? '';

const columns = ['id', 'reference', 'form', 'name', 'email', 'company', 'role', 'country', 'context', 'free_mail', 'notice_version', 'submission_key', 'created_at', 'delete_after'];
const ddl = [
  `create table if not exists inquiry (id text primary key, reference text not null unique, form text not null, name text not null, email text not null, company text not null, role text not null, country text not null, context text, free_mail integer not null default 0, notice_version text not null, submission_key text not null unique, created_at text not null, delete_after text not null)`,
  'create index if not exists inquiry_delete_after on inquiry (delete_after)',
];

type Insert = (values: Array<string | number | null>) => Promise<void>;
let insert: Insert;
if (url.startsWith('postgres')) {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  for (const statement of ddl) await pool.query(statement);
  const sql = `insert into inquiry (${columns.join(', ')}) values (${columns.map((_, i) => `$${i + 1}`).join(', ')})`;
  insert = async (values) => {
    await pool.query(sql, values);
  };
} else {
  const db = new DatabaseSync(url.replace(/^sqlite:/, ''));
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  for (const statement of ddl) db.exec(statement);
  const stmt = db.prepare(`insert into inquiry (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`);
  insert = async (values) => {
    stmt.run(...values);
  };
}

const app = Fastify({ logger: false });
await app.register(formbody);
app.post('/demo', async (req, reply) => {
  const b = req.body as Record<string, string>;
  const now = new Date();
  // 48 random bits: no collision on the unique reference in a run of this size.
  const reference = `LT-${randomBytes(6).toString('hex').toUpperCase()}`;
  await insert([
    randomUUID(),
    reference,
    'demo',
    b.name,
    b.email,
    b.company,
    b.role,
    b.country,
    b.context || null,
    0,
    '2026-11-25',
    createHash('sha256').update(String(b.form_token)).digest('hex'),
    now.toISOString(),
    new Date(now.getTime() + 180 * 86_400_000).toISOString(),
  ]);
  return reply.code(303).header('location', '/thanks').header('x-reference', reference).send();
});
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port });
