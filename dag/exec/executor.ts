import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { canonicalJson } from '../fingerprint/canonical.js';
import type { CacheKey, KeyComponents } from '../fingerprint/cachekey.js';
import { contentDigest, fileSha256 } from '../fingerprint/digest.js';
import { sha256Hex } from '../fingerprint/canonical.js';
import { streamKey } from '../fingerprint/lineage.js';
import type { CompiledProject, StateNode } from '../graph/compile.js';
import { decide, type Decision } from '../plan/decide.js';
import { knownFromFiles, stagedStale, taskFacts, type Known } from '../plan/plan.js';
import { DagError, EXIT } from '../project/diagnostics.js';
import type { CachedFile } from '../store/cache.js';
import { asciiCompare, buildIndex, bundleDigest, FLAG, flagText, verifyBundle } from '../store/gate.js';
import { recordTimings } from '../store/history.js';
import { linkOrCopy } from '../store/atomic.js';
import { LabelStore } from '../store/labels.js';
import { acquireLock } from '../store/lock.js';
import { entryProblems } from '../store/verify.js';
import { LedgerWriter, latestOutcomes, newRunId, readLedger, overwriteReceiptInPlace, readReceipt, resolveRun, RUN_ID, runsDirOf, writeReceipt, type LedgerEntry, type LedgerOutput, type RunReceipt } from '../store/runs.js';
import type { EventBus, TaskAction } from './events.js';
import type { JobOutput, KernelFailure, KernelJob, KernelResult } from './job.js';
import { KernelPool, type KernelAnswer } from './pool.js';
import { prepareRun, type Prepared, type RunRequest } from './prepare.js';
import { fillPath, outputFile, type Task } from '../graph/tasks.js';
import { schedule } from './scheduler.js';
import { versions } from './versions.js';

/**
 * With DAG_DUMP_JOBS=<dir>, each kernel job is also written there as JSON
 * (`<state>[.<scenario>].json`), so `node dist/dag/exec/worker.js <job.json>` can replay one
 * state's kernel alone, with its exact inputs and variables, to profile it.
 */
function dumpJob(job: KernelJob, task: Task): void {
  const dir = process.env.DAG_DUMP_JOBS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${task.state.id}${task.scenario ? `.${task.scenario}` : ''}.json`), JSON.stringify(job, null, 2));
}

export interface RunOptions extends RunRequest {
  jobs: number;
  runId?: string;
  /** Continue this run instead of starting a new one. */
  resume?: string;
  groupId?: string;
  /** Labels to give the run when it succeeds. */
  labels?: string[];
  /** Do not make a run whose gates all passed `last-good`. */
  noPromote?: boolean;
  /** Last recorded seconds per state, for ETAs. */
  timings?: ReadonlyMap<string, number>;
}

export interface RunSummary {
  runId: string;
  runDir: string;
  status: 'succeeded' | 'failed' | 'interrupted';
  counts: Record<TaskAction, number>;
  seconds: number;
  exitCode: number;
  labels: string[];
  warnings: string[];
  /** Every state that failed, with its error text (for --json). */
  failures: { task: string; error: string }[];
}

const TMP = '.tmp';

type Outcome = { action: 'ran' | 'cached' | 'staged' | 'failed'; entry: LedgerEntry } | 'interrupted';

/** A file about to be published: where it lands (run-relative) and where its bytes are now. */
interface Staged {
  dataset: string;
  template: string;
  rel: string;
  abs: string;
  sha256?: string;
  bytes?: number;
  rows?: number;
}

/** A run in progress. `abort()` (Ctrl-C, SIGTERM) abandons running states and marks it interrupted. */
export class Execution {
  private readonly pool = new KernelPool();
  private aborted = false;
  private ledger!: LedgerWriter;
  private readonly warnings: string[] = [];
  private readonly failures: { task: string; error: string }[] = [];

  constructor(
    private readonly cp: CompiledProject,
    private readonly opts: RunOptions,
    private readonly bus: EventBus,
  ) {}

  /** This run's own warnings and failures (a --seeds matrix runs several executions on one bus). */
  private listen(): () => void {
    return this.bus.on((e) => {
      if (e.type === 'warning') this.warnings.push(e.message);
      if (e.type === 'task-end' && e.action === 'failed') this.failures.push({ task: e.task, error: e.error ?? e.reason });
    });
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
      ? { targets: prior.receipt.targets, seed: prior.receipt.seed, scenarios: prior.receipt.scenarios, profile: prior.receipt.profile ?? undefined, noCache: opts.noCache }
      : opts;
    const prep = prepareRun(cp, req);
    const { lineage } = prep;
    if (prior && (prior.receipt.parameter_hash !== lineage.parameterHash || prior.receipt.manifest_fingerprint !== lineage.manifestFingerprint)) {
      throw new DagError([{ code: 'resume-changed', file: join(prior.dir, 'run_receipt.json'), message: `the project changed since run ${prior.receipt.run_id} started (its ${prior.receipt.parameter_hash !== lineage.parameterHash ? 'parameter_hash' : 'manifest_fingerprint'} differs), so resuming would mix two versions`, fix: 'start a new run (dag run), or restore the inputs the run started with' }]);
    }
    const runId = prior ? prior.receipt.run_id : (opts.runId ?? newRunId());
    const runDir = join(runsDir, runId);
    if (!prior) {
      if (!RUN_ID.test(runId)) throw new DagError([{ code: 'bad-run-id', file: '(command line)', message: `--run-id must be 32 lowercase hex characters, got '${runId}'` }]);
      if (existsSync(runDir)) {
        // the advice must be true: a folder without a receipt cannot be resumed, only removed
        const fix = readReceipt(runDir) ? `continue it with --resume ${runId}, or start a new run` : 'it has no receipt (killed before it started), so it cannot be resumed: dag prune removes it; or start a new run';
        throw new DagError([{ code: 'run-exists', file: runDir, message: `run ${runId} already exists; a run folder is never reused`, fix }], EXIT.refused);
      }
      mkdirSync(join(runDir, 'logs'), { recursive: true });
    }
    const warnings: string[] = [];
    const release = acquireLock(runDir, (stale) => warnings.push(`took over the stale lock of dead pid ${stale.pid} (since ${stale.since})`));
    this.ledger = new LedgerWriter(runDir);
    // kernels may write beneath these only; the folders exist before a kernel needs them (creating
    // a parent of an allowed folder would itself be a write outside)
    const configuredSpill = cp.project.config.duckdb.temp_directory;
    const writable = [join(runDir, TMP), ...(configuredSpill ? [resolve(cp.project.root, configuredSpill)] : [])];
    for (const w of writable) mkdirSync(w, { recursive: true });
    this.pool.confineWrites(writable);
    const unlisten = this.listen();
    try {
      return await this.execute(prep, { runDir, runId, prior: prior?.receipt, warnings, t0 });
    } catch (e) {
      // the run stops on an error of its own machinery (a full disk under the ledger, say): its
      // receipt says failed when the disk still takes that much, so it is not left 'running'
      try {
        const r = readReceipt(runDir);
        if (r && r.status === 'running') {
          const failed = { ...r, status: 'failed' as const, finished_utc: new Date().toISOString() };
          try {
            writeReceipt(runDir, failed);
          } catch {
            overwriteReceiptInPlace(runDir, failed);
          }
        }
      } catch {
        /* the disk took nothing more: dag runs shows a running receipt without its lock as interrupted */
      }
      throw e;
    } finally {
      // each step on its own: a full disk failing one (the cache's save, the ledger's last fsync)
      // must not keep the others (the temporary files' removal, the lock's release) from running
      const steps = [() => unlisten(), () => this.pool.close(), () => this.ledger.close(), () => rmSync(join(runDir, TMP), { recursive: true, force: true }), () => prep.cache.save(), () => release()];
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

  private async execute(prep: Prepared, ctx: { runDir: string; runId: string; prior: RunReceipt | undefined; warnings: string[]; t0: number }): Promise<RunSummary> {
    const { cp, bus } = this;
    const { runDir, runId } = ctx;
    const { lineage, tasks } = prep;
    const v = versions(cp.project.root, cp.project.config.version);
    const receipt: RunReceipt = ctx.prior
      ? { ...ctx.prior, status: 'running', finished_utc: null }
      : {
          run_id: runId,
          created_utc: new Date().toISOString(),
          finished_utc: null,
          status: 'running',
          seed: prep.seed,
          scenarios: prep.scenarios,
          profile: this.opts.profile ?? null,
          targets: this.opts.targets,
          parameter_hash: lineage.parameterHash,
          manifest_fingerprint: lineage.manifestFingerprint,
          staged_from_run_id: prep.base?.id ?? null,
          from_state: this.opts.from ?? null,
          group_id: this.opts.groupId ?? null,
          engine_version: v.engine,
          dag_version: v.dag,
          git_commit: v.git,
          duckdb_version: v.duckdb,
          project: cp.project.config.name,
        };
    writeReceipt(runDir, receipt);
    rmSync(join(runDir, TMP), { recursive: true, force: true });
    bus.emit({ type: 'run-start', runId, runDir, tasks: tasks.length, seed: prep.seed, resumed: ctx.prior !== undefined, parameterHash: lineage.parameterHash, manifestFingerprint: lineage.manifestFingerprint });
    for (const w of ctx.warnings) bus.emit({ type: 'warning', message: w });

    const done = new Map<string, LedgerEntry>(); // succeeded tasks and what they published
    const known = new Map<string, Known | 'pending'>();
    const counts: Record<TaskAction, number> = { ran: 0, cached: 0, staged: 0, failed: 0, skipped: 0, kept: 0 };
    let gateFailed = false;
    const succeed = (task: Task, entry: LedgerEntry) => {
      done.set(task.key, entry);
      known.set(task.key, knownFromFiles(entry.outputs ?? [], entry.gate ? (entry.gate.digest ?? null) : undefined));
      if (entry.gate && !entry.gate.passed) gateFailed = true;
    };
    const finish = (task: Task, action: TaskAction, entry: Pick<LedgerEntry, 'reason' | 'seconds' | 'error' | 'gate'>) => {
      counts[action]++;
      bus.emit({ type: 'task-end', task: task.key, state: task.state.id, action, reason: entry.reason, seconds: entry.seconds, error: entry.error?.message, gatePassed: entry.gate?.passed });
    };

    if (ctx.prior) {
      const previous = latestOutcomes(readLedger(runDir));
      for (const task of tasks) {
        const e = previous.get(task.key);
        if (e && (e.action === 'ran' || e.action === 'cached' || e.action === 'staged')) {
          const bad = await firstMismatch(runDir, e, prep);
          if (!bad) {
            succeed(task, e);
            finish(task, 'kept', { reason: 'published before the interruption; digests verified', seconds: 0, gate: e.gate });
            continue;
          }
          bus.emit({ type: 'warning', message: `${task.key}: ${bad}; it reruns` });
        }
        removeUnpublished(runDir, task); // outputs a crash left behind without a ledger record
      }
    }

    // Scheduling (exec/scheduler.ts): a task is queued when its last dependency succeeds, skipped when one fails.
    await schedule(tasks, new Set(done.keys()), this.opts.jobs, {
      run: async (task) => {
        const r = await this.runTask(task, prep, runDir, done, known);
        if (r === 'interrupted') return 'interrupted';
        if (r.action !== 'failed') succeed(task, r.entry);
        finish(task, r.action, r.entry);
        return r.action === 'failed' ? 'failed' : 'succeeded';
      },
      skip: (task, reason) => {
        this.ledger.append({ ts: new Date().toISOString(), state: task.state.id, scenario: task.scenario, action: 'skipped', reason, seconds: 0 });
        finish(task, 'skipped', { reason, seconds: 0 });
      },
      internalError: (task, e) => {
        if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw e;
        const message = `${task.state.id}: internal error: ${(e as Error).message}`;
        const entry: LedgerEntry = { ts: new Date().toISOString(), state: task.state.id, scenario: task.scenario, action: 'failed', reason: message, seconds: 0, error: { message } };
        this.ledger.append(entry);
        finish(task, 'failed', entry);
      },
      aborted: () => this.aborted,
      abort: () => this.abort(),
    });

    this.ledger.sync();
    const failed = counts.failed > 0 || counts.skipped > 0 || gateFailed;
    const status = this.aborted ? 'interrupted' : failed ? 'failed' : 'succeeded';
    const ledger = readLedger(runDir);
    writePerf(runDir, runId, ledger, cp);
    recordTimings(prep.runsDir, ledger);
    writeReceipt(runDir, { ...receipt, status, finished_utc: new Date().toISOString() });
    const promoted = status === 'succeeded' && !this.opts.noPromote && this.allGatesPassed(done);
    const store = new LabelStore(prep.runsDir);
    if (status === 'succeeded') for (const l of [...(this.opts.labels ?? []), ...(promoted ? ['last-good'] : [])]) store.add(runId, l);
    const seconds = (performance.now() - ctx.t0) / 1000;
    bus.emit({ type: 'run-end', runId, runDir, status, counts, seconds, labels: store.of(runId) });
    return { runId, runDir, status, counts, seconds, exitCode: status === 'succeeded' ? EXIT.ok : status === 'interrupted' ? 130 : EXIT.failed, labels: store.of(runId), warnings: this.warnings, failures: this.failures };
  }

  /** True when the run covered every gate state of the project and each sealed a passing bundle. */
  private allGatesPassed(done: Map<string, LedgerEntry>): boolean {
    const gates = [...this.cp.gates.values()];
    if (gates.length === 0) return false;
    const entries = [...done.values()];
    return gates.every((g) => {
      const mine = entries.filter((e) => e.state === g);
      return mine.length > 0 && mine.every((e) => e.gate?.passed === true);
    });
  }

  /** Decides (the same rule as `dag plan`), then stages, restores from the cache, or runs. */
  private async runTask(task: Task, prep: Prepared, runDir: string, done: Map<string, LedgerEntry>, known: Map<string, Known | 'pending'>): Promise<Outcome> {
    const started = performance.now();
    const { facts, key, components } = taskFacts(prep.ctx, task, known);
    let decision: Decision = decide(facts);
    const remember = () => {
      if (key && components) {
        prep.cache.setLatest(task.key, { key, components });
        if (task.vars.seed !== undefined) prep.cache.setLatest(`${task.key}#${task.vars.seed}`, { key, components });
        for (const f of task.state.fileInputs) {
          const d = prep.lineage.digests.get(f.file)!;
          const doc = prep.documents.get(d);
          if (doc) prep.cache.rememberDocument(d, doc);
        }
      }
    };
    const tmp = join(runDir, TMP, task.key.replace(/[^A-Za-z0-9_.@-]/g, '_'));

    if (decision.action === 'stage') {
      const base = latestOutcomes(readLedger(prep.base!.dir)).get(task.key)!;
      const files: Staged[] = [];
      for (const o of base.outputs ?? []) {
        const abs = join(prep.base!.dir, o.path);
        const actual = await prep.cache.stat.sha256(abs);
        if (actual !== o.sha256) {
          return this.failTask(task, runDir, tmp, started, { message: `cannot stage from base run ${prep.base!.id}: ${o.path} ${actual === undefined ? 'is missing' : 'changed since it was published'}`, rule: 'stage' });
        }
        files.push({ dataset: o.dataset, template: o.template, rel: relocate(o, task), abs, sha256: o.sha256, bytes: o.bytes, rows: o.rows });
      }
      const stale = stagedStale(prep.ctx, task, key, components);
      if (stale) this.bus.emit({ type: 'warning', message: stale });
      // the bundle moves with the files: its path follows this run's variables, not the base's
      const gate = base.gate && task.state.gate ? { ...base.gate, segment: task.state.segment, path: fillPath(task.state.gate.path, task.vars) } : base.gate;
      const entry = this.publishLinked(prep, task, runDir, tmp, files, 'staged', decision.reason, started, gate, key);
      remember();
      return { action: 'staged', entry };
    }

    if (decision.action === 'cached') {
      const entry = prep.cache.lookup(key!);
      const bad = entry ? await prep.cache.firstBadObject(entry) : 'entry vanished';
      if (!entry || bad) {
        prep.cache.drop(key!);
        this.bus.emit({ type: 'warning', message: `${task.key}: cache entry ${key!.slice(0, 12)} not served: ${bad}; the state reruns` });
        decision = { action: 'run', reason: `cache entry not served: ${bad}` };
      } else {
          const files: Staged[] = entry.files.map((f) => ({ dataset: f.dataset, template: f.template, rel: `${fillPath(f.template, task.vars)}/${f.name}`, abs: prep.cache.objectPath(f.sha256), sha256: f.sha256, bytes: f.bytes, rows: f.rows }));
        const gate = entry.gate && task.state.gate ? { segment: task.state.segment, path: fillPath(task.state.gate.path, task.vars), ...entry.gate } : undefined;
        const le = this.publishLinked(prep, task, runDir, tmp, files, 'cached', decision.reason, started, gate, key);
        remember();
        return { action: 'cached', entry: le };
      }
    }

    const changed = changedSinceStart(this.cp, prep, task);
    if (changed) return this.failTask(task, runDir, tmp, started, { message: `${changed} changed after this run started; the run reads one version of the project, so rerun it (dag run --resume ${basename(runDir)} after restoring it, or a new dag run)`, rule: 'changed-during-run', step: 'inputs' });
    const r = await this.runKernel(task, prep, runDir, tmp, done, decision.reason, started, key);
    if (r !== 'interrupted' && r.action === 'ran') {
      remember();
      if (key && components) await this.cacheResult(prep, task, r.entry, key, components, runDir);
    }
    return r;
  }

  private async cacheResult(prep: Prepared, task: Task, entry: LedgerEntry, key: CacheKey, components: KeyComponents, runDir: string): Promise<void> {
    const files: CachedFile[] = (entry.outputs ?? []).map((o) => ({ dataset: o.dataset, template: o.template, name: basename(o.path), sha256: o.sha256, bytes: o.bytes, rows: o.rows }));
    const abs = new Map((entry.outputs ?? []).map((o) => [`${o.template}/${basename(o.path)}`, join(runDir, o.path)]));
    await prep.cache.put({ key, state: task.state.id, scenario: task.scenario ?? null, created_utc: entry.ts, seconds: entry.seconds, components, files, gate: entry.gate ? { passed: entry.gate.passed, digest: entry.gate.digest } : undefined, run_id: basename(runDir) }, abs);
  }

  /** Publishes files that already exist elsewhere (cache objects, a base run) by hard link. */
  private publishLinked(prep: Prepared, task: Task, runDir: string, tmp: string, files: Staged[], action: 'cached' | 'staged', reason: string, started: number, gate: LedgerEntry['gate'], key: CacheKey | undefined): LedgerEntry {
    for (const f of files) {
      const dest = stagedPath(tmp, task, f.rel);
      mkdirSync(dirname(dest), { recursive: true });
      linkOrCopy(f.abs, dest);
      // a new link moves the inode's ctime: re-record the digest just verified, or every later run
      // would rehash the object
      prep.cache.stat.remember(f.abs, f.sha256!);
    }
    this.publishFolders(task, runDir, tmp); // renames every staged folder away: nothing to clean
    const entry: LedgerEntry = {
      ts: new Date().toISOString(),
      state: task.state.id,
      scenario: task.scenario,
      action,
      reason,
      cache_key: key,
      seconds: (performance.now() - started) / 1000,
      rows: rowsByDataset(files),
      bytes: files.reduce((a, f) => a + (f.bytes ?? 0), 0),
      outputs: files.map((f) => ({ dataset: f.dataset, path: f.rel, template: f.template, sha256: f.sha256!, bytes: f.bytes!, rows: f.rows })),
      gate,
    };
    this.ledger.append(entry, false);
    return entry;
  }

  /** One rename per output folder; a folder left by a crash without a ledger record is replaced. */
  private publishFolders(task: Task, runDir: string, outDir: string): void {
    outputFolders(task).forEach((dir, i) => {
      const final = join(runDir, dir);
      if (existsSync(final)) rmSync(final, { recursive: true, force: true });
      mkdirSync(dirname(final), { recursive: true });
      renameSync(`${outDir}.out${i}`, final);
    });
  }

  private failTask(task: Task, runDir: string, tmp: string, started: number, failure: KernelFailure, steps?: KernelResult['steps']): Outcome {
    rmSync(tmp, { recursive: true, force: true });
    const entry: LedgerEntry = { ts: new Date().toISOString(), state: task.state.id, scenario: task.scenario, action: 'failed', reason: failure.message, seconds: (performance.now() - started) / 1000, steps, error: { message: `${task.state.id}: ${failure.message}`, step: failure.step, output: failure.output, column: failure.column, rule: failure.rule } };
    this.ledger.append(entry);
    return { action: 'failed', entry };
  }

  /** Runs the kernel: gates, kernel process, JSON checks, bundle, publish, ledger. */
  private async runKernel(task: Task, prep: Prepared, runDir: string, tmp: string, done: Map<string, LedgerEntry>, reason: string, started: number, key: CacheKey | undefined): Promise<Outcome> {
    const state = task.state;
    rmSync(tmp, { recursive: true, force: true });
    const spill = this.spillDir(task, runDir, tmp);
    mkdirSync(spill, { recursive: true });
    this.bus.emit({ type: 'task-start', task: task.key, state: state.id, scenario: task.scenario, estimateSeconds: this.opts.timings?.get(state.id) });
    const fail = (failure: KernelFailure, steps?: KernelResult['steps']) => this.failTask(task, runDir, tmp, started, failure, steps);

    // 1. Verify every required upstream bundle before the kernel runs.
    const upstreamGates: Record<string, unknown> = {};
    for (const seg of state.requiresPass) {
      const gateState = this.cp.states.get(this.cp.gates.get(seg)!)!;
      const gateEntry = done.get(producerKey(gateState, task));
      const bundleRel = gateEntry?.gate?.path ?? fillPath(gateState.gate!.path, { ...task.vars, seed: gateState.scope === 'world' ? undefined : prep.seed });
      const check = await verifyBundle(join(runDir, bundleRel), gateState.gate!.index);
      if (!check.ok) return fail({ message: `required segment ${seg} is not sealed: ${check.problem}`, rule: 'requires_pass' });
      upstreamGates[seg] = { gate_state: gateState.id, bundle_path: bundleRel, flag_digest: check.digest, files: check.files };
    }

    // 2. The kernel, in its own process.
    let job: KernelJob;
    try {
      job = this.buildJob(task, prep, runDir, done, tmp, upstreamGates);
      dumpJob(job, task);
    } catch (e) {
      return fail({ message: (e as Error).message, step: 'inputs' });
    }
    // made here, not by the kernel: under the permission model a kernel may write beneath .tmp but
    // not create .tmp itself
    mkdirSync(tmp, { recursive: true });
    const result = await this.spawnKernel(task, job);
    if (!spill.startsWith(tmp + '/')) rmSync(spill, { recursive: true, force: true }); // a configured temp_directory: this attempt's own folder in it
    if (result === 'interrupted') {
      rmSync(tmp, { recursive: true, force: true });
      return 'interrupted';
    }
    if ('failure' in result) return fail(result.failure);
    const kernel = result.result;

    // 3. JSON outputs: validate against their JSON Schema, write canonical bytes.
    const outDir = join(tmp, 'out'); // folders are built at `${outDir}.out<i>`
    const files: Staged[] = [];
    for (const o of state.outputs) {
      const rel = outputFile(fillPath(o.path, task.vars), o.dataset, o.format);
      if (o.format === 'json') {
        let doc: unknown;
        try {
          doc = JSON.parse(kernel.docs[o.dataset]!);
        } catch (e) {
          return fail({ message: `output ${o.dataset}: doc is not valid JSON: ${(e as Error).message}`, output: o.dataset, rule: 'json' }, kernel.steps);
        }
        const validate = this.cp.project.contracts.validator(o.schema);
        let valid: boolean;
        try {
          valid = validate(doc) as boolean;
        } catch (e) {
          if (!(e instanceof RangeError)) throw e;
          return fail({ message: `output ${o.dataset}: its contract ${o.schema} applies itself without descending into the data (a $ref cycle through allOf, anyOf, oneOf, not or if)`, output: o.dataset, rule: 'schema-ref' }, kernel.steps);
        }
        if (!valid) {
          const errs = (validate.errors ?? []).slice(0, 5).map((x) => `${x.instancePath || '/'} ${x.message}`).join('; ');
          return fail({ message: `output ${o.dataset} breaks its contract ${o.schema}: ${errs}`, output: o.dataset, rule: 'json-schema' }, kernel.steps);
        }
        const abs = stagedPath(outDir, task, rel);
        mkdirSync(dirname(abs), { recursive: true });
        writeFileSync(abs, JSON.stringify(JSON.parse(canonicalJson(doc)), null, 2) + '\n');
        files.push({ dataset: o.dataset, template: o.path, rel, abs });
      } else {
        // one file, or `<dataset>-NNNN.parquet` in name order when the output was split
        for (const w of kernel.files.filter((f) => f.dataset === o.dataset)) {
          files.push({ dataset: o.dataset, template: o.path, rel: `${posix.dirname(rel)}/${basename(w.file)}`, abs: w.file, rows: w.rows, sha256: w.sha256, bytes: w.bytes });
        }
      }
    }

    // 4. A gate state seals its bundle: index always, flag only on a passing verdict.
    let gate: LedgerEntry['gate'];
    if (state.gate) {
      const bundleRel = fillPath(state.gate.path, task.vars);
      const bundleAbs = dirname(stagedPath(outDir, task, `${bundleRel}/${state.gate.index}`));
      const index = await buildIndex(bundleAbs, state.gate.index);
      writeFileSync(join(bundleAbs, state.gate.index), JSON.stringify(index, null, 2) + '\n');
      files.push({ dataset: '(gate index)', template: state.gate.path, rel: `${bundleRel}/${state.gate.index}`, abs: join(bundleAbs, state.gate.index) });
      let digest: string | undefined;
      if (kernel.gatePassed) {
        digest = await bundleDigest(bundleAbs);
        writeFileSync(join(bundleAbs, FLAG), flagText(digest));
        files.push({ dataset: '(gate flag)', template: state.gate.path, rel: `${bundleRel}/${FLAG}`, abs: join(bundleAbs, FLAG) });
      }
      gate = { segment: state.segment, path: bundleRel, passed: kernel.gatePassed === true, digest };
    }
    for (const f of files) {
      if (f.sha256 === undefined) {
        f.sha256 = await fileSha256(f.abs);
        f.bytes = statSync(f.abs).size;
      }
      chmodSync(f.abs, 0o444); // a published file may share its inode with the cache: never written again
    }
    if (this.aborted) {
      rmSync(tmp, { recursive: true, force: true });
      return 'interrupted';
    }

    // 5. Publish: one rename per output folder, then the ledger line that makes it count.
    this.publishFolders(task, runDir, outDir);
    for (const f of files) prep.cache.stat.remember(join(runDir, f.rel), f.sha256!);
    const entry: LedgerEntry = {
      ts: new Date().toISOString(),
      state: state.id,
      scenario: task.scenario,
      action: 'ran',
      reason,
      cache_key: key,
      seconds: (performance.now() - started) / 1000,
      steps: kernel.steps,
      rows: rowsByDataset(files),
      bytes: files.reduce((a, f) => a + (f.bytes ?? 0), 0),
      outputs: files.map((f) => ({ dataset: f.dataset, path: f.rel, template: f.template, sha256: f.sha256!, bytes: f.bytes!, rows: f.rows })),
      gate,
    };
    this.ledger.append(entry);
    rmSync(tmp, { recursive: true, force: true });
    return { action: 'ran', entry };
  }

  private buildJob(task: Task, prep: Prepared, runDir: string, done: Map<string, LedgerEntry>, tmp: string, upstreamGates: Record<string, unknown>): KernelJob {
    const { cp } = this;
    const { lineage } = prep;
    const root = cp.project.root;
    const state = task.state;
    const variables: KernelJob['variables'] = [
      { name: 'state_id', sqlType: 'VARCHAR', value: state.id },
      { name: 'parameter_hash', sqlType: 'VARCHAR', value: lineage.parameterHash },
      { name: 'manifest_fingerprint', sqlType: 'VARCHAR', value: lineage.manifestFingerprint },
      { name: 'stream_key', sqlType: 'UBIGINT', value: streamKey(state.id, task.vars.seed, task.scenario).toString() },
      { name: 'upstream_gates', sqlType: 'JSON', value: canonicalJson(upstreamGates) },
    ];
    if (task.vars.seed !== undefined) variables.push({ name: 'seed', sqlType: 'BIGINT', value: String(task.vars.seed) });
    if (task.scenario !== undefined) variables.push({ name: 'scenario_id', sqlType: 'VARCHAR', value: task.scenario });
    const csvTables: KernelJob['csvTables'] = [];
    const views: KernelJob['views'] = [];
    const manifest: unknown[] = [];
    for (const f of state.fileInputs) {
      const actual = lineage.resolved.get(f.file) ?? f.file;
      const abs = posix.join(root, actual);
      manifest.push({ kind: 'file', name: f.as, path: f.file, read: actual, role: f.role, schema: f.schema ?? null, sha256: lineage.digests.get(f.file) });
      if (/\.csv$/i.test(actual)) {
        const table = f.schema && cp.project.contracts.kindOf(f.schema) === 'table' ? cp.project.contracts.table(f.schema) : undefined;
        csvTables.push({ name: f.as, path: abs, file: actual, schemaRef: f.schema, table });
      }
      else if (lineage.documents.has(f.file)) variables.push({ name: f.as, sqlType: 'JSON', value: lineage.documents.get(f.file)! });
      else variables.push({ name: f.as, sqlType: 'VARCHAR', value: readFileSync(abs, 'utf8') });
    }
    for (const ds of state.datasetInputs) {
      const producer = cp.states.get(cp.producers.get(ds)!)!;
      const spec = producer.outputs.find((o) => o.dataset === ds)!;
      const entry = done.get(producerKey(producer, task));
      const published = entry?.outputs?.filter((o) => o.dataset === ds) ?? [];
      if (published.length === 0) throw new Error(`input dataset ${ds} has no published files in this run`);
      published.sort((a, b) => asciiCompare(a.path, b.path)); // a split dataset's files in name order, which is row order
      manifest.push({ kind: 'dataset', name: ds, path: posix.dirname(published[0]!.path), schema: spec.schema, files: published.map((p) => ({ path: p.path, sha256: p.sha256 })) });
      if (spec.format === 'json') {
        variables.push({ name: ds, sqlType: 'JSON', value: readFileSync(join(runDir, published[0]!.path), 'utf8') });
      } else {
        const columns = Object.keys(cp.project.contracts.table(spec.schema).columns);
        views.push({ name: ds, format: spec.format, files: published.map((p) => join(runDir, p.path)), columns });
      }
    }
    variables.push({ name: 'inputs_manifest', sqlType: 'JSON', value: canonicalJson(manifest) });
    const outputs: JobOutput[] = state.outputs.map((o) => ({
      dataset: o.dataset,
      format: o.format,
      table: o.format === 'json' ? undefined : cp.project.contracts.table(o.schema),
      orderBy: o.order_by,
      rowsPerFile: cp.project.config.publish.rows_per_file,
      file: stagedPath(join(tmp, 'out'), task, outputFile(fillPath(o.path, task.vars), o.dataset, o.format)),
    }));
    const d = cp.project.config.duckdb;
    return {
      stateId: state.id,
      kernelFile: posix.join(root, state.kernel),
      kernelKind: state.kernel.endsWith('.ts') ? 'ts' : 'sql',
      preludeFiles: cp.project.config.kernel_prelude.map((f) => posix.join(root, f)),
      duckdb: { threads: d.threads, memory_limit: state.manifest.data.duckdb?.memory_limit ?? d.memory_limit, temp_directory: this.spillDir(task, runDir, tmp), ...(d.max_temp_directory_size ? { max_temp_directory_size: d.max_temp_directory_size } : {}), storage: state.manifest.data.duckdb?.storage ?? 'memory' },
      scratchDir: join(tmp, 'scratch'),
      variables,
      csvTables,
      views,
      outputs,
      gate: state.gate !== undefined,
    };
  }

  /**
   * Where this attempt's DuckDB spills: inside the run's .tmp (removed with it), or a folder of
   * its own under a configured `duckdb.temp_directory` (a disk with more room), so that parallel
   * attempts never share spill files.
   */
  private spillDir(task: Task, runDir: string, tmp: string): string {
    const configured = this.cp.project.config.duckdb.temp_directory;
    return configured ? join(resolve(this.cp.project.root, configured), `${basename(runDir)}-${basename(tmp)}`) : join(tmp, 'spill');
  }

  private spawnKernel(task: Task, job: KernelJob): Promise<KernelAnswer> {
    return this.pool.run(job, (m) => {
      if (m.type === 'step') this.bus.emit({ type: 'task-step', task: task.key, step: m.name, index: m.index, count: m.count });
      else if (m.type === 'progress') this.bus.emit({ type: 'task-progress', task: task.key, fraction: m.fraction, message: m.message });
      else if (m.type === 'log') this.bus.emit({ type: 'task-log', task: task.key, level: m.level, message: m.message });
    });
  }
}

/**
 * The first file this task reads from disk (kernel, prelude, CSV and other non-document inputs)
 * whose content differs from what the run saw when it started, if any: an edit during an hour-long
 * run must not give it half old, half new inputs. YAML/JSON inputs and contracts need no check:
 * kernels get the run's snapshot of them.
 */
function changedSinceStart(cp: CompiledProject, prep: Prepared, task: Task): string | undefined {
  const root = cp.project.root;
  if (sha256Hex(readFileSync(posix.join(root, task.state.kernel))) !== prep.ctx.parts.kernelDigest(task.state)) return task.state.kernel;
  const files = [...cp.project.config.kernel_prelude, ...task.state.fileInputs.map((f) => f.file)].filter((f) => !prep.lineage.documents.has(f));
  for (const f of files) {
    const before = prep.lineage.digests.get(f);
    const actual = prep.lineage.resolved.get(f) ?? f;
    if (before !== undefined && existsSync(posix.join(root, actual)) && contentDigest(posix.join(root, actual), actual) !== before) return actual;
    if (before !== undefined && !existsSync(posix.join(root, actual))) return actual;
  }
  return undefined;
}

/** Task key of the instance of `producer` that `task` reads (its own scenario's, if scenario-scoped). */
function producerKey(producer: StateNode, task: Task): string {
  return producer.scope === 'scenario' ? `${producer.id}@${task.scenario}` : producer.id;
}

/** The run-relative folders a task publishes, in a fixed order. */
function outputFolders(task: Task): string[] {
  return [...new Set(task.state.outputs.map((o) => fillPath(o.path, task.vars)))].sort();
}

/** Where a file bound for run-relative `rel` is built: `<tmp>.out<i>/<name>`, i its folder's index. */
function stagedPath(tmp: string, task: Task, rel: string): string {
  const folders = outputFolders(task);
  const i = folders.findIndex((f) => rel.startsWith(f + '/'));
  if (i < 0) throw new Error(`${rel} is outside the output folders of ${task.key}`);
  return join(`${tmp}.out${i}`, rel.slice(folders[i]!.length + 1));
}

/** The run `--resume` names, found only among the runs of runs/ (id, unique prefix or label), never a path. */
function priorRun(runsDir: string, text: string): { dir: string; receipt: RunReceipt } {
  const { id, dir, receipt } = resolveRun(runsDir, text);
  if (receipt.status === 'succeeded') throw new DagError([{ code: 'resume-done', file: join(dir, 'run_receipt.json'), message: `run ${id} already succeeded; nothing to resume` }], EXIT.refused);
  return { dir, receipt };
}

/** Where a base run's file lands in this run: its folder template filled with this run's values. */
function relocate(o: LedgerOutput, task: Task): string {
  return `${fillPath(o.template, task.vars)}/${basename(o.path)}`;
}



/** The first published file of `entry` whose bytes no longer match the ledger, if any (stat cache first). */
async function firstMismatch(runDir: string, entry: LedgerEntry, prep: Prepared): Promise<string | undefined> {
  const [p] = await entryProblems(runDir, entry, (abs) => prep.cache.stat.sha256(abs), true);
  return p && `${p.path} ${p.problem === 'missing' ? 'is missing' : 'changed after publishing'}`;
}

/** Rows per dataset over its files (a split output has several). */
function rowsByDataset(files: Staged[]): Record<string, number> {
  const rows: Record<string, number> = {};
  for (const f of files) if (f.rows !== undefined) rows[f.dataset] = (rows[f.dataset] ?? 0) + f.rows;
  return rows;
}

function removeUnpublished(runDir: string, task: Task): void {
  for (const o of task.state.outputs) rmSync(join(runDir, fillPath(o.path, task.vars)), { recursive: true, force: true });
}

function writePerf(runDir: string, runId: string, ledger: LedgerEntry[], cp: CompiledProject): void {
  const latest = latestOutcomes(ledger);
  const states = [...latest.values()].map((e) => {
    const budget = cp.states.get(e.state)?.budgetSeconds;
    return { state: e.state, scenario: e.scenario, action: e.action, seconds: e.seconds, budget_seconds: budget ?? null, over_budget: budget !== undefined && e.action === 'ran' ? e.seconds > budget : false, steps: e.steps ?? [] };
  });
  mkdirSync(join(runDir, 'reports'), { recursive: true });
  writeFileSync(join(runDir, 'reports', 'perf.json'), JSON.stringify({ run_id: runId, states }, null, 2) + '\n');
}
