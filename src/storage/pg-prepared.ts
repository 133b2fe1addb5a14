// Named prepared statements for the few statements every write batch runs on PostgreSQL.
// pg sends a statement with a name once per connection (Parse), and afterwards only its
// parameters (Bind/Execute), so the server neither parses nor, once it settles on a
// generic plan, plans it again: parsing and planning were about a fifth of PostgreSQL's
// CPU under the intake's load. Only texts registered here are named, and each is one
// fixed text whatever the number of rows (the rows travel as one JSON parameter), so
// every connection holds a handful of them.
import type pg from 'pg';

const names = new Map<string, string>();

/** Marks `text` to run as a named prepared statement on PostgreSQL; returns it unchanged. */
export function prepared(text: string): string {
  if (!names.has(text)) names.set(text, `lumetrax_${names.size + 1}`);
  return text;
}

/** A pg Client class that names the registered statements (Kysely sends text and values). */
export function namingClient(base: typeof pg.Client): typeof pg.Client {
  class NamingClient extends base {}
  const query = base.prototype.query as (...args: unknown[]) => unknown;
  NamingClient.prototype.query = function (this: pg.Client, config: unknown, ...rest: unknown[]) {
    const name = typeof config === 'string' ? names.get(config) : undefined;
    if (name === undefined) return query.call(this, config, ...rest);
    const [values, callback] = rest;
    return query.call(this, { name, text: config, values }, callback);
  } as typeof base.prototype.query;
  return NamingClient;
}
