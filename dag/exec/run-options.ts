// What a run is asked (its request, and how to carry it out) and what it answers.
import type { RunWarning, TaskAction, TaskFailure } from './events.js';
import type { SharedRuns } from './context.js';
import type { RunRequest } from './prepare.js';
import type { Executor } from './runner.js';

export interface RunOptions extends RunRequest {
  jobs: number;
  runId?: string;
  /** Continue this run instead of starting a new one. */
  resume?: string;
  groupId?: string;
  /** The sweep and candidate this run is one of (dag sweep). */
  sweep?: { id: string; candidate: string };
  /** Labels to give the run when it succeeds. */
  labels?: string[];
  /** Do not make a run whose gates all passed `last-good`. */
  noPromote?: boolean;
  /** Last recorded seconds per state, for ETAs. */
  timings?: ReadonlyMap<string, number>;
  /** Where kernels run: local processes (runner.ts LocalExecutor) or a queue of workers. */
  executor: Executor;
  shared?: SharedRuns;
}

export interface RunSummary {
  runId: string;
  runDir: string;
  status: 'succeeded' | 'failed' | 'interrupted';
  counts: Record<TaskAction, number>;
  seconds: number;
  exitCode: number;
  labels: string[];
  warnings: RunWarning[];
  /** Every state that failed, with its failure. */
  failures: { task: string; failure: TaskFailure }[];
}
