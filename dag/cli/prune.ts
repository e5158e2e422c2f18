import type { Command } from 'commander';
import { executePrune, lockForPrune, planPrune } from '../store/prune.js';
import { resolveRun } from '../store/runs.js';
import { readSweep } from '../store/sweeps.js';
import { formatBytes } from '../store/size.js';
import { count } from '../log/format.js';
import { globalOptions, openRunStore, out, printJson, table, tableWidth, wideOption } from './context.js';

interface PruneFlags {
  yes?: boolean;
  failed?: boolean;
  keep?: string[];
  dropLabel?: string[];
  dropSweep?: string[];
  json?: boolean;
  wide?: boolean;
}

export function registerPrune(program: Command): void {
  program
    .command('prune')
    .description("free disk: delete runs outside the keep-set (dag.yaml retention) and cache objects no kept run uses; a dry run unless --yes")
    .option('--yes', 'delete what the dry run lists')
    .option('--failed', 'delete only failed and interrupted runs')
    .option('--keep <run>', 'keep this run too (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--drop-label <label>', 'runs with this label are no longer kept for it (repeatable; every other label keeps its runs)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--drop-sweep <sweep>', "the sweep's best candidate is no longer kept for being its best (repeatable; a sweep's other candidates always go)", (v: string, acc: string[] = []) => [...acc, v])
    .option('--json', 'print as JSON')
    .addOption(wideOption())
    .action((flags: PruneFlags, cmd: Command) => {
      const { runsDir, config } = openRunStore(globalOptions(cmd));
      const r = config.retention;
      const keep = (flags.keep ?? []).map((k) => resolveRun(runsDir, k).id);
      // a deleting prune plans under its lock, so that what it deletes is what it planned
      const takenOver: number[] = [];
      const release = flags.yes ? lockForPrune(runsDir, (pid) => takenOver.push(pid)) : undefined;
      let plan: ReturnType<typeof planPrune>;
      let done: ReturnType<typeof executePrune> | undefined;
      const skipped: { run: string; why: string }[] = [];
      try {
        plan = planPrune(runsDir, { keepLabels: r.keep_labels, dropLabels: flags.dropLabel ?? [], keepLast: r.keep_last, failedOnly: flags.failed === true, keep, dropSweeps: (flags.dropSweep ?? []).map((s) => readSweep(runsDir, s).sweep_id) });
        done = flags.yes ? executePrune(runsDir, plan, (run, why) => skipped.push({ run, why })) : undefined;
      } finally {
        release?.();
      }
      for (const pid of takenOver) process.stderr.write(`took over the stale prune lock of dead pid ${pid}\n`);
      if (flags.json) return printJson({ dry_run: !flags.yes, rows: plan.rows, cache: plan.cache, free_bytes: plan.freeBytes, deleted: done ?? null, skipped });
      if (plan.rows.length === 0) out('no runs');
      else out(table(['RUN', 'CREATED', 'STATUS', 'LABELS', 'ACTION', 'REASON', 'SIZE'], plan.rows.map((x) => [x.run, x.created.replace('T', ' ').slice(0, 19), x.status, x.labels.join(',') || '-', x.action, x.reason, formatBytes(x.bytes)]), { width: tableWidth(flags), free: ['REASON', 'LABELS'] }));
      const del = plan.rows.filter((x) => x.action === 'DELETE').length;
      out(`\ncache: ${plan.cache.entries.length} entries and ${plan.cache.objects.length} objects that no kept run uses`);
      out(`${flags.yes ? 'freed' : 'would free'} ${formatBytes(plan.freeBytes)}${plan.freeBytes >= 1024 ? ` (${plan.freeBytes} bytes)` : ''} by deleting ${count(del, 'run')}${flags.yes ? '' : '; run with --yes to delete'}`);
      for (const s of skipped) out(`skipped ${s.run}: ${s.why}`);
    });
}
