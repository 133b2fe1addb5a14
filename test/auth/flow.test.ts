// The whole account flow over real HTTP and the real CLI: a set-up link from
// `lumetrax user add`, password strength, TOTP enrolment, sign-in that does not tell
// whether an account exists, throttling, the session cookie, idle and absolute timeouts,
// sign-out, `user disable` and `user reset`. Logs and audit entries never hold an address
// or a password.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { runCli } from '../cli/run-cli.ts';
import { startTestServer, TEST_SECRET, type TestServer } from '../support/server.ts';
import { Clock, get, openSetup, post, sessionCookie, STRONG_PASSWORD, tokenOf, totpCode, csrfOf } from './helpers.ts';

const EMAIL = 'Privacy.Officer@staff.example.com';
const email = EMAIL.toLowerCase();
const WEAK = 'password1234';

describe('staff accounts and sessions', () => {
  const clock = new Clock();
  let server: TestServer;
  let secret = '';
  let recoveryCodes: string[] = [];
  // The CLI shares the service's secret key, as it does on a real machine (TOTP secrets are sealed with it).
  const cli = (...args: string[]) => runCli(args, { DATABASE_URL: server.database.url, PUBLIC_URL: server.url, SECRET_KEY: TEST_SECRET });

  before(async () => {
    server = await startTestServer({ now: clock.now, env: { SIGN_IN_MAX_FAILURES: '5', SIGN_IN_MAX_PER_ADDRESS: '1000', SIGN_IN_WINDOW_SECONDS: '900' } });
  });
  after(() => server.close());

  const signIn = (fields: Record<string, string>) => post(server.url, '/console/sign-in', fields);
  const nextCode = () => {
    clock.advance(30_000);
    return totpCode(secret, clock.t);
  };
  const signInOk = async () => {
    const res = await signIn({ email: EMAIL, password: STRONG_PASSWORD, code: nextCode() });
    assert.equal(res.status, 303, await res.text());
    const cookie = sessionCookie(res);
    assert.ok(cookie);
    return cookie;
  };
  const consoleStatus = async (cookie: string) => {
    const res = await get(server.url, '/console', cookie);
    await res.arrayBuffer();
    return res.status;
  };

  test('user add prints a set-up link; a weak password is refused; a strong one with a TOTP code sets the account up once', async () => {
    const added = await cli('user', 'add', '--email', EMAIL, '--role', 'privacy');
    assert.equal(added.code, 0, added.stderr);
    const link = /(http\S+\/console\/setup\?token=\S+)/.exec(added.stdout)?.[1];
    assert.ok(link, added.stdout);
    const token = tokenOf(link);

    const page = await openSetup(server.url, token);
    assert.equal(page.res.status, 200);
    assert.equal(page.res.headers.get('set-cookie'), null, 'the set-up page sets no cookie');
    assert.match(page.res.headers.get('cache-control') ?? '', /no-store/);
    assert.match(page.body, /<svg role="img"[^>]*aria-label="QR code/);
    assert.ok(page.secret && page.secret.length >= 32, 'the secret is shown as text');
    secret = page.secret;

    const weak = await post(server.url, '/console/setup', { token, password: WEAK, confirm: WEAK, code: totpCode(secret, clock.t) });
    assert.equal(weak.status, 422);
    assert.match(await weak.text(), /too easy to guess/);
    const short = await post(server.url, '/console/setup', { token, password: 'Xy7#', confirm: 'Xy7#', code: totpCode(secret, clock.t) });
    assert.match(await short.text(), /at least 12 characters/);
    const badCode = await post(server.url, '/console/setup', { token, password: STRONG_PASSWORD, confirm: STRONG_PASSWORD, code: '000000' === totpCode(secret, clock.t) ? '111111' : '000000' });
    assert.equal(badCode.status, 422);
    assert.match(await badCode.text(), /code is not right/);
    const mismatch = await post(server.url, '/console/setup', { token, password: STRONG_PASSWORD, confirm: STRONG_PASSWORD + 'x', code: totpCode(secret, clock.t) });
    assert.equal(mismatch.status, 422);

    const ok = await post(server.url, '/console/setup', { token, password: STRONG_PASSWORD, confirm: STRONG_PASSWORD, code: totpCode(secret, clock.t) });
    const body = await ok.text();
    assert.equal(ok.status, 200, body);
    assert.equal(ok.headers.get('set-cookie'), null);
    recoveryCodes = [...body.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]);
    assert.equal(recoveryCodes.length, 10, 'ten recovery codes, shown once');

    // A used link is dead, by GET and by POST.
    assert.equal((await openSetup(server.url, token)).res.status, 410);
    const again = await post(server.url, '/console/setup', { token, password: STRONG_PASSWORD, confirm: STRONG_PASSWORD, code: nextCode() });
    assert.equal(again.status, 410);

    const stored = await server.running.deps.storage.db.selectFrom('staff_account').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
    assert.match(stored.password_hash ?? '', /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.match(stored.totp_secret ?? '', /^v1\./, 'the TOTP secret is stored sealed');
    assert.ok(!stored.totp_secret!.includes(secret));
    const links = await server.running.deps.storage.db.selectFrom('staff_setup_link').selectAll().execute();
    assert.equal(links.length, 0, 'the link is gone once used');
    const codes = await server.running.deps.storage.db.selectFrom('staff_recovery_code').select('code_hash').execute();
    for (const c of codes) assert.ok(!recoveryCodes.some((r) => c.code_hash.includes(r)), 'recovery codes are stored hashed');
  });

  test('a wrong password and an unknown account get the same answer in similar time', async () => {
    const clean = (s: string) => s.replaceAll(email, 'EMAIL').replaceAll('nobody@staff.example.com', 'EMAIL').replaceAll(EMAIL, 'EMAIL');
    const times = { wrong: [] as number[], unknown: [] as number[] };
    let bodies: Record<string, string> = {};
    for (let i = 0; i < 3; i++) {
      for (const [kind, address] of [['wrong', EMAIL], ['unknown', 'nobody@staff.example.com']] as const) {
        const started = performance.now();
        const res = await signIn({ email: address, password: 'not the password at all', code: totpCode(secret, clock.t) });
        times[kind].push(performance.now() - started);
        assert.equal(res.status, 401);
        assert.equal(res.headers.get('set-cookie'), null);
        bodies = { ...bodies, [kind]: clean(await res.text()) };
      }
    }
    assert.equal(bodies.wrong, bodies.unknown, 'identical pages');
    assert.match(bodies.wrong, /email address, password or code is not right/);
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[1];
    const [w, u] = [median(times.wrong), median(times.unknown)];
    assert.ok(Math.max(w, u) / Math.min(w, u) < 3, `similar time: wrong password ${w.toFixed(1)} ms, unknown account ${u.toFixed(1)} ms`);
    // Both ran argon2 at its configured cost: far slower than a plain lookup.
    assert.ok(Math.min(w, u) > 5, `argon2 ran for both (${w.toFixed(1)} / ${u.toFixed(1)} ms)`);
  });

  test('odd input answers like any failure, never a 500', async () => {
    for (const fields of [{ email: 'a\u0000b@staff.example.com', password: 'x\u0000y', code: '\u0000' }, { email: 'x'.repeat(5000), password: 'p'.repeat(5000), code: '1'.repeat(300) }, {}]) {
      const res = await signIn(fields as Record<string, string>);
      assert.equal(res.status, 401, JSON.stringify(fields).slice(0, 80));
    }
    const repeated = await fetch(`${server.url}/console/sign-in`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=a&email=b&password=x' });
    assert.equal(repeated.status, 401);
    assert.equal((await get(server.url, '/console/setup?token=a&token=b')).status, 410);
    assert.equal((await get(server.url, '/console/setup')).status, 410);
    assert.equal((await post(server.url, '/console/setup', { token: 'x'.repeat(5000), password: 'y' })).status, 410);
  });

  test('sign-in needs the TOTP code; a code works once; the cookie is HttpOnly, SameSite=Strict, path /console', async () => {
    const noCode = await signIn({ email: EMAIL, password: STRONG_PASSWORD, code: '' });
    assert.equal(noCode.status, 401);
    const code = nextCode();
    const res = await signIn({ email: EMAIL, password: STRONG_PASSWORD, code });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/console');
    const setCookie = res.headers.getSetCookie();
    assert.equal(setCookie.length, 1);
    assert.match(setCookie[0], /^lt_console=[A-Za-z0-9_-]{43};/);
    assert.match(setCookie[0], /HttpOnly/);
    assert.match(setCookie[0], /SameSite=Strict/);
    assert.match(setCookie[0], /Path=\/console/);
    assert.doesNotMatch(setCookie[0], /Secure/, 'not Secure over plain HTTP');
    const replay = await signIn({ email: EMAIL, password: STRONG_PASSWORD, code });
    assert.equal(replay.status, 401, 'the same code is refused the second time');
    const cookie = sessionCookie(res)!;
    const home = await get(server.url, '/console', cookie);
    const body = await home.text();
    assert.equal(home.status, 200);
    assert.match(body, new RegExp(`signed in as <strong>${email.replace(/\./g, '\\.')}</strong>, role <strong>privacy</strong>`));
    assert.equal(home.headers.get('set-cookie'), null);
    // The published cookie table lists the console cookie (P9), from the policy.
    assert.match(await (await get(server.url, '/privacy')).text(), /lt_console/);
    // Public pages never set a cookie, signed in or not.
    for (const path of ['/', '/privacy', '/console/sign-in']) assert.equal((await get(server.url, path, cookie)).headers.get('set-cookie'), null, path);
    // The database holds the cookie's hash, not the cookie.
    const value = cookie.split('=')[1];
    const rows = await server.running.deps.storage.db.selectFrom('staff_session').selectAll().execute();
    assert.ok(rows.length >= 1 && rows.every((r) => r.token_hash !== value && r.csrf_token !== value));
  });

  test('two sign-ins racing with one TOTP code: only one gets a session', async () => {
    const code = nextCode();
    const answers = await Promise.all([1, 2, 3].map(() => signIn({ email: EMAIL, password: STRONG_PASSWORD, code })));
    assert.deepEqual(answers.map((r) => r.status).sort(), [303, 401, 401]);
  });

  test('a recovery code signs in once in place of a TOTP code', async () => {
    const first = await signIn({ email: EMAIL, password: STRONG_PASSWORD, code: recoveryCodes[0].toUpperCase() });
    assert.equal(first.status, 303);
    const again = await signIn({ email: EMAIL, password: STRONG_PASSWORD, code: recoveryCodes[0] });
    assert.equal(again.status, 401);
  });

  test('sessions end after the idle timeout and the absolute timeout', async () => {
    const idle = await signInOk();
    clock.advance(29 * 60_000);
    assert.equal(await consoleStatus(idle), 200, 'activity within 30 minutes keeps it');
    clock.advance(31 * 60_000);
    assert.equal(await consoleStatus(idle), 303, 'idle for over 30 minutes: signed out');
    const ended = await server.running.deps.storage.db.selectFrom('audit_log').select(['details', 'actor']).where('action', '=', 'staff.session_ended').execute();
    assert.ok(ended.some((e) => e.details.includes('"reason":"idle_timeout"') && e.actor === 'system'), 'the timeout is in the audit trail');

    const busy = await signInOk();
    for (let elapsed = 0; elapsed < 12 * 60; elapsed += 25) {
      clock.advance(25 * 60_000);
      const status = await consoleStatus(busy);
      if (elapsed + 25 < 12 * 60) assert.equal(status, 200, `still live after ${elapsed + 25} minutes of activity`);
      else assert.equal(status, 303, 'over 12 hours since sign-in: signed out however active');
    }
    const absolute = await server.running.deps.storage.db.selectFrom('audit_log').select('details').where('action', '=', 'staff.session_ended').execute();
    assert.ok(absolute.some((e) => e.details.includes('"reason":"absolute_timeout"')));
  });

  test('sign-out ends the session on the server; the old cookie is refused', async () => {
    const cookie = await signInOk();
    const csrf = await csrfOf(server.url, cookie);
    const noToken = await post(server.url, '/console/sign-out', {}, cookie);
    assert.equal(noToken.status, 403);
    const out = await post(server.url, '/console/sign-out', { csrf }, cookie);
    assert.equal(out.status, 303);
    assert.equal(out.headers.get('location'), '/console/sign-in');
    assert.match(out.headers.getSetCookie().join(), /lt_console=;.*Expires=Thu, 01 Jan 1970/);
    assert.equal(await consoleStatus(cookie), 303, 'the old cookie no longer opens the console');
  });

  test('throttling: after too many failures the account is refused, with or without the right password, and unknown accounts alike', async () => {
    for (let i = 0; i < 5; i++) await (await signIn({ email: EMAIL, password: `wrong ${i}`, code: '' })).arrayBuffer();
    const blocked = await signIn({ email: EMAIL, password: STRONG_PASSWORD, code: nextCode() });
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get('retry-after')) > 0);
    assert.match(await blocked.text(), /Too many sign-in attempts/);
    for (let i = 0; i < 5; i++) await (await signIn({ email: 'ghost@staff.example.com', password: `wrong ${i}`, code: '' })).arrayBuffer();
    assert.equal((await signIn({ email: 'ghost@staff.example.com', password: 'x', code: '' })).status, 429, 'unknown accounts are throttled the same way');
    clock.advance(901_000);
    await signInOk();
  });

  test('user disable ends every session at once; user reset kills the old link', async () => {
    const a = await signInOk();
    const b = await signInOk();
    const disabled = await cli('user', 'disable', EMAIL);
    assert.equal(disabled.code, 0, disabled.stderr);
    // a, b and the one the throttling test ended with; lapsed ones were cleared at sign-in.
    assert.match(disabled.stdout, /3 sessions ended/);
    assert.equal(await consoleStatus(a), 303);
    assert.equal(await consoleStatus(b), 303);
    const refused = await signIn({ email: EMAIL, password: STRONG_PASSWORD, code: nextCode() });
    assert.equal(refused.status, 401, 'a disabled account cannot sign in');

    const added = await cli('user', 'add', '--email', 'seller@staff.example.com', '--role', 'sales');
    const oldLink = /(http\S+)/.exec(added.stdout)![1];
    const reset = await cli('user', 'reset', 'seller@staff.example.com');
    assert.equal(reset.code, 0, reset.stderr);
    const newLink = /(http\S+)/.exec(reset.stdout)![1];
    assert.equal((await openSetup(server.url, tokenOf(oldLink))).res.status, 410, 'the old link is dead');
    const page = await openSetup(server.url, tokenOf(newLink));
    assert.equal(page.res.status, 200);
    assert.equal(page.secret, undefined, 'sales accounts enrol no TOTP');
    const setup = await post(server.url, '/console/setup', { token: tokenOf(newLink), password: STRONG_PASSWORD, confirm: STRONG_PASSWORD });
    assert.equal(setup.status, 200);
    const sales = await signIn({ email: 'seller@staff.example.com', password: STRONG_PASSWORD, code: '' });
    assert.equal(sales.status, 303);

    const list = await cli('user', 'list');
    assert.match(list.stdout, /privacy\.officer@staff\.example\.com {2}privacy {2}disabled/);
    assert.match(list.stdout, /seller@staff\.example\.com {2}sales {2}active/);
  });

  test('a set-up link expires', async () => {
    const added = await cli('user', 'add', '--email', 'late@staff.example.com', '--role', 'admin');
    const link = /(http\S+)/.exec(added.stdout)![1];
    clock.advance(73 * 3_600_000);
    assert.equal((await openSetup(server.url, tokenOf(link))).res.status, 410);
  });

  test('the audit trail has every sign-in, sign-out, failure and account change, by id and session, without addresses', async () => {
    const db = server.running.deps.storage.db;
    const entries = await db.selectFrom('audit_log').selectAll().where('entity_type', '=', 'staff_account').orderBy('seq').execute();
    const actions = new Set(entries.map((e) => e.action));
    for (const a of ['staff.account_added', 'staff.setup_completed', 'staff.signed_in', 'staff.sign_in_failed', 'staff.signed_out', 'staff.account_disabled', 'staff.account_reset']) assert.ok(actions.has(a), a);
    const account = await db.selectFrom('staff_account').select('id').where('email', '=', email).executeTakeFirstOrThrow();
    const signedIn = entries.filter((e) => e.action === 'staff.signed_in' && e.entity_id === account.id);
    assert.ok(signedIn.length > 3 && signedIn.every((e) => e.actor === account.id && /"session":"[0-9a-f-]{36}"/.test(e.details)));
    const signedOut = entries.find((e) => e.action === 'staff.signed_out')!;
    assert.match(signedOut.details, /"session":"[0-9a-f-]{36}"/);
    assert.ok(entries.filter((e) => e.action === 'staff.account_added').every((e) => e.actor === 'cli'));
    const { rows } = await sql<{ n: number }>`select count(*) as n from audit_log where lower(details) like '%@%' or lower(entity_id) like '%@%' or lower(actor) like '%@%'`.execute(db);
    assert.equal(Number(rows[0].n), 0, 'no address anywhere in the audit trail');
  });

  test('logs hold no email address and no password', () => {
    const logs = server.logs.join('');
    assert.ok(logs.length > 0);
    assert.doesNotMatch(logs, /@staff\.example\.com/i);
    assert.doesNotMatch(logs, new RegExp(STRONG_PASSWORD));
    assert.doesNotMatch(logs, new RegExp(WEAK));
    assert.doesNotMatch(logs, /token=/);
  });
});

describe('sign-in over HTTPS, throttled per client address', () => {
  test('the cookie is Secure; too many attempts from one address are refused', async () => {
    const clock = new Clock();
    const server = await startTestServer({ now: clock.now, env: { PUBLIC_URL: 'https://console.example.com', SIGN_IN_MAX_PER_ADDRESS: '4' } });
    try {
      const { makeStaff } = await import('./helpers.ts');
      // makeStaff signs in once (1 attempt from this address).
      const staff = await makeStaff(server, clock, 'sales');
      const res = await post(server.url, '/console/sign-in', { email: staff.email, password: STRONG_PASSWORD, code: '' });
      assert.equal(res.status, 303);
      assert.match(res.headers.getSetCookie()[0], /; Secure/);
      for (const who of ['a@x.example.com', 'b@x.example.com']) await (await post(server.url, '/console/sign-in', { email: who, password: 'x', code: '' })).arrayBuffer();
      const limited = await post(server.url, '/console/sign-in', { email: staff.email, password: STRONG_PASSWORD, code: '' });
      assert.equal(limited.status, 429, 'the fifth attempt from one address is refused');
      assert.equal(limited.headers.get('set-cookie'), null);
    } finally {
      await server.close();
    }
  });
});
