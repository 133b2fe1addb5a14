// Public pages rendered from the policy: home, privacy notice and its versions, the
// retention schedule and the security commitments.
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.ts';
import { html } from '../http/html.ts';
import { page } from '../http/layout.ts';
import { renderNotice } from './notice.ts';
import { cookieTable, deadlinesTable, formatDate, retentionTable } from './policy-tables.ts';
import { countsInWords, lastSweep } from '../retention/last-sweep.ts';
import { cadenceInWords, daysInWords } from '../retention/schedule.ts';
import { publishedVersions } from '../policy/schema.ts';


export async function siteRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const { policy } = deps.policy;
  const orgName = policy.organisation.name;
  const send = (path: string, title: string, body: ReturnType<typeof html>, description?: string) =>
    page({ title, orgName, path, body, description });

  app.get('/', { config: { access: 'public' } }, async (_req, reply) => {
    reply.type('text/html; charset=utf-8');
    return send(
      '/',
      `${orgName}: your portfolio, in one clear view`,
      html`<h1>See your whole portfolio in one clear view</h1>
<p class="lead">${orgName} brings the sites and assets your team manages into one place, so you can spot what needs attention before it becomes a problem.</p>
<p><a class="button primary" href="/demo">Request a demo</a> or <a href="/contact">ask us a question</a>.</p>
<h2>Privacy you can check</h2>
<p>This site sets no cookies while you browse and loads nothing from other websites. We ask only for what we need to answer you, never pass your details to data brokers or enrichment services, and send marketing only if you tick the box. Our <a href="/privacy">privacy notice</a> explains exactly what happens to your data, and our <a href="/security">security page</a> links each commitment to the automated test that checks it.</p>`,
      `${orgName} brings your team's portfolio of sites and assets into one clear view.`,
    );
  });

  const noticePage = (version: string, path: string) => {
    // Drafts awaiting their review are not published, not even at their address.
    const v = publishedVersions(policy).find((x) => x.version === version);
    const body = v && renderNotice(deps.policy, version);
    if (!v || !body) return null;
    const isCurrent = version === policy.notice.current;
    const banner = isCurrent && v.material
      ? html`<div class="notice-banner" role="status"><p><strong>Updated ${formatDate(v.effective)}:</strong> ${v.summary} <a href="/privacy/versions">See earlier versions</a>.</p></div>`
      : !isCurrent
        ? html`<div class="notice-banner" role="status"><p>This is an earlier version of our privacy notice, in effect from ${formatDate(v.effective)}. <a href="/privacy">Read the current version</a>.</p></div>`
        : '';
    return send(
      path,
      isCurrent ? 'Privacy notice' : `Privacy notice (version ${version})`,
      html`${banner}<h1>Privacy notice</h1>
<p class="muted">Version ${v.version}, effective ${formatDate(v.effective)}${v.review ? html`, reviewed by ${v.review.role} on ${formatDate(v.review.date)}` : ''}.</p>
${body}`,
      isCurrent
        ? `How ${orgName} handles the personal data its website and inboxes receive: what we collect, why, how long we keep it, and your rights.`
        : `An earlier version (${version}) of the ${orgName} privacy notice, kept readable at a stable address.`,
    );
  };

  app.get('/privacy', { config: { access: 'public' } }, async (_req, reply) => {
    reply.type('text/html; charset=utf-8');
    return noticePage(policy.notice.current, '/privacy');
  });

  app.get('/privacy/versions', { config: { access: 'public' } }, async (_req, reply) => {
    reply.type('text/html; charset=utf-8');
    const versions = publishedVersions(policy).sort((a, b) => (a.effective < b.effective ? 1 : a.effective > b.effective ? -1 : 0));
    return send(
      '/privacy/versions',
      'Privacy notice versions',
      html`<h1>Privacy notice versions</h1>
<p class="lead">Every version we have published stays readable here, at a stable address.</p>
<ul class="version-list">${versions.map(
        (v) => html`<li><a href="/privacy/versions/${encodeURIComponent(v.version)}">Version ${v.version}</a>, effective ${formatDate(v.effective)}${v.version === policy.notice.current ? ' (current)' : ''}${v.material ? ', material change' : ''}. ${v.summary}</li>`,
      )}</ul>`,
      `Every version of the ${orgName} privacy notice we have published, each with its effective date and a summary of what changed.`,
    );
  });

  app.get<{ Params: { version: string } }>('/privacy/versions/:version', { config: { access: 'public' } }, async (req, reply) => {
    const rendered = noticePage(req.params.version, '/privacy');
    if (!rendered) return reply.callNotFound();
    reply.type('text/html; charset=utf-8');
    return rendered;
  });

  app.get('/privacy/retention', { config: { access: 'public' } }, async (_req, reply) => {
    const r = policy.retention;
    // Counts only: the deletion log holds no personal data, so the page may show it.
    const sweep = await lastSweep(deps.storage.db);
    reply.type('text/html; charset=utf-8');
    return send(
      '/privacy/retention',
      'Retention schedule',
      html`<h1>Retention schedule</h1>
<p class="lead">How long we keep each kind of personal data, generated from the same policy file our deletion job runs on.</p>
${retentionTable(deps.policy)}
<p>Inquiry data is kept while we are in touch about your request, plus a follow-up window of ${r.follow_up_window_days} days. Our deletion job runs <span id="sweep-cadence">${cadenceInWords(r.sweep_cadence, policy.business_calendar.time_zone)}</span>. ${r.legal_hold_note}</p>
<h2>The last deletion run</h2>
<p id="last-sweep">${sweep ? html`Our deletion job last ran on <time datetime="${sweep.finishedAt}">${formatDate(sweep.finishedAt.slice(0, 10))} at ${sweep.finishedAt.slice(11, 16)} UTC</time> and deleted ${countsInWords(sweep.counts)}.` : 'Our deletion job has not run yet on this installation.'}</p>
<h2>Backups</h2>
<p id="backup-retention">${r.backup_cadence ? html`Our backup job takes a copy of our database <span id="backup-cadence">${cadenceInWords(r.backup_cadence, policy.business_calendar.time_zone)}</span>. Each copy is kept for ${daysInWords(r.backup_retention_days)}, then destroyed.` : html`Backups of our database are kept for ${daysInWords(r.backup_retention_days)}, then destroyed.`} Restoring one never brings deleted data back: everything deleted since the backup was taken is deleted again before the service runs on it.</p>
<h2>Cookies</h2>
${cookieTable(deps.policy)}`,
      `How long ${orgName} keeps each kind of personal data, and the cookies its website may set.`,
    );
  });

  app.get('/privacy/deadlines', { config: { access: 'public' } }, async (_req, reply) => {
    reply.type('text/html; charset=utf-8');
    const d = policy.deadlines;
    return send(
      '/privacy/deadlines',
      'Deadlines for privacy requests',
      html`<h1>Deadlines for privacy requests</h1>
<p class="lead">When you ask us for a copy of your data, a correction or its deletion, we acknowledge within ${d.acknowledge_business_days} business day${d.acknowledge_business_days === 1 ? '' : 's'} and answer within ${d.answer_business_days} business days, or by the deadline the law where you live sets, whichever is earlier.</p>
<p>This table is the one our request clock reads: each row names the law and where we read it. We count in our business calendar's time zone (${policy.business_calendar.time_zone}). A period in days starts the day after we receive your request and ends at the end of its last day; a month ends on the same date a month later (or that month's last day). Where a law sets no fixed period, our ${d.answer_business_days} business days apply.</p>
${deadlinesTable(deps.policy)}
<p>To make a request, write to <a href="mailto:${policy.organisation.privacy_address}">${policy.organisation.privacy_address}</a> with the subject "${policy.organisation.privacy_subject}".</p>`,
      `How long ${orgName} takes to answer a request to access, correct or delete personal data, and the legal deadline of each country or state, with its source.`,
    );
  });

  app.get('/security', { config: { access: 'public' } }, async (_req, reply) => {
    reply.type('text/html; charset=utf-8');
    return send(
      '/security',
      'Security and data commitments',
      html`<h1>Security and data commitments</h1>
<p class="lead">What this website's software does with your data. Each commitment names the automated test that checks it on every change.</p>
<ul class="commitments">${policy.security_commitments.map(
        (c) => html`<li class="commitment"><h2>${c.title}</h2><p>${c.detail}</p><p class="proof">Checked by <code>${c.proven_by}</code></p></li>`,
      )}</ul>
<p>To report a security problem, write to <a href="mailto:${policy.organisation.privacy_address}">${policy.organisation.privacy_address}</a>.</p>`,
      `What the ${orgName} website's software does with your data, each commitment checked by a named automated test.`,
    );
  });

  // Crawlers may read everything; there is no sitemap to point them to.
  app.get('/robots.txt', { config: { access: 'public' } }, async (_req, reply) => {
    reply.type('text/plain; charset=utf-8').header('cache-control', 'public, max-age=3600');
    return 'User-agent: *\nAllow: /\n';
  });

  // Browsers ask for /favicon.ico whatever the page declares; the icon is an SVG.
  app.get('/favicon.ico', { config: { access: 'public' } }, async (_req, reply) => reply.header('cache-control', 'public, max-age=86400').redirect('/static/favicon.svg', 301));
}
