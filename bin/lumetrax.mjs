#!/usr/bin/env node
// Runs src/main.ts on Node 24 (type stripping, node:sqlite). When the machine's own
// Node is older, the project's node@24 dependency is used instead. `serve` always runs
// in a child with the V8 flags from package.json (config.serve_node_flags), the same
// ones `npm start` passes, because V8 reads heap sizes only at process start, and through
// scripts/serve.mjs, which runs the compiled dist/main.js (rebuilt when src/ changed) so
// the service never carries the type-stripping machinery.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'src', 'main.ts');
const args = process.argv.slice(2);
const major = Number(process.versions.node.split('.')[0]);
const serving = args[0] === 'serve';

if (major >= 24 && !serving) {
  await import(main);
} else {
  const candidates = major >= 24 ? [process.execPath] : [join(root, 'node_modules', 'node', 'bin', 'node'), join(root, 'node_modules', '.bin', 'node')];
  const node24 = candidates.find((p) => existsSync(p));
  if (!node24) {
    console.error('lumetrax needs Node 24: run `npm install` in the project first.');
    process.exit(1);
  }
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const flags = serving ? String(pkg.config?.serve_node_flags ?? '').split(/\s+/).filter(Boolean) : [];
  const entry = serving ? join(root, 'scripts', 'serve.mjs') : main;
  // glibc's malloc settings (config.serve_malloc_*), set before the process starts; an
  // operator's own values win.
  const env = { ...process.env };
  const malloc = { MALLOC_ARENA_MAX: pkg.config?.serve_malloc_arena_max, MALLOC_MMAP_THRESHOLD_: pkg.config?.serve_malloc_mmap_threshold };
  if (serving) for (const [name, value] of Object.entries(malloc)) if (!env[name] && value) env[name] = String(value);
  const child = spawn(node24, [...flags, entry, ...args], { stdio: 'inherit', env });
  // A supervisor stopping this process stops the service the same way.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}
