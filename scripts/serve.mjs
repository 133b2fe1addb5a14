// The service's entry point for `npm start`, `lumetrax serve` and the benchmarks:
//   node <config.serve_node_flags> scripts/serve.mjs serve
// It runs dist/main.js, the compiled JavaScript, so the process never loads Node's type
// stripping (about 20 MB of RSS). dist/ is checked by content hash first (a few ms): when
// src/ changed since the last build, it is rebuilt in a separate process (the compiler is
// never loaded into the service), and if it cannot be built the service runs
// src/main.ts under type stripping instead, with a notice. Old JavaScript is never served.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { distDir, root, sourceHash, staleReason } from './build.mjs';

let entry = join(distDir, 'main.js');
if (staleReason(sourceHash()) !== undefined) {
  spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: ['ignore', 2, 2] });
  const reason = staleReason(sourceHash());
  if (reason !== undefined) {
    console.error(`[serve] ${reason} and could not be rebuilt: running src/main.ts through type stripping`);
    entry = join(root, 'src', 'main.ts');
  }
}
await import(pathToFileURL(entry).href);
