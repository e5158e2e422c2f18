import { mkdirSync, rmdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { CompiledProject } from '../graph/compile.js';
import type { Task } from '../graph/tasks.js';
import { knownFromFiles, type Known } from '../plan/plan.js';
import { DagError, EXIT } from '../project/diagnostics.js';
import { recordTimings } from '../store/history.js';
import { publishRunInputs, readRunInputs } from '../store/inputs.js';
import { LabelStore } from '../store/labels.js';
import { acquireLock } from '../store/lock.js';
import { writePerf } from '../store/perf.js';
import { fromStatesOf, LedgerWriter, newRunId, RUN_ID, runsDirOf, writeReceipt, type LedgerEntry, type RunReceipt } from '../store/runs.js';
import type { RunContext } from './context.js';
import type { EventBus, RunWarning, TaskAction, TaskFailure } from './events.js';
import { prepareRun, type Prepared, type RunRequest } from './prepare.js';
import { FolderPrefetch } from './prefetch.js';
import { ledgerEntry, outputFolders } from './publish.js';
import { allGatesPassed, inputsIdentity, inputsRecordOf, markFailed, newReceipt, refuseExisting } from './receipt.js';
import { priorRun, resumeTasks } from './resume.js';
import { schedule } from './scheduler.js';
import type { KernelRunner } from './runner.js';
import type { RunOptions, RunSummary } from './run-options.js';
import { attemptDir, runTask } from './task.js';

export type { RunOptions, RunSummary } from './run-options.js';

/** A run in progress: open or resume it, lock it, schedule its tasks, finish its receipt. `abort()` (Ctrl-C, SIGTERM) abandons running states and marks it interrupted. */
export class Execution {
  private readonly pool: KernelRunner;
  private aborted = false;
  private readonly warnings: RunWarning[] = [];
  private readonly failures: { task: string; failure: TaskFailure }[] = [];

  constructor(
    private readonly cp: CompiledProject,
    private readonly opts: RunOptions,
    private readonly bus: EventBus,
  ) {
    this.pool = opts.executor.forRun();
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.pool.close();
  }

  async run(): Promise<RunSummary> {
    const t0 = performance.now();
    const { cp, opts } = this;
    const runsDir = runsDirOf(cp);
    const prior = opts.resume !== undefined ? priorRun(runsDir, opts.resume) : undefined;
    const req: RunRequest = prior
      ? // a resume continues the run as it started: its targets, seed, scenarios, profile, overrides, --from with its base, --no-cache
        { targets: prior.receipt.targets, seed: prior.receipt.seed, scenarios: prior.receipt.scenarios, profile: prior.receipt.profile ?? undefined, overrides: prior.receipt.overrides ?? [], from: fromStatesOf(prior.receipt), base: prior.receipt.staged_from_run_id ?? undefined, noCache: opts.noCache === true || prior.receipt.no_cache === true }
      : opts;
    const prep = prepareRun(cp, req, opts.shared?.cache);
    const { lineage } = prep;
    if (prior && (prior.receipt.parameter_hash !== lineage.parameterHash || prior.receipt.manifest_fingerprint !== lineage.manifestFingerprint)) {
      throw new DagError([{ code: 'resume-changed', file: join(prior.dir, 'run_receipt.json'), message: `the project changed since run ${prior.receipt.run_id} started (its ${prior.receipt.parameter_hash !== lineage.parameterHash ? 'parameter_hash' : 'manifest_fingerprint'} differs), so resuming would mix two versions`, fix: 'start a new run (it serves every state whose inputs did not change from the cache), or restore the inputs the run started with' }], EXIT.refused);
    }
    const runId = prior ? prior.receipt.run_id : (opts.runId ?? newRunId());
    const runDir = join(runsDir, runId);
    if (!prior) {
      if (!RUN_ID.test(runId)) throw new DagError([{ code: 'bad-run-id', file: runsDir, message: `a run id is 32 lowercase hex characters, got '${runId}'` }]); // the CLI checks --run-id first; this guards other callers
      refuseExisting(runDir, runId);
      mkdirSync(join(runDir, 'logs'), { recursive: true });
    }
    const taken: RunWarning[] = [];
    const release = acquireLock(runDir, (stale) => taken.push({ code: 'stale-lock', pid: stale.pid, since: stale.since }));
    const ledger = new LedgerWriter(runDir);
    // kernels may write beneath these only; the folders exist before a kernel needs them (creating
    // a parent of an allowed folder would itself be a write outside)
    const configuredSpill = cp.project.config.duckdb.temp_directory;
    const writable = [join(runDir, TMP), ...(configuredSpill ? [resolve(cp.project.root, configuredSpill)] : [])];
    for (const w of writable) mkdirSync(w, { recursive: true });
    this.pool.confineWrites(writable);
    const unlisten = this.bus.on((e) => {
      // this run's own (a --seeds matrix runs several executions on one bus)
      if (e.type === 'warning') this.warnings.push(e.warning);
      if (e.type === 'task-end' && e.action === 'failed') this.failures.push({ task: e.task, failure: e.failure ?? { message: e.reason } });
    });
    try {
      return await this.execute(prep, ledger, { runDir, runId, prior: prior?.receipt, taken, t0 });
    } catch (e) {
      markFailed(runDir); // an error of the run's own machinery (a full disk under the ledger, say)
      throw e;
    } finally {
      // each step on its own: a full disk failing one (the cache's save, the ledger's last fsync)
      // must not keep the others (the temporary files' removal, the lock's release) from running
      const steps = [() => unlisten(), () => this.pool.close(), () => ledger.close(), () => rmSync(join(runDir, TMP), { recursive: true, force: true }), () => prep.cache.save(), () => release()];
      let first: unknown;
      for (const step of steps) {
        try {
          step();
        } catch (e) {
          first ??= e;
        }
      }
      if (first !== undefined) throw first;
    }
  }

  private async execute(prep: Prepared, ledger: LedgerWriter, ctx: { runDir: string; runId: string; prior: RunReceipt | undefined; taken: RunWarning[]; t0: number }): Promise<RunSummary> {
    const { cp, bus, opts } = this;
    const { runDir, runId } = ctx;
    const { tasks } = prep;
    const receipt = ctx.prior ? { ...ctx.prior, status: 'running' as const, finished_utc: null } : newReceipt(cp, prep, opts, runId);
    writeReceipt(runDir, receipt);
    // a resume has the same lineage (checked above): a run started before inputs.json existed gets it now
    if (!ctx.prior || !readRunInputs(runDir)) publishRunInputs(runDir, prep.cache.dir, inputsIdentity(cp, prep.lineage), () => inputsRecordOf(cp, prep.lineage));
    rmSync(join(runDir, TMP), { recursive: true, force: true });
    const estimates = Object.fromEntries(tasks.flatMap((t) => (opts.timings?.has(t.state.id) ? [[t.key, opts.timings.get(t.state.id)!]] : [])));
    bus.emit({ type: 'run-start', runId, runDir, tasks: tasks.length, estimates, seed: prep.seed, resumed: ctx.prior !== undefined, parameterHash: prep.lineage.parameterHash, manifestFingerprint: prep.lineage.manifestFingerprint });
    for (const w of ctx.taken) bus.emit({ type: 'warning', warning: w });

    const done = new Map<string, LedgerEntry>();
    const known = new Map<string, Known | 'pending'>();
    const counts: Record<TaskAction, number> = { ran: 0, cached: 0, staged: 0, failed: 0, skipped: 0, kept: 0 };
    const run: RunContext = { cp, prep, runDir, ledger, bus, pool: this.pool, flights: opts.shared?.flights ?? new Map(), timings: opts.timings, done, known, dirs: new Set(), aborted: () => this.aborted };
    const succeed = (task: Task, entry: LedgerEntry) => {
      done.set(task.key, entry);
      known.set(task.key, knownFromFiles(entry.outputs ?? [], entry.gate ? (entry.gate.digest ?? null) : undefined));
    };
    const finish = (task: Task, action: TaskAction, entry: Pick<LedgerEntry, 'reason' | 'seconds' | 'error' | 'gate'>) => {
      counts[action]++;
      bus.emit({ type: 'task-end', task: task.key, state: task.state.id, action, reason: entry.reason, seconds: entry.seconds, failure: entry.error, gatePassed: entry.gate?.passed });
    };

    if (ctx.prior) {
      const resumed = await resumeTasks(runDir, tasks, prep);
      for (const { task, entry } of resumed.kept) {
        succeed(task, entry);
        finish(task, 'kept', { reason: 'published before the interruption; digests verified', seconds: 0, gate: entry.gate });
      }
      for (const { task, problem } of resumed.rerun) bus.emit({ type: 'warning', warning: { code: 'resume-rerun', task: task.key, problem } });
    }

    const ahead = tasks.length - done.size >= PREFETCH_MIN ? foldersAhead(runDir, tasks.filter((t) => !done.has(t.key))) : undefined;
    if (ahead) run.prefetch = new FolderPrefetch(ahead.all, ahead.bases);
    await schedule(tasks, new Set(done.keys()), opts.jobs, {
      run: async (task) => {
        const r = await runTask(run, task);
        if (r === 'interrupted') return 'interrupted';
        if (r.action !== 'failed') succeed(task, r.entry);
        finish(task, r.action, r.entry);
        return r.action === 'failed' ? 'failed' : 'succeeded';
      },
      skip: (task, reason) => {
        ledger.append(ledgerEntry(task, { action: 'skipped', reason, seconds: 0 }));
        finish(task, 'skipped', { reason, seconds: 0 });
      },
      internalError: (task, e) => {
        if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw e;
        const message = `${task.state.id}: internal error: ${(e as Error).message}`;
        const entry = ledgerEntry(task, { action: 'failed', reason: message, seconds: 0, error: { message } });
        ledger.append(entry);
        finish(task, 'failed', entry);
      },
      aborted: () => this.aborted,
      abort: () => this.abort(),
    }).finally(async () => {
      // the thread stopped before the run's end is written: no folder appears after it
      if (!run.prefetch) return;
      await run.prefetch.close();
      removeUnusedFolders(run.prefetch, ahead!.parents, done);
    });

    ledger.sync();
    const gateFailed = [...done.values()].some((e) => e.gate && !e.gate.passed);
    const status = this.aborted ? 'interrupted' : counts.failed > 0 || counts.skipped > 0 || gateFailed ? 'failed' : 'succeeded';
    const entries = ledger.entries();
    writePerf(runDir, runId, entries, (state) => cp.states.get(state)?.budgetSeconds);
    recordTimings(prep.runsDir, entries, receipt.profile ?? undefined);
    writeReceipt(runDir, { ...receipt, status, finished_utc: new Date().toISOString() });
    // a run holding staged outputs whose inputs changed since is not what its lineage says: never last-good
    const stale = this.warnings.flatMap((w) => (w.code === 'staged-stale' ? [w.task] : []));
    const promotable = status === 'succeeded' && !opts.noPromote && allGatesPassed(cp, done);
    if (promotable && stale.length > 0) bus.emit({ type: 'warning', warning: { code: 'not-promoted', stale } });
    const promoted = promotable && stale.length === 0;
    const store = new LabelStore(prep.runsDir);
    if (status === 'succeeded') for (const l of [...(opts.labels ?? []), ...(promoted ? ['last-good'] : [])]) store.add(runId, l);
    const seconds = (performance.now() - ctx.t0) / 1000;
    bus.emit({ type: 'run-end', runId, runDir, status, counts, seconds, labels: store.of(runId) });
    return { runId, runDir, status, counts, seconds, exitCode: status === 'succeeded' ? EXIT.ok : status === 'interrupted' ? 130 : EXIT.failed, labels: store.of(runId), warnings: this.warnings, failures: this.failures };
  }
}

const TMP = '.tmp';

/** Below this many tasks to run, a thread making their folders ahead costs more than it saves. */
const PREFETCH_MIN = 64;

/**
 * The folders the tasks' restored outputs pass through, in task order, each after its parent: the
 * run's .tmp, each task's `<base>.out<i>` (`bases`: .tmp/links/<n>/<task>, 64 tasks to a folder,
 * so that the thread makes folders in one while the run renames out of another: a rename waits
 * for a mkdir in the folder it leaves, which cost 14 % of a 10 000-state no-op), and the parents
 * of its output folders (`parents`, per task: what a task that publishes nothing leaves empty).
 */
function foldersAhead(runDir: string, tasks: readonly Task[]): { all: string[]; parents: Map<string, string[]>; bases: Map<string, string> } {
  const seen = new Set<string>([runDir]);
  const all: string[] = [];
  const parents = new Map<string, string[]>();
  const add = (dir: string, mine: string[]): void => {
    if (seen.has(dir)) return;
    add(dirname(dir), mine);
    seen.add(dir);
    all.push(dir);
    mine.push(dir);
  };
  const bases = new Map<string, string>();
  add(join(runDir, TMP), []);
  tasks.forEach((task, n) => {
    const mine: string[] = [];
    const base = join(runDir, TMP, 'links', String(Math.floor(n / 64)), basename(attemptDir(runDir, task)));
    bases.set(task.key, base);
    outputFolders(task).forEach((dir, i) => {
      add(`${base}.out${i}`, []);
      add(dirname(join(runDir, dir)), mine);
    });
    parents.set(task.key, mine);
  });
  return { all, parents, bases };
}

/** The folders made ahead for tasks that did not publish (failed, skipped, not reached), deepest first, when empty. */
function removeUnusedFolders(prefetch: FolderPrefetch, parents: ReadonlyMap<string, string[]>, done: ReadonlyMap<string, unknown>): void {
  for (const [task, dirs] of parents) {
    if (done.has(task)) continue;
    for (const dir of [...dirs].reverse()) {
      if (!prefetch.has(dir)) continue;
      try {
        rmdirSync(dir); // only an empty folder goes
      } catch {
        // it holds another task's outputs
      }
    }
  }
}
