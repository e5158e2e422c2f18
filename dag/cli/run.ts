import { Command, InvalidArgumentError } from 'commander';
import { validateDocumentInputs } from '../contracts/inputs.js';
import type { ViewMode } from '../log/view.js';
import { DagError, Diagnostics } from '../project/diagnostics.js';
import { lastTimings } from '../store/history.js';
import { runsDirOf } from '../store/runs.js';
import { globalOptions, openProject, printJson, stateIdOrFail } from './context.js';

export const parseInteger = (name: string) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return Number(v);
};

interface RunFlags {
  from?: string;
  base?: string;
  cache?: boolean;
  seed?: number;
  scenarios?: string;
  profile?: string;
  jobs: number;
  runId?: string;
  resume?: string;
  quiet?: boolean;
  json?: boolean;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the pipeline (or the given states and what they need) into a fresh run folder')
    .argument('[states...]', 'target states (default: all); their upstream is included')
    .option('--from <state>', 'stage everything not downstream of STATE from the base run (hard links, digests verified), rerun STATE and its dependants')
    .option('--base <run>', 'base run for --from (default: the run labelled last-good, else the newest succeeded run)')
    .option('--no-cache', 'run every state, serving nothing from the cache (results are still cached)')
    .option('--seed <n>', 'seed (default: dag.yaml defaults.seed)', parseInteger('--seed'))
    .option('--scenarios <list>', 'comma-separated scenario ids (default: dag.yaml defaults.scenarios)')
    .option('--profile <name>', 'read the alternates of a dag.yaml profile in place of the originals')
    .option('--jobs <n>', 'states run at once (1 is the memory-safe choice)', parseInteger('--jobs'), 1)
    .option('--run-id <id>', 'use this run id (32 lowercase hex) instead of a random one')
    .option('--resume <run>', 'continue an interrupted or failed run: published states are kept after their digests verify')
    .option('--quiet', 'print only failures and the summary')
    .option('--json', 'print one JSON summary and nothing else')
    .action(async (targets: string[], flags: RunFlags, cmd: Command) => {
      const cp = openProject(globalOptions(cmd));
      if (flags.profile !== undefined && !(flags.profile in cp.project.config.profiles)) {
        throw new DagError([{ code: 'unknown-profile', file: 'dag.yaml', message: `no profile '${flags.profile}' (known: ${Object.keys(cp.project.config.profiles).join(', ') || 'none'})` }]);
      }
      if (flags.resume !== undefined) {
        const clash = [flags.seed !== undefined && '--seed', flags.scenarios !== undefined && '--scenarios', flags.profile !== undefined && '--profile', flags.runId !== undefined && '--run-id', flags.from !== undefined && '--from', targets.length > 0 && 'target states'].filter(Boolean);
        if (clash.length) throw new DagError([{ code: 'resume-flags', file: '(command line)', message: `--resume continues a run as it started; it cannot take ${clash.join(', ')}`, fix: 'drop them, or start a new run' }]);
      }
      const diags = new Diagnostics();
      validateDocumentInputs(cp, diags); // bad input fails before a run folder exists
      diags.throwIfAny();
      const [{ EventBus }, { Execution }, { attachRunLog }, { attachView }] = await Promise.all([import('../exec/events.js'), import('../exec/executor.js'), import('../log/runlog.js'), import('../log/view.js')]);
      const bus = new EventBus();
      const mode: ViewMode = flags.json ? 'json' : flags.quiet ? 'quiet' : process.stdout.isTTY ? 'live' : 'plain';
      const view = attachView(bus, mode);
      const log = attachRunLog(bus);
      const exec = new Execution(cp, {
        targets: targets.map((t) => stateIdOrFail(cp, t)),
        seed: flags.seed,
        scenarios: flags.scenarios?.split(',').map((s) => s.trim()).filter(Boolean),
        profile: flags.profile,
        from: flags.from !== undefined ? stateIdOrFail(cp, flags.from) : undefined,
        base: flags.base,
        noCache: flags.cache === false,
        jobs: flags.jobs,
        runId: flags.runId,
        resume: flags.resume,
        timings: lastTimings(runsDirOf(cp)),
      }, bus);
      const onSignal = (sig: NodeJS.Signals) => {
        process.stderr.write(`\n${sig}: abandoning running states, marking the run interrupted\n`);
        exec.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const summary = await exec.run();
        if (flags.json) printJson(summary);
        process.exitCode = summary.exitCode;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        view.stop();
        await log.close();
      }
    });
}
