import type { Command } from 'commander';
import { DagError, EXIT } from '../project/diagnostics.js';
import { crossRunReport } from '../store/report.js';
import { listRuns, runsDirOf } from '../store/runs.js';
import { globalOptions, openProject, out, printJson, table } from './context.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description("cross-seed report of a --seeds group: every numeric check value in the runs' validation reports, per seed, with mean, standard deviation and coefficient of variation")
    .requiredOption('--group <id>', 'group id printed by dag run --seeds (see dag runs)')
    .option('--metrics <regex>', 'only the metrics whose name matches this regular expression')
    .option('--max-cv <x>', 'exit 1 when a metric (of those shown) has a coefficient of variation above x', (v) => Number(v))
    .option('--json', 'print as JSON')
    .action((opts: { group: string; json?: boolean; metrics?: string; maxCv?: number }, cmd: Command) => {
      const cp = openProject(globalOptions(cmd));
      const runs = listRuns(runsDirOf(cp))
        .filter((r) => r.receipt.group_id === opts.group)
        .reverse(); // in the order they ran
      if (runs.length === 0) throw new DagError([{ code: 'unknown-group', file: '(command line)', message: `no runs in group '${opts.group}'`, fix: 'see dag runs for group ids' }]);
      let filter: RegExp | undefined;
      try {
        filter = opts.metrics !== undefined ? new RegExp(opts.metrics) : undefined;
      } catch (e) {
        throw new DagError([{ code: 'bad-regex', file: '(command line)', message: `--metrics: ${(e as Error).message}` }]);
      }
      if (opts.maxCv !== undefined && !(opts.maxCv >= 0)) throw new DagError([{ code: 'bad-max-cv', file: '(command line)', message: '--max-cv takes a non-negative number' }]);
      const rows = crossRunReport(runs).filter((r) => !filter || filter.test(r.metric));
      const above = opts.maxCv === undefined ? [] : rows.filter((r) => r.cv !== null && r.cv > opts.maxCv!);
      process.exitCode = above.length ? EXIT.failed : EXIT.ok;
      if (opts.json) return printJson({ group: opts.group, runs: runs.map((r) => ({ run: r.id, seed: r.receipt.seed, status: r.receipt.status })), metrics: rows, max_cv: opts.maxCv ?? null, above_max_cv: above.map((r) => r.metric) });
      const f = (v: number | null) => (v === null ? '-' : Math.abs(v) >= 1000 || (Math.abs(v) < 0.001 && v !== 0) ? v.toExponential(3) : Number(v.toFixed(4)).toString());
      out(`group ${opts.group}: ${runs.map((r) => `seed ${r.receipt.seed} (${r.receipt.status})`).join(', ')}`);
      out(table(['METRIC', ...runs.map((r) => `SEED ${r.receipt.seed}`), 'MEAN', 'STD', 'CV'], rows.map((x) => [x.metric, ...x.values.map(f), f(x.mean), f(x.std), f(x.cv)])));
      if (opts.maxCv !== undefined) out(above.length ? `\n${above.length} metric(s) above CV ${opts.maxCv}: ${above.map((r) => r.metric).join(', ')}` : `\nevery CV is at most ${opts.maxCv} (max ${f(Math.max(0, ...rows.map((r) => r.cv ?? 0)))})`);
    });
}
