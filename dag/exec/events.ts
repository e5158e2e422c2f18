import type { StagedStale } from '../plan/plan.js';
import type { LedgerEntry } from '../store/runs.js';

/** Typed facts from the executor: codes and fields, never sentences. Loggers (log/) put them into words. */
export type TaskAction = 'ran' | 'cached' | 'staged' | 'failed' | 'skipped' | 'kept';

/** Why a task failed, as the ledger records it: the message, and where (step, output, column) and which rule. */
export type TaskFailure = NonNullable<LedgerEntry['error']>;

/** Something the run noticed and went on from. */
export type RunWarning =
  | StagedStale
  /** A dead run's lock was taken over (its pid is gone). */
  | { code: 'stale-lock'; pid: number; since: string }
  /** A resumed task's published files no longer match its ledger entry: it reruns. */
  | { code: 'resume-rerun'; task: string; problem: string }
  /** The cache entry for the task's key could not be served (gone, or an object damaged): it reruns. */
  | { code: 'cache-not-served'; task: string; entry: string; problem: string }
  /** The run passed every gate but is not made last-good: these tasks were staged stale (their inputs changed since the base ran them). */
  | { code: 'not-promoted'; stale: string[] };

/** What happens in a run, in order: one fact per event. */
export type ExecEvent =
  /** `estimates`: the last recorded seconds of each task that has them (for the overall ETA). */
  | { type: 'run-start'; runId: string; runDir: string; tasks: number; estimates: Record<string, number>; seed: number; resumed: boolean; parameterHash: string; manifestFingerprint: string }
  | { type: 'task-start'; task: string; state: string; scenario?: string; estimateSeconds?: number }
  | { type: 'task-step'; task: string; step: string; index: number; count: number }
  | { type: 'task-progress'; task: string; fraction?: number; message?: string }
  /** A line the kernel logged (its own words, passed through). */
  | { type: 'task-log'; task: string; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'task-end'; task: string; state: string; action: TaskAction; reason: string; seconds: number; failure?: TaskFailure; gatePassed?: boolean }
  | { type: 'warning'; warning: RunWarning }
  | { type: 'run-end'; runId: string; runDir: string; status: 'succeeded' | 'failed' | 'interrupted'; counts: Record<TaskAction, number>; seconds: number; labels: string[] };

export type Listener = (e: ExecEvent) => void;

export class EventBus {
  private readonly listeners: Listener[] = [];
  /** Subscribes `l`; the function returned unsubscribes it. */
  on(l: Listener): () => void {
    this.listeners.push(l);
    return () => {
      const i = this.listeners.indexOf(l);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }
  emit(e: ExecEvent): void {
    for (const l of this.listeners) l(e);
  }
}
