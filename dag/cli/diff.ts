import type { Command } from 'commander';
import { EXIT } from '../project/diagnostics.js';
import { latestOutcomes, readLedger, resolveRun } from '../store/runs.js';
import { isPublished } from '../store/verify.js';
import { knownFromFiles } from '../plan/plan.js';
import { globalOptions, openRunStore, out, printJson, table, tableWidth, wideOption } from './context.js';

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('datasets whose digests differ between two runs (exit 1 when any differs)')
    .argument('<run1>', 'run id, unique prefix (4+ characters) or label (last-good)')
    .argument('<run2>', 'run id, unique prefix (4+ characters) or label (last-good)')
    .option('--json', 'print as JSON')
    .addOption(wideOption())
    .action((a: string, b: string, opts: { json?: boolean; wide?: boolean }, cmd: Command) => {
      const { runsDir } = openRunStore(globalOptions(cmd));
      const digests = (text: string) => {
        const run = resolveRun(runsDir, text);
        const m = new Map<string, { state: string; digest: string; rows?: number }>();
        for (const [task, e] of latestOutcomes(readLedger(run.dir))) {
          if (!isPublished(e)) continue;
          const known = knownFromFiles((e.outputs ?? []).filter((o) => !o.dataset.startsWith('(')));
          for (const [ds, d] of known.datasets) m.set(task.includes('@') ? `${ds}@${task.split('@')[1]}` : ds, { state: e.state, digest: d, rows: e.rows?.[ds] });
        }
        return { id: run.id, m };
      };
      const x = digests(a);
      const y = digests(b);
      const names = [...new Set([...x.m.keys(), ...y.m.keys()])].sort();
      const rows = names
        .map((n) => {
          const p = x.m.get(n);
          const q = y.m.get(n);
          const change = !p ? 'only in run2' : !q ? 'only in run1' : p.digest !== q.digest ? 'differs' : 'same';
          return { dataset: n, state: (p ?? q)!.state, change, rows1: p?.rows ?? null, rows2: q?.rows ?? null, digest1: p?.digest ?? null, digest2: q?.digest ?? null };
        });
      const differing = rows.filter((r) => r.change !== 'same');
      if (opts.json) printJson({ run1: x.id, run2: y.id, same: rows.length - differing.length, differences: differing });
      else if (differing.length === 0) out(`no differences: ${rows.length} datasets identical in ${x.id} and ${y.id}`);
      else {
        out(table(['DATASET', 'STATE', 'CHANGE', 'ROWS1', 'ROWS2'], differing.map((r) => [r.dataset, r.state, r.change, String(r.rows1 ?? '-'), String(r.rows2 ?? '-')]), { width: tableWidth(opts) }));
        out(`\n${differing.length} of ${rows.length} datasets differ`);
      }
      process.exitCode = differing.length === 0 ? EXIT.ok : EXIT.failed;
    });
}
