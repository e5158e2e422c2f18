import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = fileURLToPath(new URL('../../dag/bin/dag.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dag/dist/cli/main.js', import.meta.url));

/** How a `dag` process ended, and what it printed. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A started `dag` process: the child (to signal it), its result, and what it printed so far. */
export type CliProcess = ChildProcess & { result: Promise<CliResult>; output: () => string; errors: () => string };

/** `dag` processes of this test file: a failed test leaves none running. */
const spawned: ChildProcess[] = [];
afterAll(() => {
  for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/**
 * The one spawner of the real `dag` command (the compiled dist/, built by `npm test`'s pretest).
 * `env` is laid over the test's environment (undefined removes a variable); `detached` makes it
 * the leader of its own process group (to signal the group as a terminal does); `stdout: 'ignore'`
 * leaves its stdout unread.
 */
export function spawnCli(args: string[], opts: { cwd: string; env?: Record<string, string | undefined>; detached?: boolean; stdout?: 'pipe' | 'ignore' }): CliProcess {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npx tsc -p .\` (npm test does it in pretest)`);
  const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, detached: opts.detached, stdio: ['ignore', opts.stdout ?? 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', COLUMNS: undefined, ...opts.env } });
  spawned.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return Object.assign(child, { result, output: () => stdout, errors: () => stderr });
}

/** `dag` run to its end. */
export function runCli(args: string[], opts: { cwd: string; env?: Record<string, string | undefined> }): Promise<CliResult> {
  return spawnCli(args, opts).result;
}

/** `dag run --json`'s summary, as the tests read it. */
export interface RunJson {
  run_id: string;
  run_dir: string;
  status: string;
  counts: Record<string, number>;
  labels: string[];
  warnings: { code: string; text: string }[];
  failures: { task: string; error: string; failure: { message: string; step?: string; rule?: string } }[];
  exit_code: number;
}
