// The monthly report over real HTTP: counts by type and outcome, acknowledgement and
// answer times (median and worst) worked out by hand, the server-drawn SVG chart, and
// the CSV export (through the one CSV writer), each read audited.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { get, makeStaff, post } from '../auth/helpers.ts';
import { stat } from '../../src/rights/monthly-report.ts';
import { audit, requests, submitRequestForm, withDesk } from './support.ts';

const DAY = 86_400_000;

describe('monthly report', () => {
  test('median of an even count is the mean of the middle two; empty has none', () => {
    assert.deepEqual(stat([]), { count: 0, medianMs: null, worstMs: null });
    assert.deepEqual(stat([5, 1, 3]), { count: 3, medianMs: 3, worstMs: 5 });
    assert.deepEqual(stat([4, 1, 3, 10]), { count: 4, medianMs: 3.5, worstMs: 10 });
  });

  test('by type and outcome, times, the SVG chart and the CSV', async () => {
    await withDesk(async (env) => {
      const { server, clock } = env;
      // Wednesday 2 December 2026 10:00: three requests (all due by the end of 16 December).
      for (const [email, type] of [['a@example.org', 'access'], ['b@example.org', 'deletion'], ['c@example.org', 'correction']]) {
        await submitRequestForm(server.url, { email, type, jurisdiction: 'unspecified', message: '' });
      }
      const byEmail = (email: string) => requests(server).then((rows) => rows.find((r) => r.requester_email === email)!);
      const a = await byEmail('a@example.org');
      const b = await byEmail('b@example.org');
      const refuse = async (id: string) => {
        const staff = await makeStaff(server, clock, 'privacy');
        const res = await post(server.url, `/console/requests/${id}/refuse`, { csrf: staff.csrf, reason: 'No data held.' }, staff.cookie);
        assert.equal(res.status, 303);
      };
      clock.advance(DAY - 30_000); // makeStaff moves the clock 30 s: refused exactly one day after receipt
      await refuse(a.id);
      clock.advance(15 * DAY); // Friday 18 December: B answered late, C still open and late
      await refuse(b.id);
      await submitRequestForm(server.url, { email: 'd@example.org', type: 'access', jurisdiction: 'unspecified', message: '' });
      // Another month's request is not in December's report (1 January 2027; D is not due yet).
      clock.advance(14 * DAY);
      await submitRequestForm(server.url, { email: 'e@example.org', type: 'access', jurisdiction: 'unspecified', message: '' });

      const staff = await makeStaff(server, clock, 'privacy');
      const res = await get(server.url, '/console/requests/report?month=2026-12', staff.cookie);
      assert.equal(res.status, 200);
      const page = await res.text();
      assert.match(page, /Privacy requests received in December 2026/);
      assert.match(page, /<svg class="chart" role="img"/);
      assert.match(page, /<title id="chart-title">Requests received in 2026-12 by type and outcome: Access 1 answered on time, 0 answered late, 0 open and overdue, 1 open, not yet due; Correction 0 answered on time, 0 answered late, 1 open and overdue, 0 open, not yet due; Deletion 0 answered on time, 1 answered late/);
      assert.match(page, /<caption>By type and outcome \(4 requests/);
      // Acknowledgement: at once for all four. Answers: 24 h and 16 days (+30 s): median 8.5 days, worst 16.0 days.
      assert.match(page, /<th scope="row">Acknowledgement<\/th><td>4<\/td><td>0.0 h<\/td><td>0.0 h<\/td>/);
      assert.match(page, /<th scope="row">Answer \(fulfilled or refused\)<\/th><td>2<\/td><td>8.5 days<\/td><td>16.0 days<\/td>/);
      assert.ok(!page.includes('@example.org'), 'the report names nobody');

      const csv = await get(server.url, '/console/requests/report.csv?month=2026-12', staff.cookie);
      assert.equal(csv.status, 200);
      assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
      assert.match(csv.headers.get('content-disposition') ?? '', /attachment; filename="privacy-requests-2026-12.csv"/);
      const lines = (await csv.text()).trim().split('\n');
      assert.equal(lines[0], '"reference","type","jurisdiction","channel","status","received_at","acknowledged_at","answered_at","respond_by","respond_rule","outcome","acknowledgement_hours","answer_hours"');
      assert.equal(lines.length, 5);
      const rowA = lines.find((l) => l.startsWith(`"${a.reference}"`));
      assert.ok(rowA);
      assert.match(rowA, /"access","unspecified","form","refused","2026-12-02T10:00:00.000Z","2026-12-02T10:00:00.000Z","2026-12-03T10:00:00.000Z","2026-12-16T23:59:59.999Z",".*","met","0","24"$/);
      assert.ok(lines.some((l) => l.includes('"open_late"')));
      assert.ok(!lines.join('\n').includes('@'), 'no addresses in the export');

      assert.equal((await get(server.url, '/console/requests/report?month=2026-13', staff.cookie)).status, 400);
      assert.equal((await get(server.url, '/console/requests/report.csv?month=junk', staff.cookie)).status, 400);
      const reads = (await audit(server)).filter((e) => e.action.startsWith('privacy_request.report_'));
      assert.deepEqual(reads.map((e) => [e.action, JSON.parse(e.details).count]), [['privacy_request.report_viewed', 4], ['privacy_request.report_exported', 4]]);
    });
  });
});
