import type { Command } from 'commander';
import { prepareRun } from '../exec/prepare.js';
import { warningJson, warningText } from '../log/words.js';
import { rerunScope, rerunScopeOfFile } from '../graph/select.js';
import { planRun } from '../plan/plan.js';
import { DagError } from '../project/diagnostics.js';
import { lastTimings } from '../store/history.js';
import { formatSeconds, globalOptions, openProject, out, printJson, stateIdOrFail, table } from './context.js';
import { parseInteger } from './run.js';

interface PlanFlags {
  from?: string;
  base?: string;
  seed?: number;
  scenarios?: string;
  profile?: string;
  cache?: boolean;
  changed?: string;
  json?: boolean;
}

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('preview what `dag run` with the same flags would do, state by state, with reasons and estimates; runs nothing')
    .argument('[states...]', 'target states (default: all); their upstream is included')
    .option('--from <state>', 'stage everything not downstream of STATE from the base run, rerun STATE and its dependants')
    .option('--base <run>', 'base run for --from (default: the run labelled last-good, else the newest succeeded run)')
    .option('--seed <n>', 'seed (default: dag.yaml defaults.seed)', parseInteger('--seed'))
    .option('--scenarios <list>', 'comma-separated scenario ids')
    .option('--profile <name>', 'read the alternates of a dag.yaml profile')
    .option('--no-cache', 'plan as if nothing were cached')
    .option('--changed <state|file>', 'print only the rerun scope that a change in this state or project file would cause')
    .option('--json', 'print the plan as one JSON document')
    .action((targets: string[], flags: PlanFlags, cmd: Command) => {
      const cp = openProject(globalOptions(cmd));
      if (flags.changed !== undefined) {
        const isFile = ![...cp.states.keys()].includes(flags.changed) && /[/.]/.test(flags.changed) && !/^[^/]*\.S\w*$/.test(flags.changed);
        const scope = isFile ? rerunScopeOfFile(cp, flags.changed) : rerunScope(cp, stateIdOrFail(cp, flags.changed));
        if (isFile && scope.length === 0) throw new DagError([{ code: 'unknown-file', file: '(command line)', message: `no state reads ${flags.changed}`, fix: 'give a project-relative path as written in a manifest, or a state id' }]);
        if (flags.json) return printJson({ changed: flags.changed, reruns: scope });
        return out(`a change in ${flags.changed} reruns ${scope.length} state(s): ${scope.join(' -> ')}`);
      }
      const prep = prepareRun(cp, {
        targets: targets.map((t) => stateIdOrFail(cp, t)),
        seed: flags.seed,
        scenarios: flags.scenarios?.split(',').map((s) => s.trim()).filter(Boolean),
        profile: flags.profile,
        from: flags.from !== undefined ? stateIdOrFail(cp, flags.from) : undefined,
        base: flags.base,
        noCache: flags.cache === false,
      });
      const plan = planRun(prep.ctx, prep.tasks, lastTimings(prep.runsDir));
      if (flags.json) return printJson({ ...plan, warnings: plan.warnings.map(warningJson) });
      out(table(['STATE', 'ACTION', 'REASON', 'ESTIMATE'], plan.states.map((s) => [s.task, s.action + (s.provisional ? '?' : ''), s.reason, s.action !== 'run' ? '-' : s.estimateSeconds === undefined ? '?' : formatSeconds(s.estimateSeconds)])));
      out();
      const unknown = plan.unestimated ? ` (+${plan.unestimated} never timed)` : '';
      const maybe = plan.provisional ? `; run? = ${plan.provisional} may be served from the cache if their upstream outputs come out unchanged` : '';
      out(`${plan.states.length} states: ${plan.counts.run} run, ${plan.counts.cached} cached, ${plan.counts.stage} stage; estimated ${formatSeconds(plan.estimateSeconds)}${unknown}${maybe}`);
      if (plan.baseRunId) out(`base run: ${plan.baseRunId}`);
      // the words `dag run --from` prints as it stages (plan/plan.ts stagedStale)
      for (const w of plan.warnings) out(`warning: ${warningText(w)}`);
    });
}
