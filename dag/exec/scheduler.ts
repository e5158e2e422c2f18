import PQueue from 'p-queue';

/** What the scheduler knows of a task: its key and the keys it waits for. */
export interface Schedulable {
  key: string;
  deps: readonly string[];
}

/** How a task the scheduler started ended: its dependants start, or are skipped; interrupted stops the run (nothing more starts). */
export type Ending = 'succeeded' | 'failed' | 'interrupted';

/** What the scheduler asks of the run: it runs, records and aborts; the scheduler only orders. */
export interface SchedulerHooks<T extends Schedulable> {
  /** Runs the task and records its outcome (ledger, events). */
  run(task: T): Promise<Ending>;
  /** Records the task as skipped with this reason (a task upstream failed or was skipped). */
  skip(task: T, reason: string): void;
  /**
   * Records an error `run` threw as the task's failure. An error thrown from here is the
   * scheduler's own (a full disk under the ledger): the run is aborted and `schedule` rejects with it.
   */
  internalError(task: T, error: unknown): void;
  aborted(): boolean;
  abort(): void;
}

/**
 * Runs `tasks` in dependency order, at most `jobs` at once: a task is queued when its last
 * dependency succeeds and skipped, with everything downstream of it, when one fails or is skipped.
 * Tasks in `settled` (kept by a resume) count as succeeded and are not run. Resolves when every
 * task has ended, or at once when the run is aborted (after the running ones return).
 */
export async function schedule<T extends Schedulable>(tasks: readonly T[], settled: ReadonlySet<string>, jobs: number, hooks: SchedulerHooks<T>): Promise<void> {
  const byKey = new Map(tasks.map((t) => [t.key, t]));
  const queue = new PQueue({ concurrency: Math.max(1, jobs) });
  const dependents = new Map<string, string[]>();
  const waiting = new Map<string, number>();
  const ended = new Map<string, Ending | 'skipped'>();
  for (const t of tasks) {
    if (settled.has(t.key)) continue;
    const deps = t.deps.filter((d) => byKey.has(d) && !settled.has(d));
    waiting.set(t.key, deps.length);
    for (const d of deps) dependents.set(d, [...(dependents.get(d) ?? []), t.key]);
  }
  try {
    await new Promise<void>((resolveAll, rejectAll) => {
      let open = waiting.size;
      // an error of the scheduler's own bookkeeping ends the run with that error, instead of
      // escaping as an unhandled rejection
      let broken = false;
      const guarded = (body: () => void) => {
        if (broken) return;
        try {
          body();
        } catch (e) {
          broken = true;
          hooks.abort();
          rejectAll(e);
        }
      };
      const closeOne = () => {
        if (--open === 0) resolveAll();
      };
      const skip = (key: string, reason: string) => {
        if (ended.has(key)) return;
        ended.set(key, 'skipped');
        hooks.skip(byKey.get(key)!, reason);
        for (const d of dependents.get(key) ?? []) skip(d, `upstream ${key} skipped`);
        closeOne();
      };
      const start = (task: T) => {
        void queue
          .add(async () => {
            if (hooks.aborted()) return;
            const how = await hooks.run(task);
            ended.set(task.key, how);
            // an interrupted task means the run is being stopped: nothing more starts (aborted here,
            // inside the job, so the queue cannot start the next task before we say so)
            if (how === 'interrupted') hooks.abort();
          })
          .catch((e: unknown) =>
            guarded(() => {
              ended.set(task.key, 'failed');
              hooks.internalError(task, e);
            }),
          )
          .finally(() =>
            guarded(() => {
              const how = ended.get(task.key);
              if (hooks.aborted()) return resolveAll(); // running tasks are stopped; onIdle() below waits for them
              if (how === undefined) return closeOne();
              for (const d of dependents.get(task.key) ?? []) {
                if (how === 'failed') skip(d, `upstream ${task.key} failed`);
                else if (!ended.has(d)) {
                  const left = waiting.get(d)! - 1;
                  waiting.set(d, left);
                  if (left === 0) start(byKey.get(d)!);
                }
              }
              closeOne();
            }),
          );
      };
      if (open === 0) return resolveAll();
      for (const [key, n] of waiting) if (n === 0) start(byKey.get(key)!);
      if (hooks.aborted()) resolveAll();
    });
  } finally {
    queue.clear();
    await queue.onIdle();
  }
}
