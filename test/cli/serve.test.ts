// `lumetrax serve` as an operator runs it: under the machine's own Node, through the
// package's bin, with the V8 flags from package.json, stopped by a supervisor's SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '../../src/config.ts';
import { freePort } from '../support/free-port.ts';

const machineNode = ['/usr/local/bin/node', '/usr/bin/node'].find((p) => existsSync(p)) ?? 'node';

function childrenOf(pid: number): number[] {
  const path = `/proc/${pid}/task/${pid}/children`;
  return existsSync(path) ? readFileSync(path, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

/** The caller's environment without malloc settings, so the bin's own are what is seen. */
function withoutMalloc(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { MALLOC_ARENA_MAX: _arenas, MALLOC_MMAP_THRESHOLD_: _threshold, ...rest } = env;
  return rest;
}

test('`lumetrax serve` runs the service with the configured V8 flags and malloc settings, and stops cleanly on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lumetrax-cli-'));
  const port = await freePort();
  const cli = spawn(machineNode, ['bin/lumetrax.mjs', 'serve'], {
    cwd: projectRoot,
    env: { ...withoutMalloc(process.env), PORT: String(port), DATABASE_URL: `sqlite:${join(dir, 'x.db')}`, SECRET_KEY: 'cd'.repeat(32), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  cli.stderr.on('data', (d) => (stderr += d));
  // The service runs as the bin's child; a failed test must not leave it behind (it would
  // hold this process's stderr pipe open and keep the test runner waiting).
  let service: number | undefined;
  const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
  try {
    let healthy = false;
    // A fresh clone compiles src/ to dist/ before the first start: allow for that.
    for (let i = 0; i < 900 && !healthy && cli.exitCode === null; i++) {
      healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
      if (!healthy) await sleep(100);
    }
    assert.ok(healthy, `the service answered /healthz (stderr: ${stderr})`);

    const flags = String(JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')).config.serve_node_flags).split(/\s+/);
    [service] = childrenOf(cli.pid!);
    assert.ok(service, 'the service runs as a child of the bin');
    const argv = readFileSync(`/proc/${service}/cmdline`, 'utf8').split('\0');
    for (const flag of flags) assert.ok(argv.includes(flag), `${flag} in ${argv.join(' ')}`);
    const config = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')).config;
    const environ = readFileSync(`/proc/${service}/environ`, 'utf8').split('\0');
    assert.ok(environ.includes(`MALLOC_ARENA_MAX=${config.serve_malloc_arena_max}`), 'malloc arenas as configured');
    assert.ok(environ.includes(`MALLOC_MMAP_THRESHOLD_=${config.serve_malloc_mmap_threshold}`), 'a fixed mmap threshold as configured');

    cli.kill('SIGTERM');
    assert.equal(await exited, 0, 'a graceful stop exits 0');
    assert.ok(!existsSync(`/proc/${service}`) || readFileSync(`/proc/${service}/status`, 'utf8').includes('zombie'), 'the service is gone too');
    assert.equal(await fetch(`http://127.0.0.1:${port}/healthz`).then(() => 'answered', () => 'closed'), 'closed');
  } finally {
    for (const pid of service ? [service] : cli.pid ? childrenOf(cli.pid) : []) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (cli.exitCode === null) cli.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
