// What the benchmarks read about the server process they drive, from /proc (Linux).
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** User + system CPU time of a process (all its threads) so far, in ms (100 ticks/s). */
export function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** A memory figure of /proc/PID/status in kB (VmRSS now, VmHWM the peak); 0 once the process is gone. */
export function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}


/** Resolves once the service answers /healthz (a first start may compile dist/ first: up to a minute). */
export async function waitHealthy(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before it was healthy`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not become healthy`);
}

/**
 * The environment `npm start` gives the service besides the caller's (package.json
 * config.serve_malloc_arena_max as MALLOC_ARENA_MAX, config.serve_malloc_mmap_threshold as
 * MALLOC_MMAP_THRESHOLD_), for benchmarks that start it.
 */
export const serveEnv: Record<string, string> = (() => {
  const config = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).config ?? {};
  const env: Record<string, string> = {};
  if (config.serve_malloc_arena_max) env.MALLOC_ARENA_MAX = String(config.serve_malloc_arena_max);
  if (config.serve_malloc_mmap_threshold) env.MALLOC_MMAP_THRESHOLD_ = String(config.serve_malloc_mmap_threshold);
  return env;
})();
