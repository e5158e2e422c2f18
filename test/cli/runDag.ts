import { REPO, runCli, type CliResult } from '../support/cli.js';

export { REPO };

export type DagResult = CliResult;

/** Runs the real `dag` command as a child process, without DAG_RUNS_DIR. */
export function runDag(args: string[], opts: { cwd?: string } = {}): Promise<DagResult> {
  return runCli(args, { cwd: opts.cwd ?? REPO, env: { DAG_RUNS_DIR: undefined } });
}

/** Per-test timeout for tests that spawn the CLI: a process costs ~0.5 s, far more on a busy machine. */
export const CLI_TIMEOUT = 30_000;

/** A stack trace line, as Node prints them; a user error must never show one. */
export const STACK_LINE = /^\s+at \S/m;
