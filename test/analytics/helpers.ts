// Helpers for the analytics tests: requests that look like a browser's, and reads of
// what the service stored.
import { sql } from 'kysely';
import type { TestServer } from '../support/server.ts';

export const CHROME_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
export const IPHONE_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1';

export function browserHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { 'user-agent': CHROME_UA, 'accept-language': 'en-GB,en;q=0.9', accept: 'text/html', ...extra };
}

/** A full page load, as a browser asks for it. */
export async function visit(server: TestServer, path: string, extra: Record<string, string> = {}): Promise<Response> {
  const res = await fetch(`${server.url}${path}`, { headers: browserHeaders(extra), redirect: 'manual' });
  await res.arrayBuffer();
  return res;
}

/** A tracker report of a history-API navigation. */
export function beacon(server: TestServer, body: unknown, extra: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}/api/event`, {
    method: 'POST',
    headers: browserHeaders({ 'content-type': 'text/plain;charset=UTF-8', origin: server.url, 'sec-fetch-site': 'same-origin', ...extra }),
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Waits for the onResponse counting to run, then writes the buffer. */
export async function flush(server: TestServer): Promise<void> {
  await new Promise((r) => setTimeout(r, 20));
  await server.running.app.analytics.buffer.flush();
}

export async function rawEvents(server: TestServer) {
  return server.running.deps.storage.db.selectFrom('analytics_event').selectAll().orderBy('path').execute();
}

export async function bots(server: TestServer): Promise<Record<string, number>> {
  const rows = await server.running.deps.storage.db.selectFrom('analytics_bots').select(['layer', sql<number>`sum(dropped)`.as('n')]).groupBy('layer').execute();
  return Object.fromEntries(rows.map((r) => [r.layer, Number(r.n)]));
}
