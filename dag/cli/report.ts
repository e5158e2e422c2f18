import type { Command } from 'commander';
import { DagError } from '../project/diagnostics.js';
import { crossRunReport } from '../store/report.js';
import { listRuns, runsDirOf } from '../store/runs.js';
import { globalOptions, openProject, out, printJson, table } from './context.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description("cross-seed report of a --seeds group: every numeric check value in the runs' validation reports, per seed, with mean, standard deviation and coefficient of variation")
    .requiredOption('--group <id>', 'group id printed by dag run --seeds (see dag runs)')
    .option('--json', 'print as JSON')
    .action((opts: { group: string; json?: boolean }, cmd: Command) => {
      const cp = openProject(globalOptions(cmd));
      const runs = listRuns(runsDirOf(cp))
        .filter((r) => r.receipt.group_id === opts.group)
        .reverse(); // in the order they ran
      if (runs.length === 0) throw new DagError([{ code: 'unknown-group', file: '(command line)', message: `no runs in group '${opts.group}'`, fix: 'see dag runs for group ids' }]);
      const rows = crossRunReport(runs);
      if (opts.json) return printJson({ group: opts.group, runs: runs.map((r) => ({ run: r.id, seed: r.receipt.seed, status: r.receipt.status })), metrics: rows });
      const f = (v: number | null) => (v === null ? '-' : Math.abs(v) >= 1000 || (Math.abs(v) < 0.001 && v !== 0) ? v.toExponential(3) : Number(v.toFixed(4)).toString());
      out(`group ${opts.group}: ${runs.map((r) => `seed ${r.receipt.seed} (${r.receipt.status})`).join(', ')}`);
      out(table(['METRIC', ...runs.map((r) => `SEED ${r.receipt.seed}`), 'MEAN', 'STD', 'CV'], rows.map((x) => [x.metric, ...x.values.map(f), f(x.mean), f(x.std), f(x.cv)])));
    });
}
