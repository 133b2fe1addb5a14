// The production start serves compiled JavaScript from dist/ (scripts/serve.mjs): on a
// fresh clone it is built before the service starts, and an edited source is never served
// from old JavaScript (dist/ is checked by content hash, not by timestamps). Runs on a copy
// of the project so the working tree's dist/ is left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '../../src/config.ts';
import { freePort } from '../support/free-port.ts';

const machineNode = ['/usr/local/bin/node', '/usr/bin/node'].find((p) => existsSync(p)) ?? 'node';
const node24 = join(projectRoot, 'node_modules', '.bin', 'node');

function copyProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lumetrax-build-'));
  for (const entry of ['src', 'scripts', 'bin', 'policy', 'public', 'package.json', 'package-lock.json']) {
    cpSync(join(projectRoot, entry), join(dir, entry), { recursive: true, preserveTimestamps: true });
  }
  symlinkSync(join(projectRoot, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** Starts `node <flags> scripts/serve.mjs serve` in dir; resolves once /healthz answers. */
async function serve(dir: string): Promise<{ stderr: () => string; stop: () => Promise<void> }> {
  const port = await freePort();
  const flags = String(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).config.serve_node_flags).split(/\s+/);
  const child = spawn(node24, [...flags, 'scripts/serve.mjs', 'serve'], {
    cwd: dir,
    env: { ...process.env, PORT: String(port), DATABASE_URL: `sqlite:${join(dir, 'x.db')}`, SECRET_KEY: 'cd'.repeat(32), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let healthy = false;
  for (let i = 0; i < 200 && !healthy && child.exitCode === null; i++) {
    healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (!healthy) await sleep(100);
  }
  if (!healthy) child.kill('SIGKILL');
  assert.ok(healthy, `the service answered /healthz (stderr: ${stderr})`);
  return {
    stderr: () => stderr,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function stamp(dir: string): string {
  return readFileSync(join(dir, 'dist', '.source-hash'), 'utf8').trim();
}

function hashOf(dir: string): string {
  const r = spawnSync(machineNode, ['--input-type=module', '-e', `import { sourceHash } from ${JSON.stringify(join(dir, 'scripts', 'build.mjs'))}; console.log(sourceHash());`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test('the prestart step (machine Node) builds dist/ on a fresh clone, and serve runs it', async () => {
  const dir = copyProject();
  try {
    assert.ok(!existsSync(join(dir, 'dist')));
    const setup = spawnSync(machineNode, ['scripts/ensure-setup.mjs', '--build'], { cwd: dir, encoding: 'utf8' });
    assert.equal(setup.status, 0, setup.stderr);
    assert.ok(existsSync(join(dir, 'dist', 'main.js')), 'dist/main.js built');
    assert.equal(stamp(dir), hashOf(dir), 'dist/ carries the hash of the sources it was built from');
    const running = await serve(dir);
    await running.stop();
    assert.doesNotMatch(running.stderr(), /\[build\]|type stripping/, 'a current dist/ is served as it is');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an edited source is rebuilt before it is served, whatever its timestamp', async () => {
  const dir = copyProject();
  try {
    spawnSync(machineNode, ['scripts/build.mjs'], { cwd: dir });
    const before = stamp(dir);
    // The edit keeps the file's old modification time: only its content tells.
    const main = join(dir, 'src', 'main.ts');
    const { atime, mtime } = statSync(main);
    appendFileSync(main, "\nconsole.error('edited-source-marker');\n");
    utimesSync(main, atime, mtime);

    const running = await serve(dir);
    await running.stop();
    assert.match(running.stderr(), /edited-source-marker/, 'the edited source is what runs');
    assert.match(running.stderr(), /\[build\] src\/ changed since dist\/ was built/);
    assert.doesNotMatch(running.stderr(), /type stripping/, 'served from the rebuilt dist/, not the fallback');
    assert.notEqual(stamp(dir), before);
    assert.equal(stamp(dir), hashOf(dir));
    assert.match(readFileSync(join(dir, 'dist', 'main.js'), 'utf8'), /edited-source-marker/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a source that cannot be compiled is served through type stripping, never old JavaScript', async () => {
  const dir = copyProject();
  try {
    spawnSync(machineNode, ['scripts/build.mjs'], { cwd: dir });
    // The compiler is made unavailable to the build (as with npm ci --omit=dev).
    const build = join(dir, 'scripts', 'build.mjs');
    appendFileSync(join(dir, 'src', 'main.ts'), "\nconsole.error('edited-source-marker');\n");
    const source = readFileSync(build, 'utf8').replace("const ts = require('typescript');", "const ts = require('typescript-not-installed');");
    (await import('node:fs')).writeFileSync(build, source);

    const running = await serve(dir);
    await running.stop();
    assert.match(running.stderr(), /edited-source-marker/);
    assert.match(running.stderr(), /running src\/main\.ts through type stripping/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
