// Polls an existing mailbox over IMAP (imapflow) as the job `correspondence.imap-poll`.
// Messages are taken in UID order past the last UID processed (kept per mailbox with
// its UIDVALIDITY, so a rebuilt mailbox is read again from the start, where Message-ID
// de-duplication keeps it from being stored twice), each marked \Seen once stored.
// A message over the size limit is not downloaded: its headers are stored in its thread
// (or triage) with a note. Nothing from the mailbox is logged; the job keeps counts.
import { ImapFlow } from 'imapflow';
import type { Deps } from '../deps.ts';
import { MailRefused, receiveMail } from './receive-mail.ts';
import { inboundSettings } from './settings.ts';
import { imapState, saveImapState } from './store.ts';

export { IMAP_POLL_JOB } from './settings.ts';

export interface ImapTarget {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  pass: string;
  mailbox: string;
}

export function parseImapUrl(url: string): ImapTarget {
  const u = new URL(url);
  const secure = u.protocol === 'imaps:';
  const mailbox = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'INBOX';
  return { host: u.hostname, port: u.port ? Number(u.port) : secure ? 993 : 143, secure, user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password), mailbox };
}

export interface PollCounts {
  [name: string]: number;
  fetched: number;
  stored: number;
  duplicates: number;
  triage: number;
  too_large: number;
}

export async function pollImap(deps: Pick<Deps, 'config' | 'storage' | 'policy' | 'signer' | 'now' | 'mailQueued'>, options: { batch?: number } = {}): Promise<PollCounts> {
  const counts: PollCounts = { fetched: 0, stored: 0, duplicates: 0, triage: 0, too_large: 0 };
  if (!deps.config.imapUrl) return counts;
  const target = parseImapUrl(deps.config.imapUrl);
  const settings = inboundSettings(deps.policy.policy);
  const client = new ImapFlow({
    host: target.host,
    port: target.port,
    secure: target.secure,
    auth: { user: target.user, pass: target.pass },
    logger: false,
    emitLogs: false,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 120_000,
  });
  // A dropped connection surfaces as the pending command's rejection; the event must not crash the process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    const lock = await client.getMailboxLock(target.mailbox);
    try {
      const mailbox = client.mailbox;
      if (!mailbox) throw Object.assign(new Error('mailbox not open'), { code: 'EIMAPMAILBOX' });
      const uidValidity = String(mailbox.uidValidity);
      const saved = await imapState(deps.storage.db, target.mailbox);
      let lastUid = saved && saved.uid_validity === uidValidity ? saved.last_uid : 0;
      // Which messages are new, and how big: collected first, since no other command may run during a fetch.
      const pending: Array<{ uid: number; size: number }> = [];
      if (mailbox.exists > 0) {
        for await (const msg of client.fetch(`${lastUid + 1}:*`, { uid: true, size: true }, { uid: true })) {
          // "N:*" always names the last message, even when its UID is below N.
          if (msg.uid > lastUid) pending.push({ uid: msg.uid, size: msg.size ?? 0 });
        }
      }
      pending.sort((a, b) => a.uid - b.uid);
      for (const { uid, size } of pending.slice(0, options.batch ?? 200)) {
        const tooLarge = size > settings.messageMaxBytes;
        const msg = await client.fetchOne(String(uid), tooLarge ? { uid: true, headers: true } : { uid: true, source: true }, { uid: true });
        const raw = msg ? (tooLarge ? msg.headers : msg.source) : undefined;
        counts.fetched++;
        if (raw) {
          try {
            const result = await receiveMail(deps, Buffer.from(raw), { source: 'imap', note: tooLarge ? `message of ${size} bytes is over the limit of ${settings.messageMaxBytes}: only its headers were fetched` : undefined });
            if (result.status === 'duplicate') counts.duplicates++;
            else {
              counts.stored++;
              if (result.triage) counts.triage++;
            }
            if (tooLarge) counts.too_large++;
          } catch (error) {
            // Only the size limit refuses, and it is handled above; anything else (the
            // database away) stops this pass here, to be taken up again from this UID.
            if (!(error instanceof MailRefused)) throw error;
          }
        }
        await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
        lastUid = uid;
        await saveImapState(deps.storage.db, target.mailbox, uidValidity, lastUid, deps.now().toISOString());
      }
      if (pending.length === 0 && (!saved || saved.uid_validity !== uidValidity)) await saveImapState(deps.storage.db, target.mailbox, uidValidity, lastUid, deps.now().toISOString());
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
  return counts;
}
