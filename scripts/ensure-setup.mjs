// Runs before `npm start` and `npm test` under whatever Node the machine has (20 here),
// so the README's two commands work on a fresh clone: it installs the locked
// dependencies (including Node 24 from the npm package node@24) when they are missing
// or stale, builds the analytics country look-up tables when missing, with --build
// compiles src/ into dist/ when dist/ is missing or its content hash differs from the
// sources' (scripts/build.mjs; `npm start` serves dist/main.js), and for tests makes sure
// Chromium is there for the browser tests.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const installedLock = join(root, 'node_modules', '.package-lock.json');
const node24 = join(root, 'node_modules', 'node', 'bin', 'node');

const stale =
  !existsSync(node24) ||
  !existsSync(installedLock) ||
  statSync(join(root, 'package-lock.json')).mtimeMs > statSync(installedLock).mtimeMs + 1000;

if (stale) {
  console.error('[setup] installing locked dependencies (npm ci)...');
  execSync('npm ci --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
}

// The country look-up tables, built once here so the service only reads them. The builder
// (src/analytics/geo-tables.ts, under Node 24) knows their names and builds only what is
// missing or unreadable, printing a line when it does; about 0.15 s when all are there.
const geoBuild = spawnSync(node24, [join(root, 'src', 'analytics', 'geo-tables.ts')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
if (geoBuild.status !== 0) console.error('[setup] the country look-up tables could not be built: the service builds them itself at first use');

if (process.argv.includes('--build')) {
  // Imported only now: build.mjs needs the installed TypeScript.
  const { ensureBuilt } = await import('./build.mjs');
  ensureBuilt();
}

if (process.argv.includes('--browser') && !existsSync('/usr/bin/chromium')) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && existsSync('/usr/bin/apt-get')) {
    console.error('[setup] installing Debian Chromium for the browser tests (apt-get install chromium)...');
    execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', { stdio: 'inherit', shell: '/bin/bash' });
  } else {
    console.error('[setup] /usr/bin/chromium is missing: install Debian\'s chromium package (apt-get install chromium) for the browser tests.');
  }
}

// The IMAP polling test starts Debian's dovecot (a throwaway instance of its own); without it that test is skipped.
if (process.argv.includes('--browser') && !existsSync('/usr/sbin/dovecot')) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && existsSync('/usr/bin/apt-get')) {
    console.error('[setup] installing Debian dovecot-imapd for the IMAP test (apt-get install dovecot-imapd)...');
    execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd', { stdio: 'inherit', shell: '/bin/bash' });
  } else {
    console.error('[setup] /usr/sbin/dovecot is missing: install Debian\'s dovecot-imapd (apt-get install dovecot-imapd), or the IMAP test is skipped.');
  }
}
