// The alert job: the privacy role (and nobody else) is mailed once when a request has
// used 50% of its time, once at 80% and once when it is overdue; runs in between send
// nothing; a closed request is left alone.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeStaff } from '../auth/helpers.ts';
import { ALERT_JOB } from '../../src/rights/send-alerts.ts';
import { events, requests, submitRequestForm, withDesk } from './support.ts';

const DAY = 86_400_000;

describe('deadline alerts', () => {
  test('50%, 80% and breach, once each, to active privacy accounts only', async () => {
    await withDesk(async (env) => {
      const { server, clock, sink } = env;
      const jobs = server.running.jobs;
      const run = async () => {
        const result = await jobs.runNow(ALERT_JOB);
        assert.equal(result.status, 'done');
        return result.status === 'done' ? result.counts : {};
      };
      const privacy = await makeStaff(server, clock, 'privacy');
      const second = await makeStaff(server, clock, 'privacy');
      await makeStaff(server, clock, 'sales');
      await makeStaff(server, clock, 'admin');
      // Received Wednesday 2 December 2026 10:01 (the sign-ups took a minute of the
      // test clock); our answer is due by the end of Wednesday 16 December in Dublin.
      await submitRequestForm(server.url, { email: 'late@example.org', type: 'access', jurisdiction: 'unspecified', message: '' });
      const closed = await submitRequestForm(server.url, { email: 'closed@example.org', type: 'access', jurisdiction: 'unspecified', message: '' });
      assert.equal(closed.status, 303);
      const [r, other] = await requests(server);
      assert.equal(r.respond_by, '2026-12-16T23:59:59.999Z');
      await server.running.deps.storage.db.updateTable('privacy_request').set({ status: 'closed', closed_at: new Date(clock.t).toISOString() }).where('id', '=', other.id).execute();
      const base = sink.messages.length;
      await jobs.runNow('outbox.deliver');
      await sink.waitFor(base + 2); // the two acknowledgements
      const alertsTo = () => sink.messages.filter((m) => /Privacy request|Overdue privacy request/.test(m.parsed.subject ?? ''));

      clock.advance(DAY);
      assert.equal((await run()).alerts, 0, 'a day in: nothing');
      // 2 Dec 10:01 to 16 Dec 24:00 is about 14.58 days: 50% is passed after 7.3 days, 80% after 11.7.
      clock.advance(7 * DAY);
      assert.deepEqual(await run(), { requests: 1, alerts: 1, mails: 2, no_recipients: 0 });
      assert.equal((await run()).alerts, 0, 'once');
      await jobs.runNow('outbox.deliver');
      await sink.waitFor(base + 4);
      assert.deepEqual(alertsTo().flatMap((m) => m.envelopeTo).sort(), [privacy.email, second.email].sort());
      assert.match(alertsTo()[0].parsed.subject ?? '', new RegExp(`${r.reference} at 50% of its time`));
      assert.match(alertsTo()[0].parsed.text ?? '', /Wednesday 16 December 2026/);
      assert.ok(!alertsTo().some((m) => (m.parsed.text ?? '').includes('late@example.org')), 'no requester address in alerts');

      clock.advance(4 * DAY);
      assert.equal((await run()).alerts, 1, '80%');
      clock.advance(3 * DAY);
      assert.equal((await run()).alerts, 1, 'breach');
      assert.equal((await run()).alerts, 0);
      await jobs.runNow('outbox.deliver');
      await sink.waitFor(base + 8);
      const subjects = alertsTo().map((m) => m.parsed.subject);
      assert.equal(subjects.filter((s) => /at 80% of its time/.test(s ?? '')).length, 2);
      assert.equal(subjects.filter((s) => /^Overdue privacy request/.test(s ?? '')).length, 2);
      const [row] = await requests(server);
      assert.ok(row.alert_50_at && row.alert_80_at && row.alert_breach_at);
      assert.deepEqual((await events(server, r.id)).map((e) => e.event).filter((e) => e.startsWith('alert')), ['alert_50', 'alert_80', 'alert_breach']);
      assert.deepEqual((await events(server, other.id)).map((e) => e.event).filter((e) => e.startsWith('alert')), [], 'a closed request is left alone');
    });
  });

  test('a request past several marks at once gets one mail for the highest; no privacy account, nothing is recorded', async () => {
    await withDesk(async (env) => {
      const { server, clock } = env;
      await submitRequestForm(server.url, { email: 'x@example.org', type: 'access', jurisdiction: 'unspecified', message: '' });
      clock.advance(20 * DAY);
      let result = await server.running.jobs.runNow(ALERT_JOB);
      assert.deepEqual(result.status === 'done' && result.counts, { requests: 1, alerts: 0, mails: 0, no_recipients: 1 });
      assert.equal((await requests(server))[0].alert_50_at, null);
      await makeStaff(server, clock, 'privacy');
      result = await server.running.jobs.runNow(ALERT_JOB);
      assert.deepEqual(result.status === 'done' && result.counts, { requests: 1, alerts: 1, mails: 1, no_recipients: 0 });
      const [row] = await requests(server);
      assert.ok(row.alert_50_at && row.alert_80_at && row.alert_breach_at, 'all marks recorded');
      assert.deepEqual((await events(server, row.id)).map((e) => e.event).filter((e) => e.startsWith('alert')), ['alert_breach']);
    });
  });
});
