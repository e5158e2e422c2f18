import type { Command } from 'commander';
import { latestOutcomes, readLedger, resolveRun, type LedgerEntry } from '../store/runs.js';
import { formatSeconds, globalOptions, openRunStore, tryOpenProject, out, printJson, table, tableWidth, wideOption } from './context.js';

export function registerPerf(program: Command): void {
  program
    .command('perf')
    .description('per state and step timings of a run, against budgets, optionally compared with another run')
    .argument('<run>', 'run id, unique prefix (4+ characters) or label (last-good)')
    .option('--vs <run2>', 'compare with this run (ratio = run / run2)')
    .option('--json', 'print as JSON')
    .addOption(wideOption())
    .action((text: string, opts: { vs?: string; json?: boolean; wide?: boolean }, cmd: Command) => {
      const global = globalOptions(cmd);
      const { runsDir } = openRunStore(global);
      const cp = tryOpenProject(global); // budgets, when the manifests compile
      const run = resolveRun(runsDir, text);
      const ran = (dir: string) => new Map([...latestOutcomes(readLedger(dir))].filter(([, e]) => e.action === 'ran'));
      const a = ran(run.dir);
      const b = opts.vs ? ran(resolveRun(runsDir, opts.vs).dir) : undefined;
      const rows: { state: string; step: string | null; seconds: number; vs: number | null; ratio: number | null; budget: number | null; over: boolean }[] = [];
      const stepOf = (e: LedgerEntry | undefined, name: string) => e?.steps?.find((s) => s.name === name)?.seconds;
      for (const [key, e] of a) {
        const other = b?.get(key);
        const budget = cp?.states.get(e.state)?.budgetSeconds ?? null;
        rows.push({ state: key, step: null, seconds: e.seconds, vs: other?.seconds ?? null, ratio: other ? e.seconds / other.seconds : null, budget, over: budget !== null && e.seconds > budget });
        for (const s of e.steps ?? []) {
          const o = stepOf(other, s.name);
          rows.push({ state: key, step: s.name, seconds: s.seconds, vs: o ?? null, ratio: o ? s.seconds / o : null, budget: null, over: false });
        }
      }
      if (opts.json) return printJson({ run: run.id, vs: opts.vs ?? null, rows });
      if (a.size === 0) {
        // a run served from the cache (or staged) ran no kernel: say so, and where its timings are
        const by = new Map<string, number>();
        for (const e of latestOutcomes(readLedger(run.dir)).values()) by.set(e.action, (by.get(e.action) ?? 0) + 1);
        return out(`no state ran in run ${run.id} (${[...by].map(([k, n]) => `${n} ${k}`).join(', ') || 'nothing recorded'}): its outputs came from the cache or a base run, whose runs hold the timings (dag runs)`);
      }
      out(table(['STATE', 'STEP', 'SECONDS', ...(b ? ['VS', 'RATIO'] : []), 'BUDGET'], rows.map((r) => [r.step ? '' : r.state, r.step ?? '(total)', formatSeconds(r.seconds), ...(b ? [r.vs === null ? '-' : formatSeconds(r.vs), r.ratio === null ? '-' : r.ratio.toFixed(2) + 'x'] : []), r.budget === null ? '' : `${formatSeconds(r.budget)}${r.over ? ' OVER' : ''}`]), { width: tableWidth(opts) }));
    });
}
