// Runs the CLI as an operator does, `node src/main.ts ...` in a child process, so tests
// see exactly what reaches the terminal and the exit code.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../src/config.ts';

const node = join(projectRoot, 'node_modules', '.bin', 'node');
/** Set so that nothing is written to ./data/secret.key. */
export const CLI_SECRET = 'ab'.repeat(32);

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string> = {}, timeout = 30_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      node,
      ['src/main.ts', ...args],
      { cwd: projectRoot, timeout, env: { ...process.env, SECRET_KEY: CLI_SECRET, LOG_LEVEL: 'info', ...env } },
      (error, stdout, stderr) => {
        const code = error ? (error as { code?: unknown }).code : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}

/** Exit 1, the reason alone on stderr, nothing that looks like a stack anywhere. */
export function assertOneLineFailure(res: CliResult, expected: RegExp): void {
  const all = `exit ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`;
  assert.equal(res.code, 1, all);
  const lines = res.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr: ${all}`);
  assert.match(lines[0], expected);
  assert.doesNotMatch(res.stderr + res.stdout, /^\s+at /m, 'no stack trace');
}
