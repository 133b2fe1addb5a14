// Preloaded into the service by bench/memory.ts (node --import): on SIGUSR2 it writes the
// process's own view of its memory to MEMORY_PROBE_OUT, and a heap snapshot when
// MEMORY_PROBE_SNAPSHOT names a file. Plain JavaScript, so it never loads type stripping
// itself; it allocates nothing until asked.
import { renameSync, writeFileSync } from 'node:fs';
import v8 from 'node:v8';

const out = process.env.MEMORY_PROBE_OUT;
if (out) {
  process.on('SIGUSR2', () => {
    const snapshotFile = process.env.MEMORY_PROBE_SNAPSHOT;
    const report = {
      memoryUsage: process.memoryUsage(),
      heap: v8.getHeapStatistics(),
      spaces: v8.getHeapSpaceStatistics(),
      code: v8.getHeapCodeStatistics(),
      snapshot: snapshotFile ? v8.writeHeapSnapshot(snapshotFile) : undefined,
    };
    // Written aside and renamed, so the reader never sees half a report.
    writeFileSync(`${out}.tmp`, JSON.stringify(report));
    renameSync(`${out}.tmp`, out);
  });
}
