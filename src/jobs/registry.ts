// Every scheduled job of the service, as data. Retention, the inbound-mail poller,
// analytics rollups and audit signing join this list as they are built.
import type { Deps } from '../deps.ts';
import { deleteExpiredConfirmations, deleteOldAllowances } from '../consent/store.ts';
import { sendWithdrawalLinks, WITHDRAWAL_LINKS_JOB } from '../consent/request-withdrawal-link.ts';
import type { MailWorker } from '../mail/worker.ts';
import { AUDIT_SIGN_JOB, signAuditHead } from '../audit/sign-head.ts';
import type { JobDefinition } from './scheduler.ts';
import { deleteDeadSessions, deleteExpiredSetupLinks } from '../auth/store.ts';
import { IMAP_POLL_JOB } from '../correspondence/settings.ts';
import { RETENTION_SWEEP_JOB, runSweep, sweepCounts } from '../retention/sweep.ts';
import { ANALYTICS_ROLLUP_JOB, rollUp, rollupEveryMs } from '../analytics/roll-up.ts';
import { ALERT_JOB, sendDeadlineAlerts } from '../rights/send-alerts.ts';

export const MAIL_DELIVERY_JOB = 'outbox.deliver';
export const BACKUP_JOB = 'retention.backup';
const HOUR = 3600_000;

export function serviceJobs(deps: Deps, mail: MailWorker | undefined): JobDefinition[] {
  const jobs: JobDefinition[] = [
    {
      name: AUDIT_SIGN_JOB,
      description: 'signs the audit chain head with the Ed25519 audit key, so a cut-off tail or a recomputed chain fails `lumetrax audit verify`',
      everyMs: deps.config.auditSignEverySeconds * 1000,
      run: async (): Promise<Record<string, number>> => {
        const { signed, seq } = await signAuditHead(deps.storage.db, deps.config.auditSigningKey, deps.now());
        return signed ? { signed, seq } : { signed: 0 };
      },
    },
    {
      name: WITHDRAWAL_LINKS_JOB,
      description: 'answers "email me a link to unsubscribe" requests: mails the link to subscribed addresses only, a few times a day at most',
      everyMs: 60_000,
      run: async () => ({ ...(await sendWithdrawalLinks(deps)) }),
    },
    {
      name: 'consent.housekeeping',
      description: 'removes expired opt-in confirmations and past days of the consent-mail allowance',
      everyMs: 6 * HOUR,
      run: async () => {
        const now = deps.now();
        const confirmations = await deleteExpiredConfirmations(deps.storage.db, now.toISOString());
        const allowances = await deleteOldAllowances(deps.storage.db, now.toISOString().slice(0, 10));
        return { expired_confirmations: confirmations, old_allowances: allowances };
      },
    },
  ];
  if (deps.config.imapUrl) {
    jobs.push({
      name: IMAP_POLL_JOB,
      description: 'takes new mail from the IMAP_URL mailbox into its thread (or triage), past the last UID processed',
      everyMs: deps.config.imapPollMs,
      // The IMAP client and mail parser load only on installations that poll.
      run: async () => ({ ...(await (await import('../correspondence/imap-poller.ts')).pollImap(deps)) }),
    });
  }
  jobs.push({
    name: 'auth.housekeeping',
    description: 'removes staff sessions past their idle or absolute limit and set-up links past their expiry',
    everyMs: 15 * 60_000,
    run: async () => {
      const now = deps.now();
      const idleCutoff = new Date(now.getTime() - deps.config.staffSessionIdleMinutes * 60_000).toISOString();
      return {
        dead_sessions: await deleteDeadSessions(deps.storage.db, now.toISOString(), idleCutoff),
        expired_setup_links: await deleteExpiredSetupLinks(deps.storage.db, now.toISOString()),
      };
    },
  });
  jobs.push({
    name: RETENTION_SWEEP_JOB,
    description: 'deletes what the policy\'s retention rules say is due, except what a hold covers, in committed batches with a deletion log',
    everyMs: 0,
    cron: { pattern: deps.policy.policy.retention.sweep_cadence, timeZone: deps.policy.policy.business_calendar.time_zone },
    // A sweep of a large backlog can take a while; the lease outlasts it.
    leaseMs: 6 * HOUR,
    run: async () => sweepCounts(await runSweep(deps, { trigger: 'job', pauseMs: 2 })),
  });
  const backupDir = deps.config.backupDir;
  const backupCadence = deps.policy.policy.retention.backup_cadence;
  if (backupDir && backupCadence && deps.storage.kind === 'sqlite') {
    jobs.push({
      name: BACKUP_JOB,
      description: 'writes a consistent snapshot of the SQLite database into BACKUP_DIR (owner-only) and destroys the snapshots there older than the policy\'s backup_retention_days',
      everyMs: 0,
      cron: { pattern: backupCadence, timeZone: deps.policy.policy.business_calendar.time_zone },
      leaseMs: HOUR,
      run: async () => {
        const { backupToFolder } = await import('../retention/backup-folder.ts');
        const { bytes, pruned, kept } = await backupToFolder(deps.storage, backupDir, deps.now(), deps.policy.policy.retention.backup_retention_days);
        return { bytes, pruned, kept };
      },
    });
  }
  jobs.push({
    name: ANALYTICS_ROLLUP_JOB,
    description: 'turns raw page views of finished hours into aggregates and deletes them in the same transaction; no visitor key remains',
    everyMs: rollupEveryMs(deps.policy.policy.analytics.rollup_cadence),
    run: async () => ({ ...(await rollUp(deps)) }),
  });
  jobs.push({
    name: ALERT_JOB,
    description: 'mails the privacy role when an open privacy request has used 50% and 80% of its time, and when it is overdue (once each)',
    everyMs: 15 * 60_000,
    run: async () => ({ ...(await sendDeadlineAlerts(deps)) }),
  });
  if (mail) {
    jobs.push({
      name: MAIL_DELIVERY_JOB,
      description: 'sends due outbox mail through SMTP_URL, retrying with capped backoff',
      everyMs: deps.config.mailPollMs,
      // Messages are leased row by row as well, so a lapsed job lease never sends twice.
      leaseMs: 5 * 60_000,
      run: async () => ({ ...(await mail.drain()) }),
    });
  }
  return jobs;
}
