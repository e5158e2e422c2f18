import { Option, type Command } from 'commander';
import { MAX_JOBS } from '../project/names.js';
import { LABEL_PATTERN } from '../store/labels.js';
import type { ViewMode } from '../log/view.js';
import { DagError } from '../project/diagnostics.js';
import { lastTimings } from '../store/history.js';
import { RUN_ID, runsDirOf } from '../store/runs.js';
import type { RunSummary } from '../exec/executor.js';
import type { Executor } from '../exec/runner.js';
import { DEFAULT_QUEUE, redisUrlOf } from '../exec/queue-address.js';
import type { CompiledProject } from '../graph/compile.js';
import type { RunRequest } from '../exec/prepare.js';
import { failureText, warningJson } from '../log/words.js';
import { globalOptions, openProject, out, printJson, table, tableWidth, wideOption } from './context.js';
import { parseInteger, parseSeeds, requestOptions, toRequest, validateInputsOrFail, type RequestFlags } from './request.js';

interface RunFlags extends RequestFlags {
  seeds?: string;
  executor: 'local' | 'bullmq';
  label?: string[];
  promote?: boolean;
  jobs: number;
  runId?: string;
  resume?: string;
  quiet?: boolean;
  json?: boolean;
  wide?: boolean;
}

export function registerRun(program: Command): void {
  requestOptions(
    program.command('run').description('run the pipeline (or the given states and what they need) into a fresh run folder'),
  )
    .option('--seeds <list>', 'a sequential matrix: one run per seed (comma-separated), sharing a group id; world-scoped states run once')
    .option('--label <label>', 'label the run when it succeeds (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--no-promote', 'do not make a run whose gates all passed last-good')
    .option('--jobs <n>', 'states run at once (1 is the memory-safe choice); with --executor bullmq, kernel jobs in flight on the workers', parseInteger('--jobs', 1, MAX_JOBS), 1)
    .addOption(new Option('--executor <kind>', 'where kernels run: local processes, or a BullMQ queue in Redis (DAG_REDIS_URL, or dag.yaml executor.bullmq.redis) that `dag worker` processes take jobs from').choices(['local', 'bullmq']).default('local'))
    .option('--run-id <id>', 'use this run id (32 lowercase hex) instead of a random one')
    .option('--resume <run>', 'continue an interrupted or failed run: published states are kept after their digests verify')
    .addOption(new Option('--quiet', 'print only failures and the summary').conflicts('json'))
    .option('--json', 'print one JSON summary and nothing else')
    .addOption(wideOption())
    .action(async (targets: string[], flags: RunFlags, cmd: Command) => {
      const cp = openProject(globalOptions(cmd));
      if (flags.resume !== undefined) {
        const clash = [flags.seed !== undefined && '--seed', flags.scenarios !== undefined && '--scenarios', flags.profile !== undefined && '--profile', (flags.set ?? []).length > 0 && '--set', flags.runId !== undefined && '--run-id', flags.from !== undefined && '--from', flags.until !== undefined && '--until', targets.length > 0 && 'target states'].filter(Boolean);
        if (clash.length) throw new DagError([{ code: 'resume-flags', file: '(command line)', message: `--resume continues a run as it started; it cannot take ${clash.join(', ')}`, fix: 'drop them, or start a new run' }]);
      }
      if (flags.runId !== undefined && !RUN_ID.test(flags.runId)) throw new DagError([{ code: 'bad-run-id', file: '(command line)', message: `--run-id must be 32 lowercase hex characters, got '${flags.runId}'` }]);
      const badLabel = (flags.label ?? []).find((l) => !LABEL_PATTERN.test(l));
      if (badLabel !== undefined) throw new DagError([{ code: 'bad-label', file: '(command line)', message: `--label '${badLabel}' must be lowercase letters, digits, - or _ (at most 40)` }]);
      const request = toRequest(cp, targets, flags); // the one builder `dag plan` uses too
      await validateInputsOrFail(cp);
      const seeds = flags.seeds !== undefined ? parseSeeds(flags.seeds) : [flags.seed];
      if (flags.seeds !== undefined && (flags.seed !== undefined || flags.resume !== undefined || flags.runId !== undefined)) {
        throw new DagError([{ code: 'seeds-flags', file: '(command line)', message: '--seeds runs one new run per seed; it cannot take --seed, --resume or --run-id' }]);
      }
      const executor = await openExecutor(flags, cp);
      try {
        await runSeeds(cp, request, flags, seeds, executor);
      } finally {
        await executor.close();
      }
    });
}

/** The runs of one `dag run`: one per seed, in turn, or all at once on workers. */
async function runSeeds(cp: CompiledProject, request: RunRequest, flags: RunFlags, seeds: (number | undefined)[], executor: Executor): Promise<void> {
  const [{ EventBus }, { Execution }, { attachRunLog }, { attachView }, { randomBytes }, { CacheStore }] = await Promise.all([import('../exec/events.js'), import('../exec/executor.js'), import('../log/runlog.js'), import('../log/view.js'), import('node:crypto'), import('../store/cache.js')]);
  // on workers the seeds' runs go at once, sharing one cache view: a world-scoped state is
  // computed by one run while the others wait for it, then served from the cache
  const together = executor.kind === 'bullmq' && seeds.length > 1;
  const bus = new EventBus();
  // (the live view draws one run; runs at once print plain lines)
  const mode: ViewMode = flags.json ? 'json' : flags.quiet ? 'quiet' : process.stdout.isTTY && !together ? 'live' : 'plain';
  const view = await attachView(bus, mode);
  // each run's log is its own: runs at once each get a bus of their own, passed on to the view
  const log = together ? undefined : attachRunLog(bus);
  const groupId = flags.seeds !== undefined ? randomBytes(8).toString('hex') : undefined;
  const shared = together ? { cache: new CacheStore(runsDirOf(cp)), flights: new Map() } : undefined;
  const current = new Set<InstanceType<typeof Execution>>();
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    process.stderr.write(`\n${sig}: abandoning running states, marking the run interrupted\n`);
    interrupted = sig;
    for (const e of current) e.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const runOne = async (seed: number | undefined) => {
    const own = together ? new EventBus() : bus;
    if (own !== bus) own.on((e) => bus.emit(e));
    const ownLog = own !== bus ? attachRunLog(own) : undefined;
    const execution = new Execution(cp, {
      ...request,
      seed,
      jobs: flags.jobs,
      runId: flags.runId,
      resume: flags.resume,
      groupId,
      labels: flags.label,
      noPromote: flags.promote === false,
      timings: lastTimings(runsDirOf(cp), request.profile),
      executor,
      shared,
    }, own);
    current.add(execution);
    try {
      return summaryJson(seed ?? cp.project.config.defaults.seed, await execution.run());
    } finally {
      current.delete(execution);
      await ownLog?.close();
    }
  };
  const summaries: ReturnType<typeof summaryJson>[] = [];
  try {
    if (together) summaries.push(...(await Promise.all(seeds.map(runOne))));
    else {
      for (const seed of seeds) {
        if (interrupted) break;
        summaries.push(await runOne(seed));
      }
    }
    // 128 + the signal's number, as a shell reports it: 130 for SIGINT, 143 for SIGTERM
    const exitCode = interrupted ? (interrupted === 'SIGTERM' ? 143 : 130) : Math.max(0, ...summaries.map((x) => x.exit_code));
    if (flags.json) printJson(groupId ? { group_id: groupId, runs: summaries, exit_code: exitCode } : summaries[0]);
    else if (groupId) {
      out(`\ngroup ${groupId}: ${summaries.length} runs`);
      out(table(['SEED', 'RUN', 'STATUS', 'RAN', 'CACHED', 'SECONDS'], summaries.map((x) => [String(x.seed), x.run_id, x.status, String(x.counts.ran), String(x.counts.cached), x.seconds.toFixed(1)]), { width: tableWidth(flags) }));
      out(`report: dag report --group ${groupId}`);
    }
    process.exitCode = exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    view.stop();
    await log?.close();
  }
}

/** The executor `--executor` names: local processes, or the queue (checked reachable before any run folder exists). */
async function openExecutor(flags: RunFlags, cp: CompiledProject): Promise<Executor> {
  if (flags.executor !== 'bullmq') {
    const { LocalExecutor } = await import('../exec/runner.js');
    return new LocalExecutor();
  }
  const bullmq = cp.project.config.executor?.bullmq;
  const url = redisUrlOf(undefined, bullmq?.redis, bullmq?.redis !== undefined ? 'dag.yaml' : '(environment)');
  const queue = bullmq?.queue ?? DEFAULT_QUEUE;
  const { QueueExecutor } = await import('../exec/queue.js');
  const executor = await QueueExecutor.open(url, queue, flags.jobs);
  if ((await executor.workers()) === 0) process.stderr.write(`warning: no dag worker is connected to queue ${queue} yet; its jobs wait until one starts (dag worker)\n`);
  return executor;
}

/** A run's summary as --json prints it (snake_case, as receipts): warnings as facts with their words, failures with the structured failure and its text. */
function summaryJson(seed: number, s: RunSummary) {
  return {
    seed,
    run_id: s.runId,
    run_dir: s.runDir,
    status: s.status,
    counts: s.counts,
    seconds: s.seconds,
    exit_code: s.exitCode,
    labels: s.labels,
    warnings: s.warnings.map(warningJson),
    failures: s.failures.map((f) => ({ task: f.task, error: failureText(f.failure), failure: f.failure })),
  };
}
