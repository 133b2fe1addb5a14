// A throwaway Debian dovecot (dovecot-imapd) for the IMAP tests: its own config, mail and
// run directories in a temp folder, a plaintext passdb with one user, listening on a free
// loopback port. `startDovecot` says why when it cannot run (not installed, refused to
// start), so the test can skip with that reason instead of faking a server.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/free-port.ts';

export const DOVECOT = ['/usr/sbin/dovecot', '/usr/local/sbin/dovecot'].find((p) => existsSync(p));

export interface Dovecot {
  port: number;
  user: string;
  pass: string;
  url: string;
  stop(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Started dovecot, or the reason it could not be. */
export async function startDovecot(): Promise<Dovecot | string> {
  if (!DOVECOT) return 'dovecot is not installed (apt-get install dovecot-imapd; `npm test` does it when run as root)';
  const dir = mkdtempSync(join(tmpdir(), 'lumetrax-dovecot-'));
  const port = await freePort();
  const user = 'desk';
  const pass = `pw-${Math.random().toString(36).slice(2)}`;
  // Dovecot will not deliver mail as root: as root, the mailbox belongs to its own user.
  let uid = process.getuid?.() ?? 0;
  let gid = process.getgid?.() ?? 0;
  if (uid === 0) {
    const entry = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('dovecot:'))?.split(':');
    if (!entry) return 'dovecot is installed but its system user is missing (reinstall dovecot-core)';
    uid = Number(entry[2]);
    gid = Number(entry[3]);
  }
  for (const d of ['run', 'home']) mkdirSync(join(dir, d), { recursive: true });
  chownSync(join(dir, 'home'), uid, gid);
  // dovecot's auth process runs as its own user: it must be able to reach the (throwaway) passdb.
  chmodSync(dir, 0o711);
  writeFileSync(join(dir, 'passwd'), `${user}:{PLAIN}${pass}\n`, { mode: 0o644 });
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(
    conf,
    [
      `base_dir = ${dir}/run`,
      `state_dir = ${dir}/run/state`,
      `log_path = ${dir}/dovecot.log`,
      `info_log_path = ${dir}/dovecot.log`,
      'protocols = imap',
      'listen = 127.0.0.1',
      'ssl = no',
      'disable_plaintext_auth = no',
      'auth_mechanisms = plain login',
      `first_valid_uid = ${uid}`,
      `first_valid_gid = ${gid}`,
      `mail_location = maildir:${dir}/home/%u/Maildir`,
      'passdb {',
      '  driver = passwd-file',
      `  args = scheme=PLAIN username_format=%u ${dir}/passwd`,
      '}',
      'userdb {',
      '  driver = static',
      `  args = uid=${uid} gid=${gid} home=${dir}/home/%u`,
      '}',
      'service imap-login {',
      '  inet_listener imap {',
      '    address = 127.0.0.1',
      `    port = ${port}`,
      '  }',
      '  inet_listener imaps {',
      '    port = 0',
      '  }',
      '}',
      'service anvil {',
      '  chroot =',
      '}',
      'service imap-login {',
      '  chroot =',
      '}',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(DOVECOT, ['-F', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += String(c)));
  child.stderr?.on('data', (c: Buffer) => (output += String(c)));
  let exited = false;
  child.once('exit', () => (exited = true));
  const stop = async () => {
    if (!exited) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
    }
    if (!process.env.KEEP_DOVECOT) rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (exited) break;
    if (await canConnect(port)) return { port, user, pass, url: `imap://${user}:${encodeURIComponent(pass)}@127.0.0.1:${port}/INBOX`, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  const log = existsSync(join(dir, 'dovecot.log')) ? readFileSync(join(dir, 'dovecot.log'), 'utf8') : '';
  await stop();
  return `dovecot did not start: ${(output + log).trim().split('\n').slice(-3).join(' | ') || 'no output'}`;
}
