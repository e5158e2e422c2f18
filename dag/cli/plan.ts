import type { Command } from 'commander';
import { prepareRun } from '../exec/prepare.js';
import { warningJson, warningText } from '../log/words.js';
import { projectRelative, rerunScope, rerunScopeOfFile } from '../graph/select.js';
import { planRun, type Plan } from '../plan/plan.js';
import { DagError } from '../project/diagnostics.js';
import { lastTimings } from '../store/history.js';
import { formatSeconds, globalOptions, openProject, out, printJson, stateIdOrFail, table, tableWidth, wideOption } from './context.js';
import { count } from '../log/format.js';
import { requestOptions, toRequest, type RequestFlags } from './request.js';

interface PlanFlags extends RequestFlags {
  changed?: string;
  json?: boolean;
  wide?: boolean;
}

export function registerPlan(program: Command): void {
  requestOptions(
    program.command('plan').description('preview what `dag run` with the same flags would do, state by state, with reasons and estimates; runs nothing'),
  )
    .option('--changed <state|file>', 'print only the rerun scope that a change in this state or project file would cause')
    .option('--json', 'print the plan as one JSON document')
    .addOption(wideOption())
    .action((targets: string[], flags: PlanFlags, cmd: Command) => {
      const cp = openProject(globalOptions(cmd));
      if (flags.changed !== undefined) {
        const bounds = [targets.length > 0 && 'target states', flags.from !== undefined && '--from', flags.until !== undefined && '--until'].filter(Boolean);
        if (bounds.length) throw new DagError([{ code: 'changed-with-targets', file: '(command line)', message: `--changed ${flags.changed} prints the rerun scope of a change over the whole graph; it takes no ${bounds.join(', ')}`, fix: 'drop them, or drop --changed to plan that run' }]);
        // a path in any form: ./x, absolute, or relative to the current folder
        if (!cp.states.has(flags.changed)) flags.changed = projectRelative(cp.project.root, flags.changed);
        const isFile = ![...cp.states.keys()].includes(flags.changed) && /[/.]/.test(flags.changed) && !/^[^/]*\.S\w*$/.test(flags.changed);
        const scope = isFile ? rerunScopeOfFile(cp, flags.changed) : rerunScope(cp, stateIdOrFail(cp, flags.changed));
        if (isFile && scope.length === 0) throw new DagError([{ code: 'unknown-file', file: '(command line)', message: `no state reads ${flags.changed}`, fix: 'give a file a state reads (input, kernel, kernel_prelude, contract), or a state id' }]);
        if (flags.json) return printJson({ changed: flags.changed, reruns: scope });
        return out(`a change in ${flags.changed} reruns ${count(scope.length, 'state')}: ${scope.join(' -> ')}`);
      }
      const request = toRequest(cp, targets, flags);
      const prep = prepareRun(cp, request);
      // estimates from runs under the same profile (a full-world run does not estimate the dev one)
      const plan = planRun(prep.ctx, prep.tasks, lastTimings(prep.runsDir, request.profile));
      // what the run covers: its targets (arguments or --until; none is every state) and its --from states
      const scope = { targets: request.targets, from: request.from ?? [] };
      if (flags.json) return printJson({ scope, ...planJson(plan) });
      out(table(['STATE', 'ACTION', 'REASON', 'ESTIMATE'], plan.states.map((s) => [s.task, s.action + (s.provisional ? '?' : ''), s.reason, s.action !== 'run' ? '-' : s.estimateSeconds === undefined ? '?' : formatSeconds(s.estimateSeconds)]), { width: tableWidth(flags), free: ['REASON'] }));
      out();
      const unknown = plan.unestimated ? ` (+${plan.unestimated} never timed)` : '';
      const maybe = plan.provisional ? `; run? = ${plan.provisional} may be served from the cache if their upstream outputs come out unchanged` : '';
      out(`${plan.states.length} states: ${plan.counts.run} run, ${plan.counts.cached} cached, ${plan.counts.stage} stage; estimated ${formatSeconds(plan.estimateSeconds)}${unknown}${maybe}`);
      if (scope.targets.length > 0 || scope.from.length > 0) {
        const bounds = [scope.from.length > 0 && `from ${scope.from.join(', ')}`, scope.targets.length > 0 && `until ${scope.targets.join(', ')}`].filter(Boolean).join(' ');
        out(`scope: ${bounds} (${new Set(plan.states.map((s) => s.state)).size} of ${cp.states.size} states)`);
      }
      if (plan.baseRunId) out(`base run: ${plan.baseRunId}`);
      // the words `dag run --from` prints as it stages (plan/plan.ts stagedStale)
      for (const w of plan.warnings) process.stderr.write(`warning: ${warningText(w)}\n`);
    });
}

/** The plan as --json prints it: snake_case, as receipts; warnings with their words. */
function planJson(plan: Plan) {
  const { states, estimateSeconds, baseRunId, warnings, ...totals } = plan;
  return {
    states: states.map(({ estimateSeconds: estimate, ...s }) => ({ ...s, estimate_seconds: estimate })),
    ...totals,
    estimate_seconds: estimateSeconds,
    base_run_id: baseRunId,
    warnings: warnings.map(warningJson),
  };
}

export type PlanJson = ReturnType<typeof planJson>;
