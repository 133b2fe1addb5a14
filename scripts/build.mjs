// The production start runs compiled JavaScript from dist/ (gitignored), so the service
// never loads Node's type-stripping machinery (about 17 MB of RSS: the amaro/SWC
// WebAssembly module and its buffers). The sources stay the truth: tests, the benchmarks'
// own code and every other command run src/*.ts directly.
//
// dist/ is rebuilt whenever it is missing or stale. Staleness is decided by content, not
// timestamps: dist/.source-hash holds the SHA-256 of every file under src/ (path and
// bytes) plus this script and the compiler version, and a start whose hash differs
// rebuilds first, so an edited source is never served from old JavaScript.
//
// Compilation is TypeScript's transpileModule, file by file: the sources are
// erasable-syntax-only (tsconfig erasableSyntaxOnly), so it removes exactly the types and
// rewrites relative `.ts` imports to `.js`; no type checking (that is `npm test`'s job,
// and someone's work in progress must not stop the service from starting).
//
// Runs under the machine's Node (20 here) from scripts/ensure-setup.mjs and under
// Node 24 from bin/lumetrax.mjs. `node scripts/build.mjs` builds if stale and prints why.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src');
export const distDir = join(root, 'dist');
const stampFile = join(distDir, '.source-hash');
const require = createRequire(import.meta.url);

function listFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

function compilerVersion() {
  try {
    return require('typescript/package.json').version;
  } catch {
    return 'none';
  }
}

/** SHA-256 over every source file's path and bytes, this script, and the compiler version. */
export function sourceHash() {
  const hash = createHash('sha256');
  hash.update(`typescript ${compilerVersion()}\0`);
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  for (const file of listFiles(srcDir)) {
    hash.update(`\0${relative(srcDir, file)}\0`);
    hash.update(readFileSync(file));
  }
  return hash.digest('hex');
}

/** Why dist/ cannot be used as it is, or undefined when it is current. */
export function staleReason(hash = sourceHash()) {
  if (!existsSync(join(distDir, 'main.js'))) return 'dist/ is missing';
  if (!existsSync(stampFile)) return 'dist/ has no source hash';
  if (readFileSync(stampFile, 'utf8').trim() !== hash) return 'src/ changed since dist/ was built';
  return undefined;
}

/** Compiles src/ into a fresh folder and swaps it in whole, so no reader sees half a build. */
export function build(hash = sourceHash()) {
  const ts = require('typescript');
  const tmp = join(root, `.dist-build-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  const compilerOptions = {
    target: ts.ScriptTarget.ES2024,
    module: ts.ModuleKind.ESNext,
    verbatimModuleSyntax: true,
    rewriteRelativeImportExtensions: true,
    importHelpers: false,
    sourceMap: false,
  };
  try {
    for (const file of listFiles(srcDir)) {
      const rel = relative(srcDir, file);
      const target = join(tmp, rel.replace(/\.ts$/, '.js'));
      mkdirSync(dirname(target), { recursive: true });
      if (!file.endsWith('.ts')) {
        writeFileSync(target, readFileSync(file));
        continue;
      }
      const { outputText, diagnostics } = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions, fileName: file, reportDiagnostics: true });
      const errors = (diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
      if (errors.length) throw new Error(`${rel}: ${ts.flattenDiagnosticMessageText(errors[0].messageText, '\n')}`);
      writeFileSync(target, outputText);
    }
    writeFileSync(join(tmp, '.source-hash'), `${hash}\n`);
    const old = join(root, `.dist-old-${process.pid}`);
    if (existsSync(distDir)) renameSync(distDir, old);
    renameSync(tmp, distDir);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The entry `serve` should run: dist/main.js, rebuilt first when stale. When it cannot be
 * built (no TypeScript installed, e.g. `npm ci --omit=dev`), src/main.ts under type
 * stripping, with a notice: never stale JavaScript.
 */
export function ensureBuilt({ log = (m) => console.error(m) } = {}) {
  const hash = sourceHash();
  const reason = staleReason(hash);
  if (reason === undefined) return join(distDir, 'main.js');
  try {
    log(`[build] ${reason}: compiling src/ to dist/ ...`);
    build(hash);
    return join(distDir, 'main.js');
  } catch (error) {
    log(`[build] could not compile src/ (${error.message}); serving src/main.ts through type stripping instead`);
    return join(srcDir, 'main.ts');
  }
}

/** Node arguments for `serve`: the V8 flags from package.json, then the entry. */
export function serveArgs(entry) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const flags = String(pkg.config?.serve_node_flags ?? '').split(/\s+/).filter(Boolean);
  return [...flags, entry];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const entry = ensureBuilt({ log: (m) => console.log(m) });
  console.log(`serve entry: ${relative(root, entry)}`);
}
