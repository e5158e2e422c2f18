import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CLI = fileURLToPath(new URL('../../tools/cli/dag.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/dag/cli/main.js', import.meta.url));

export interface DagResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `dag` command (the compiled dist/, built by `npm test`'s pretest) as a child process. */
export function runDag(args: string[], opts: { cwd?: string } = {}): Promise<DagResult> {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npx tsc -p .\` (npm test does it in pretest)`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? REPO, env: { ...process.env, NO_COLOR: '1', DAG_RUNS_DIR: undefined } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Per-test timeout for tests that spawn the CLI: a process costs ~0.5 s, far more on a busy machine. */
export const CLI_TIMEOUT = 30_000;

/** A stack trace line, as Node prints them; a user error must never show one. */
export const STACK_LINE = /^\s+at \S/m;
