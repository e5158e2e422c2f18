import type { CacheKey } from '../fingerprint/cachekey.js';
import type { CompiledProject } from '../graph/compile.js';
import { taskKey, type Task } from '../graph/tasks.js';
import type { Known } from '../plan/plan.js';
import type { CacheStore } from '../store/cache.js';
import type { LedgerEntry, LedgerWriter } from '../store/runs.js';
import type { EventBus } from './events.js';
import type { KernelRunner } from './runner.js';
import type { FolderPrefetch } from './prefetch.js';
import type { Prepared } from './prepare.js';

/** What every task of one run shares: the project, the prepared run, its folder, ledger and events. */
export interface RunContext {
  readonly cp: CompiledProject;
  readonly prep: Prepared;
  readonly runDir: string;
  readonly ledger: LedgerWriter;
  readonly bus: EventBus;
  /** Where this run's kernels run (a local pool, or a queue of workers). */
  readonly pool: KernelRunner;
  /** The `dag run`'s tasks computing a cache key now, across its runs (--seeds): a second run of the same key waits, then is served from the cache. */
  readonly flights: Map<CacheKey, Promise<unknown>>;
  /** Last recorded seconds per state, for ETAs. */
  readonly timings?: ReadonlyMap<string, number>;
  /** The tasks of this run that succeeded, and what they published. */
  readonly done: ReadonlyMap<string, LedgerEntry>;
  /** What each finished task published, as the staleness rule sees it. */
  readonly known: ReadonlyMap<string, Known | 'pending'>;
  /** Folders this run has made or found (each is made once, not once per file). */
  readonly dirs: Set<string>;
  /** The thread making the folders of the tasks ahead (a run of many tasks). */
  prefetch?: FolderPrefetch;
  aborted(): boolean;
}

/** What the runs of one `dag run` running at once (--seeds on workers) share: one cache view, and the keys in flight. */
export interface SharedRuns {
  cache: CacheStore;
  flights: Map<CacheKey, Promise<unknown>>;
}

/** One attempt at one task: the values its stages pass along, as one object. */
export interface Attempt {
  readonly run: RunContext;
  readonly task: Task;
  /** This attempt's private folder under the run's .tmp (outputs are built at `<tmp>.out<i>`). */
  readonly tmp: string;
  /** performance.now() when the attempt began. */
  readonly started: number;
  /** Why the task is acted on (the decision's reason). */
  readonly reason: string;
  readonly key: CacheKey | undefined;
}

/** How an attempt ended: what it did and the ledger entry that records it, or interrupted (nothing recorded). */
export type Outcome = { action: 'ran' | 'cached' | 'staged' | 'failed'; entry: LedgerEntry } | 'interrupted';

/** A file about to be published: where it lands (run-relative) and where its bytes are now. */
export interface Staged {
  dataset: string;
  template: string;
  rel: string;
  abs: string;
  sha256?: string;
  bytes?: number;
  rows?: number;
}

/** Task key of the instance of `producer` that `task` reads (its own scenario's, if scenario-scoped). */
export function producerKey(producer: { id: string; scope: string }, task: Task): string {
  return taskKey(producer.id, producer.scope === 'scenario' ? task.scenario : undefined);
}
