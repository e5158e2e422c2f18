import type { Command } from 'commander';
import { rerunScope, statesOfSegment } from '../graph/select.js';
import { globalOptions, openProject, out, printJson } from './context.js';

export function registerMatrix(program: Command): void {
  program
    .command('matrix')
    .description('the rerun matrix: for each state, the states a change there reruns, in execution order')
    .option('--segment <segment>', 'only the rows of one segment')
    .option('--json', 'print as JSON')
    .action((opts: { segment?: string; json?: boolean }, cmd: Command) => {
      const cp = openProject(globalOptions(cmd));
      const rows = statesOfSegment(cp, opts.segment).map((id) => ({ state: id, scope: cp.states.get(id)!.rerun.scope, reruns: rerunScope(cp, id) }));
      if (opts.json) return printJson(rows);
      const width = Math.max(...rows.map((r) => r.state.length), 5);
      for (const r of rows) out(`${r.state.padEnd(width)}  ${r.reruns.join(' -> ')}${r.scope === 'self' ? '   (rerun.scope: self)' : ''}`);
    });
}
