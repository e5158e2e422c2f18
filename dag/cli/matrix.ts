import type { Command } from 'commander';
import { rerunScope, upstreamOf } from '../graph/select.js';
import { globalOptions, openProject, out, printJson } from './context.js';
import { shownStates, targetOptions, type TargetFlags } from './targets.js';

interface MatrixFlags extends TargetFlags {
  segment?: string;
  json?: boolean;
}

export function registerMatrix(program: Command): void {
  targetOptions(
    program
      .command('matrix')
      .description('the rerun matrix: for each state, the states a change there reruns, in execution order')
      .argument('[states...]', 'only the rows of these states'),
  )
    .option('--segment <segment>', 'only the rows of one segment')
    .option('--json', 'print as JSON')
    .action((states: string[], flags: MatrixFlags, cmd: Command) => {
      const cp = openProject(globalOptions(cmd));
      const { shown, targets } = shownStates(cp, states, flags);
      // under --until a change reruns only what `dag run --until` would run
      const cap = targets.until ? upstreamOf(cp, targets.until) : undefined;
      const rows = shown.map((id) => ({ state: id, scope: cp.states.get(id)!.rerun.scope, reruns: rerunScope(cp, id).filter((s) => !cap || cap.has(s)) }));
      if (flags.json) return printJson(rows);
      const width = Math.max(...rows.map((r) => r.state.length), 5);
      for (const r of rows) out(`${r.state.padEnd(width)}  ${r.reruns.join(' -> ')}${r.scope === 'self' ? '   (rerun.scope: self)' : ''}`);
    });
}
