// A start that fails for a reason the operator can fix (port taken, HOST that does not
// resolve, PostgreSQL away or missing its database) ends with one line naming the setting
// and the fix, exit code 1, and no stack trace.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PG_BASE_URL, postgresReachable } from '../support/db.ts';
import { assertOneLineFailure, runCli } from './run-cli.ts';

describe('start-up failures an operator can fix', () => {
  let dir: string;
  let taken: Server;
  let takenPort: number;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lumetrax-startup-'));
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    takenPort = (taken.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise((resolve) => taken.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });
  const sqlite = () => `sqlite:${join(dir, 'x.db')}`;

  test('PORT already in use', async () => {
    const res = await runCli(['serve'], { HOST: '127.0.0.1', PORT: String(takenPort), DATABASE_URL: sqlite() });
    assertOneLineFailure(res, new RegExp(`^PORT ${takenPort} is already in use by another process.*: stop it or set PORT to a free port$`));
  });

  test('HOST that does not resolve', async () => {
    const res = await runCli(['serve'], { HOST: 'nonexistent.invalid', PORT: '0', DATABASE_URL: sqlite() });
    assertOneLineFailure(res, /^HOST nonexistent\.invalid does not resolve to an address: set HOST to /);
  });

  test('HOST that is not an address of this machine', async () => {
    const res = await runCli(['serve'], { HOST: '192.0.2.1', PORT: '0', DATABASE_URL: sqlite() });
    assertOneLineFailure(res, /^HOST 192\.0\.2\.1 is not an address of this machine: set HOST to /);
  });

  test('SQLite file under something that is not a folder', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a folder');
    const res = await runCli(['serve'], { PORT: '0', DATABASE_URL: `sqlite:${join(file, 'x.db')}` });
    assertOneLineFailure(res, /^DATABASE_URL: cannot open or create the SQLite file .*a-file\/x\.db \(E[A-Z]+\): set DATABASE_URL to sqlite:PATH in a folder this user may write to$/);
  });

  // The password in the URL must never be echoed back.
  const closed = 'postgres://postgres:s3cret-pw@127.0.0.1:1/x';
  for (const [name, args, env] of [
    ['serve, migrating first', ['serve'], {}],
    ['serve with AUTO_MIGRATE=false (the start still checks the database)', ['serve'], { AUTO_MIGRATE: 'false' }],
    ['migrate', ['migrate'], {}],
    ['outbox list', ['outbox', 'list'], {}],
  ] as const) {
    test(`PostgreSQL unreachable: ${name}`, async () => {
      const res = await runCli([...args], { PORT: '0', DATABASE_URL: closed, ...env });
      assertOneLineFailure(res, /^DATABASE_URL: no PostgreSQL server accepts connections at 127\.0\.0\.1:1: start PostgreSQL, or fix the host and port in DATABASE_URL$/);
      assert.ok(!(res.stderr + res.stdout).includes('s3cret-pw'), 'the password is not printed');
    });
  }

  test('PostgreSQL host that does not resolve', async () => {
    const res = await runCli(['serve'], { PORT: '0', DATABASE_URL: 'postgres://postgres@nonexistent.invalid:5432/x' });
    assertOneLineFailure(res, /^DATABASE_URL: the host nonexistent\.invalid does not resolve to an address: fix the host in DATABASE_URL$/);
  });

  test('PostgreSQL socket folder with no server in it', async () => {
    const res = await runCli(['migrate'], { DATABASE_URL: `postgres://postgres@/x?host=${encodeURIComponent(join(dir, 'no-socket-here'))}` });
    assertOneLineFailure(res, /^DATABASE_URL: no PostgreSQL server listens on the socket in \/.*no-socket-here \(port 5432\): start PostgreSQL, or fix the host in DATABASE_URL$/);
  });

  test('PostgreSQL database that does not exist', async (t) => {
    if (!(await postgresReachable())) {
      t.skip(`PostgreSQL not reachable at ${PG_BASE_URL}: missing-database case skipped`);
      return;
    }
    const name = `lumetrax_missing_${randomBytes(4).toString('hex')}`;
    const url = new URL(PG_BASE_URL);
    url.pathname = `/${name}`;
    const res = await runCli(['serve'], { PORT: '0', DATABASE_URL: url.toString() });
    assertOneLineFailure(res, new RegExp(`^DATABASE_URL: the database "${name}" does not exist on [^ ]+:\\d+: run \`lumetrax migrate\` to create it`));
  });

  test('PostgreSQL login refused', async (t) => {
    if (!(await postgresReachable())) {
      t.skip(`PostgreSQL not reachable at ${PG_BASE_URL}: login case skipped`);
      return;
    }
    const url = new URL(PG_BASE_URL);
    url.username = `nobody_${randomBytes(4).toString('hex')}`;
    url.password = 's3cret-pw';
    const res = await runCli(['serve'], { PORT: '0', DATABASE_URL: url.toString() });
    assertOneLineFailure(res, new RegExp(`^DATABASE_URL: PostgreSQL at [^ ]+ refused the login as "${url.username}" .*: fix the user or password in DATABASE_URL`));
    assert.ok(!(res.stderr + res.stdout).includes('s3cret-pw'), 'the password is not printed');
  });
});

describe('what is not recognised stays a bug report', () => {
  test('an unknown error is returned as it is (the CLI prints its stack)', async () => {
    const { explainStartupError, StartupError } = await import('../../src/startup-error.ts');
    const bug = new TypeError('cannot read properties of undefined');
    assert.equal(explainStartupError(bug, { stage: 'listen', host: '127.0.0.1', port: 3000 }), bug);
    assert.equal(explainStartupError(bug, { stage: 'database', target: { kind: 'postgres', url: 'postgres://u@h/d' } }), bug);
    const known = explainStartupError(Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }), { stage: 'listen', host: '127.0.0.1', port: 3000 });
    assert.ok(known instanceof StartupError);
  });
});
