import type { Command } from 'commander';
import { DagError } from '../project/diagnostics.js';
import { LabelStore } from '../store/labels.js';
import { lockHolder } from '../store/lock.js';
import { latestOutcomes, listOrphans, listRuns, readLedger } from '../store/runs.js';
import { diskUsage, formatBytes } from '../store/size.js';
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
      const labels = new LabelStore(runsDir);
      const runs = listRuns(runsDir).filter((r) => opts.group === undefined || r.receipt.group_id === opts.group);
      if (opts.group !== undefined && runs.length === 0) throw new DagError([{ code: 'unknown-group', file: '(command line)', message: `no runs in group '${opts.group}'` }]);
      const rows = runs.map((r) => {
        const outcomes = [...latestOutcomes(readLedger(r.dir)).values()];
        const count = (a: string) => outcomes.filter((e) => e.action === a).length;
        const holder = lockHolder(r.dir);
        // a run whose receipt says running but whose process is gone was interrupted
        const status = r.receipt.status === 'running' && holder === undefined ? 'interrupted' : r.receipt.status;
        const end = r.receipt.finished_utc ? Date.parse(r.receipt.finished_utc) : undefined;
        return {
          id: r.id,
          created: r.receipt.created_utc,
          seed: r.receipt.seed as number | null,
          status: status as string,
          pid: holder ?? null,
          labels: labels.of(r.id),
          group: r.receipt.group_id,
          bytes: diskUsage(r.dir),
          ran: count('ran'),
          cached: count('cached'),
          staged: count('staged'),
          failed: count('failed'),
          seconds: end !== undefined ? (end - Date.parse(r.receipt.created_utc)) / 1000 : null,
        };
      });
      // folders a killed run left before its receipt: listed (and removed by dag prune), never resumable
      if (opts.group === undefined) {
        for (const o of listOrphans(runsDir)) {
          const holder = lockHolder(o.dir);
          rows.push({ id: o.id, created: o.modified, seed: null, status: holder !== undefined || o.recent ? 'starting' : 'incomplete', pid: holder ?? null, labels: labels.of(o.id), group: null, bytes: diskUsage(o.dir), ran: 0, cached: 0, staged: 0, failed: 0, seconds: null });
        }
      }
      if (opts.json) return printJson(rows);
      if (rows.length === 0) return out('no runs');
      out(table(['RUN', 'CREATED', 'SEED', 'STATUS', 'LABELS', 'SIZE', 'RAN', 'CACHED', 'STAGED', 'FAILED', 'SECONDS'], rows.map((r) => [r.id, r.created.replace('T', ' ').slice(0, 19), r.seed === null ? '-' : String(r.seed), r.status + (r.pid ? ` (pid ${r.pid})` : ''), r.labels.join(',') || '-', formatBytes(r.bytes), String(r.ran), String(r.cached), String(r.staged), String(r.failed), r.seconds === null ? '-' : r.seconds.toFixed(1)]), { width: tableWidth(opts), free: ['LABELS'] }));
    });
}
