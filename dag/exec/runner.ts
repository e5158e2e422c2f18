import type { KernelAnswer, KernelJob, WorkerMessage } from './job.js';
import { KernelPool } from './pool.js';

/** Which job a run hands a runner: its id on a queue and the attempt folder its outputs go under. */
export interface JobAddress {
  /** The cache key (the same work has the same id everywhere), or the run and task when it has none. */
  id: string;
  /** The attempt's folder under the run's .tmp (exists before the job is handed over). */
  attempt: string;
  runId: string;
}

/** Runs one run's kernel jobs. Closing it interrupts that run's running jobs (they answer 'interrupted'), no other run's. */
export interface KernelRunner {
  /** Kernels of this run may write only beneath these folders. */
  confineWrites(folders: string[]): void;
  run(job: KernelJob, onMessage: (m: WorkerMessage) => void, at: JobAddress): Promise<KernelAnswer>;
  close(): void;
}

/**
 * Where kernels run (ORCHESTRATOR.md §11a): `local`, a pool of kernel processes per run, or
 * `bullmq`, a Redis queue that `dag worker` processes take jobs from. The coordinator decides,
 * verifies, publishes and caches the same way for both.
 */
export interface Executor {
  readonly kind: 'local' | 'bullmq';
  /** The runner of one run. */
  forRun(): KernelRunner;
  /** Releases what the executor holds (connections), once every run has ended. */
  close(): Promise<void>;
}

/** The default executor: each run forks its own kernel processes on this machine. */
export class LocalExecutor implements Executor {
  readonly kind = 'local';
  forRun(): KernelRunner {
    return new KernelPool();
  }
  async close(): Promise<void> {}
}
