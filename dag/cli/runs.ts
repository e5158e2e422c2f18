import type { Command } from 'commander';
import { DagError } from '../project/diagnostics.js';
import { runRows } from '../store/listing.js';
import { formatBytes } from '../store/size.js';
import { globalOptions, openRunStore, out, printJson, table, tableWidth, wideOption } from './context.js';

export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description('list run folders, newest first')
    .option('--group <id>', 'only the runs of one --seeds matrix')
    .option('--json', 'print as JSON')
    .addOption(wideOption())
    .action((opts: { json?: boolean; wide?: boolean; group?: string }, cmd: Command) => {
      const { runsDir } = openRunStore(globalOptions(cmd));
      const rows = runRows(runsDir, opts.group);
      if (opts.group !== undefined && rows.length === 0) throw new DagError([{ code: 'unknown-group', file: '(command line)', message: `no runs in group '${opts.group}'` }]);
      if (opts.json) return printJson(rows);
      if (rows.length === 0) return out('no runs');
      out(table(['RUN', 'CREATED', 'SEED', 'STATUS', 'LABELS', 'SIZE', 'RAN', 'CACHED', 'STAGED', 'FAILED', 'SECONDS'], rows.map((r) => [r.id, r.created.replace('T', ' ').slice(0, 19), r.seed === null ? '-' : String(r.seed), r.status + (r.pid ? ` (pid ${r.pid})` : ''), r.labels.join(',') || '-', formatBytes(r.bytes), String(r.ran), String(r.cached), String(r.staged), String(r.failed), r.seconds === null ? '-' : r.seconds.toFixed(1)]), { width: tableWidth(opts), free: ['LABELS'] }));
    });
}
