#!/usr/bin/env node
// Runs src/main.ts on Node 24 (type stripping, node:sqlite). When the machine's own
// Node is older, the project's node@24 dependency is used instead.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'src', 'main.ts');
const major = Number(process.versions.node.split('.')[0]);
if (major >= 24) {
  await import(main);
} else {
  const candidates = [join(root, 'node_modules', 'node', 'bin', 'node'), join(root, 'node_modules', '.bin', 'node')];
  const node24 = candidates.find((p) => existsSync(p));
  if (!node24) {
    console.error('lumetrax needs Node 24: run `npm install` in the project first.');
    process.exit(1);
  }
  const result = spawnSync(node24, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
