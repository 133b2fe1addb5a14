// The ceiling for the intake benchmark: a bare Fastify route that parses the same form
// and does one plain INSERT of the same row, nothing else (no validation, consent,
// outbox or audit). SQLite with WAL + synchronous=FULL, or a pg pool.
import { randomUUID } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import Fastify from 'fastify';
import formbody from '@fastify/formbody';
import pg from 'pg';

const port = Number(process.env.PORT ?? 3001);
const url = process.env.DATABASE_URL ?? '';

const columns = 'id, reference, form, name, email, company, role, country, context, free_mail, notice_version, submission_key, created_at, delete_after';
const ddl = `create table if not exists bare_inquiry (id text primary key, reference text not null, form text not null, name text not null, email text not null, company text not null, role text not null, country text not null, context text, free_mail integer not null, notice_version text not null, submission_key text not null unique, created_at text not null, delete_after text not null)`;

type Insert = (values: unknown[]) => Promise<void>;
let insert: Insert;
if (url.startsWith('postgres')) {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  await pool.query(ddl);
  const sql = `insert into bare_inquiry (${columns}) values (${columns.split(',').map((_, i) => `$${i + 1}`).join(', ')})`;
  insert = async (values) => {
    await pool.query(sql, values);
  };
} else {
  const db = new DatabaseSync(url.replace(/^sqlite:/, ''));
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  db.exec(ddl);
  const stmt = db.prepare(`insert into bare_inquiry (${columns}) values (${columns.split(',').map(() => '?').join(', ')})`);
  insert = async (values) => {
    stmt.run(...(values as string[]));
  };
}

const app = Fastify({ logger: false });
await app.register(formbody);
app.post('/demo', async (req, reply) => {
  const b = req.body as Record<string, string>;
  const now = new Date();
  await insert([randomUUID(), `LT-${randomUUID().slice(0, 8)}`, 'demo', b.name, b.email, b.company, b.role, b.country, b.context || null, 0, '2026-11-25', b.form_token, now.toISOString(), now.toISOString()]);
  return reply.code(303).header('location', '/thanks').send();
});
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port });
