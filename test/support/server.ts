// startTestServer(): the real service (same start-up path as `lumetrax serve`) on a
// loopback port with its own fresh database. Tests talk to it over real HTTP.
import { Writable } from 'node:stream';
import { ensureTableFile } from '../../src/analytics/geo-tables.ts';
import { loadConfig, projectRoot } from '../../src/config.ts';
import { startService, type Running } from '../../src/runtime.ts';
import { createTestDatabase, suiteDbKind, type DbKind, type TestDatabase } from './db.ts';

export const TEST_SECRET = '7e57' + '0123456789abcdef'.repeat(4).slice(4);

export interface TestServer {
  url: string;
  running: Running;
  database: TestDatabase;
  logs: string[];
  close(): Promise<void>;
}

export interface TestServerOptions {
  env?: Record<string, string>;
  now?: () => Date;
  mailTransport?: object | string;
  db?: DbKind;
  /** Use this database instead of creating one (it is not dropped on close). */
  database?: TestDatabase;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  // The country tables are built by the setup `npm test` runs first; a test file run on its
  // own after a bare `npm ci` builds them here, so a first page view finds its country.
  ensureTableFile('ipv4');
  ensureTableFile('ipv6');
  const database = options.database ?? (await createTestDatabase(options.db ?? suiteDbKind()));
  const config = loadConfig(
    {
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: database.url,
      SECRET_KEY: TEST_SECRET,
      FORM_MIN_FILL_SECONDS: '0',
      RATE_LIMIT_MAX: '1000',
      LOG_LEVEL: 'info',
      ...options.env,
    },
    projectRoot,
  );
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const running = await startService(config, { logger: { stream }, now: options.now, mailTransport: options.mailTransport });
  const address = running.app.server.address();
  if (!address || typeof address === 'string') throw new Error('server has no port');
  const url = `http://127.0.0.1:${address.port}`;
  // Public URL is only known after listen; links in mail use it.
  running.deps.config.publicUrl = url;
  return {
    url,
    running,
    database,
    logs,
    close: async () => {
      await running.close();
      if (!options.database) await database.drop();
    },
  };
}

export const validFields = {
  name: 'Ada Lovelace',
  email: 'ada@analytical-engines.example.com',
  company: 'Analytical Engines',
  role: 'Head of Operations',
  country: 'GB',
  context: 'About 40 sites across the UK.',
};

/** GETs the form and returns its signed token, as a browser would see it. */
export async function formToken(url: string, form: 'demo' | 'contact'): Promise<string> {
  const res = await fetch(`${url}/${form}`);
  const body = await res.text();
  const match = body.match(/name="form_token" value="([^"]+)"/);
  if (!match) throw new Error('no form token on the page');
  return match[1];
}

export async function postForm(url: string, path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url, 'sec-fetch-site': 'same-origin', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** Fills and posts a form the way a visitor does: GET, then POST with the token. */
export async function submitForm(url: string, form: 'demo' | 'contact', fields: Record<string, string> = validFields, headers: Record<string, string> = {}): Promise<Response> {
  const token = await formToken(url, form);
  return postForm(url, `/${form}`, { ...fields, form_token: token }, headers);
}
