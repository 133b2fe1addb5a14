// Marketing consent: recorded only on an explicit opt-in with its exact wording,
// withdrawn in one click without signing in, history never rewritten, suppression by
// keyed hash, and an export that never lists anyone suppressed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/config.ts';
import { postForm, startTestServer, submitForm, TEST_SECRET, validFields, type TestServer } from '../support/server.ts';

const node = join(projectRoot, 'node_modules', '.bin', 'node');

describe('marketing consent', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  const db = () => server.running.deps.storage.db;

  async function subscribe(email: string): Promise<string> {
    const res = await submitForm(server.url, 'demo', { ...validFields, email, marketing_opt_in: 'yes' });
    assert.equal(res.status, 303);
    const inquiry = await db().selectFrom('inquiry').select('id').where('email', '=', email).executeTakeFirstOrThrow();
    const mail = await db().selectFrom('outbox').select('headers').where('inquiry_id', '=', inquiry.id).where('kind', '=', 'inquiry-confirmation').executeTakeFirstOrThrow();
    const link = (JSON.parse(mail.headers) as Record<string, string>)['List-Unsubscribe'];
    return link.slice(1, -1);
  }

  async function preferencesToken(): Promise<string> {
    const page = await (await fetch(`${server.url}/privacy/preferences`)).text();
    return /name="form_token" value="([^"]+)"/.exec(page)![1];
  }

  test('a ticked box records purpose, exact wording, notice version, time and channel', async () => {
    const { policy, current } = server.running.deps.policy;
    const before = Date.now();
    await subscribe('record@consent.example.com');
    const [record] = await db().selectFrom('consent_record').selectAll().where('email', '=', 'record@consent.example.com').execute();
    assert.equal(record.purpose, 'marketing');
    assert.equal(record.action, 'granted');
    assert.equal(record.wording, policy.marketing.checkbox_wording);
    assert.equal(record.notice_version, current.version);
    assert.equal(record.channel, 'web-form:demo');
    assert.ok(Date.parse(record.recorded_at) >= before - 1000 && Date.parse(record.recorded_at) <= Date.now() + 1000);
    await submitForm(server.url, 'contact', { ...validFields, email: 'unticked@consent.example.com' });
    assert.equal((await db().selectFrom('consent_record').select('id').where('email', '=', 'unticked@consent.example.com').execute()).length, 0);
  });

  test('the unsubscribe link: GET only asks, POST withdraws once, history stays, suppression holds a hash', async () => {
    const link = await subscribe('leave@consent.example.com');
    const page = await fetch(link);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Unsubscribe me/);
    assert.equal((await db().selectFrom('consent_record').select('id').where('email', '=', 'leave@consent.example.com').execute()).length, 1, 'a GET changes nothing');

    const first = await postForm(server.url, new URL(link).pathname, {});
    assert.equal(first.status, 200);
    assert.match(await first.text(), /You are unsubscribed/);
    const second = await postForm(server.url, new URL(link).pathname, {});
    assert.equal(second.status, 200);
    assert.match(await second.text(), /already unsubscribed/);

    const history = await db().selectFrom('consent_record').selectAll().where('email', '=', 'leave@consent.example.com').orderBy('recorded_at').execute();
    assert.deepEqual(history.map((r) => r.action), ['granted', 'withdrawn']);
    assert.equal(history[0].wording, server.running.deps.policy.policy.marketing.checkbox_wording, 'the grant is unchanged');
    const suppression = await db().selectFrom('suppression').selectAll().execute();
    assert.ok(suppression.some((s) => s.subject_key === history[0].subject_key));
    assert.ok(!JSON.stringify(suppression).includes('leave@consent.example.com'));
    assert.match(history[0].subject_key, /^[0-9a-f]{64}$/);
  });

  test('RFC 8058 one-click works without an Origin header; a forged token changes nothing', async () => {
    const link = await subscribe('oneclick@consent.example.com');
    const res = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    assert.equal(res.status, 200);
    const records = await db().selectFrom('consent_record').select(['action', 'channel']).where('email', '=', 'oneclick@consent.example.com').orderBy('recorded_at').execute();
    assert.deepEqual({ ...records.at(-1) }, { action: 'withdrawn', channel: 'email-one-click' });

    const count = (await db().selectFrom('consent_record').select('id').execute()).length;
    const forged = link.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    assert.equal((await fetch(forged)).status, 404);
    assert.equal((await fetch(forged, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' })).status, 404);
    assert.equal((await db().selectFrom('consent_record').select('id').execute()).length, count);
  });

  test('/privacy/preferences answers the same for anyone and mails a link only to a subscriber', async () => {
    await subscribe('prefs@consent.example.com');
    const withdrawnLink = await subscribe('gone@consent.example.com');
    await postForm(server.url, new URL(withdrawnLink).pathname, {});

    const answers: string[] = [];
    for (const email of ['prefs@consent.example.com', 'nobody@consent.example.com', 'gone@consent.example.com']) {
      const res = await postForm(server.url, '/privacy/preferences', { email, form_token: await preferencesToken() });
      assert.equal(res.status, 200);
      answers.push((await res.text()).replace(/name="form_token" value="[^"]+"/, ''));
    }
    assert.equal(answers[0], answers[1]);
    assert.equal(answers[1], answers[2]);

    const links = await db().selectFrom('outbox').selectAll().where('kind', '=', 'withdrawal-link').execute();
    assert.equal(links.length, 1);
    assert.equal(links[0].to_address, 'prefs@consent.example.com');
    const url = (JSON.parse(links[0].headers) as Record<string, string>)['List-Unsubscribe'].slice(1, -1);
    assert.ok(links[0].text_body.includes(url));
    assert.equal((await postForm(server.url, new URL(url).pathname, {})).status, 200);
    const last = await db().selectFrom('consent_record').select('action').where('email', '=', 'prefs@consent.example.com').orderBy('recorded_at', 'desc').executeTakeFirstOrThrow();
    assert.equal(last.action, 'withdrawn');

    const cross = await postForm(server.url, '/privacy/preferences', { email: 'prefs@consent.example.com', form_token: await preferencesToken() }, { 'sec-fetch-site': 'cross-site' });
    assert.equal(cross.status, 403);
    const bad = await postForm(server.url, '/privacy/preferences', { email: 'not an email', form_token: await preferencesToken() });
    assert.equal(bad.status, 422);
    assert.ok((await bad.text()).includes('value="not an email"'));
  });

  test('marketing export lists exactly the people whose consent is current, and audits the count', async () => {
    await subscribe('stay@consent.example.com');
    const env = { ...process.env, DATABASE_URL: server.database.url, SECRET_KEY: TEST_SECRET };
    const csv = execFileSync(node, ['src/main.ts', 'marketing', 'export'], { cwd: projectRoot, env, encoding: 'utf8' });
    const lines = csv.trim().split('\n');
    assert.equal(lines[0], 'email,name,company,country,consented_at,notice_version,channel,wording');
    const emails = lines.slice(1).map((l) => l.split(',')[0]).sort();
    assert.deepEqual(emails, ['record@consent.example.com', 'stay@consent.example.com']);

    const out = join(mkdtempSync(join(tmpdir(), 'lumetrax-export-')), 'list.csv');
    execFileSync(node, ['src/main.ts', 'marketing', 'export', '--out', out], { cwd: projectRoot, env, encoding: 'utf8' });
    assert.equal(readFileSync(out, 'utf8'), csv);

    const audits = await db().selectFrom('audit_log').selectAll().where('action', '=', 'marketing.exported').execute();
    assert.equal(audits.length, 2);
    assert.deepEqual(JSON.parse(audits[0].details), { rows: 2 });
  });
});
