import type { Command } from 'commander';
import { planRun } from '../plan/plan.js';
import { formatSeconds, globalOptions, openProject, out, printJson, stateIdOrFail, table } from './context.js';

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('preview what `dag run` would do, state by state, without running anything')
    .argument('[states...]', 'target states (default: all); their upstream is included')
    .option('--json', 'print the plan as one JSON document')
    .action((targets: string[], opts: { json?: boolean }, cmd: Command) => {
      const cp = openProject(globalOptions(cmd));
      const plan = planRun(cp, { targets: targets.map((t) => stateIdOrFail(cp, t)) });
      if (opts.json) return printJson(plan);
      out(table(['STATE', 'ACTION', 'REASON', 'ESTIMATE'], plan.states.map((s) => [s.state, s.action, s.reason, s.estimateSeconds === undefined ? '?' : formatSeconds(s.estimateSeconds)])));
      out();
      const unknown = plan.unestimated ? ` (+${plan.unestimated} states never timed)` : '';
      out(`${plan.states.length} states: ${plan.counts.run} run, ${plan.counts.cached} cached, ${plan.counts.stage} stage; estimated ${formatSeconds(plan.estimateSeconds)}${unknown}`);
    });
}
