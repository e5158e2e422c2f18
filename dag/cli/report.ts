import type { Command } from 'commander';
import { DagError, EXIT } from '../project/diagnostics.js';
import type { Band, Certification, SeedCell } from '../store/certify.js';
import { certifyRuns } from '../store/groupquery.js';
import { crossRunReport, reportsOfRun } from '../store/report.js';
import { listRuns, resolveRun, runsDirOf } from '../store/runs.js';
import { formatBytes } from '../store/size.js';
import { formatNumber, globalOptions, openProject, out, printJson, table, tableWidth, wideOption, type TableLayout } from './context.js';

const f = formatNumber;
const band = ([lo, hi]: Band) => `[${lo === null ? '-' : f(lo)}, ${hi === null ? '-' : f(hi)}]`;
/** A gate in one seed: its value, with its status when it is not PASS. */
const cell = (c: SeedCell) => (c.status === 'PENDING' || c.status === 'MISSING' ? c.status : c.status === 'PASS' ? f(c.value) : `${f(c.value)} ${c.status}`);

function printCertification(c: Certification, layout: TableLayout): void {
  out(`\ncertification of ${c.report} (segment ${c.segment}): ${c.verdict}`);
  out(`${c.gate} = the largest CV (sample std / |mean|) of ${c.key_rates.length} key rate(s) over seeds ${c.seeds.join(', ')}`);
  const seedCols = c.seeds.map((s) => `SEED ${s}`);
  out(
    table(
      ['GATE', 'B', 'B+', ...seedCols, 'CERTIFIED', 'STATUS'],
      c.gates.map((g) => [g.id, band(g.band_b), band(g.band_bplus), ...g.seeds.map(cell), g.cross_seed ? f(g.value) : '-', g.status]),
      layout,
    ),
  );
  out('');
  out(table(['KEY RATE', ...seedCols, 'MEAN', 'STD', 'CV'], c.key_rates.map((k) => [k.id, ...k.values.map(f), f(k.mean), f(k.std), f(k.cv)]), layout));
  for (const n of c.notes) out(`note: ${n}`);
  out(c.reasons.length ? `verdict ${c.verdict}:\n${c.reasons.map((r) => `  - ${r}`).join('\n')}` : `verdict ${c.verdict}`);
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      "cross-seed report of a --seeds group: every numeric check value in the runs' validation reports, per seed, with mean, standard deviation and coefficient of variation; " +
        'and for every report that declares cross_seed {gate, seeds, key_rates}, a certification: the cross-seed gate = the largest CV of the key rates over the declared seeds, graded against its bands, ' +
        'every other gate per seed, verdict PASS_BPLUS | PASS_B | HOLD_REMEDIATE (held while a declared seed, a key rate or a pending gate is unmeasured, or a gate fails B). ' +
        'Exit 1 when a certification is HOLD_REMEDIATE or a CV exceeds --max-cv, else 0. ' +
        'With --html FILE [RUN]: the dashboard of dag ui as one offline HTML file instead',
    )
    .argument('[run]', 'with --html: the run the page shows first (id, prefix or label; default: the newest)')
    .option('--group <id>', 'group id printed by dag run --seeds (see dag runs), a unique prefix of 4+ characters, or a run (id, prefix or label) of the group')
    .option('--html <file>', "write the dashboard of `dag ui` (graph, runs, the run's timeline, perf, gateboards, certification) as one self-contained HTML file that opens offline")
    .option('--metrics <regex>', 'only the metrics whose name matches this regular expression (the certification is not filtered)')
    .option('--max-cv <x>', 'exit 1 when a metric (of those shown) has a coefficient of variation above x', (v) => Number(v))
    .option('--json', 'print as JSON')
    .addOption(wideOption())
    .action(async (runText: string | undefined, opts: { group?: string; html?: string; json?: boolean; wide?: boolean; metrics?: string; maxCv?: number }, cmd: Command) => {
      const cp = openProject(globalOptions(cmd));
      if (opts.html !== undefined) {
        if (opts.group !== undefined) throw new DagError([{ code: 'html-and-group', file: '(command line)', message: '--html writes the dashboard of one run (RUN), --group the cross-seed report of a group: give one', fix: 'dag report --html FILE RUN, where RUN is a run of the group, shows its certification' }]);
        const { writeStaticReport } = await import('../ui/static.js');
        const runsDir = runsDirOf(cp);
        const run = runText !== undefined ? resolveRun(runsDir, runText) : undefined;
        const written = await writeStaticReport(opts.html, cp, runsDir, run);
        if (opts.json) return printJson({ file: opts.html, run: written.run, runs: written.runs, bytes: written.bytes });
        return out(`wrote ${opts.html} (${formatBytes(written.bytes)}; run ${written.run ?? '(none)'}, ${written.runs} run(s) embedded)`);
      }
      if (opts.group === undefined) throw new DagError([{ code: 'report-what', file: '(command line)', message: 'dag report needs --group G (a cross-seed report) or --html FILE [RUN] (the dashboard as a file)' }]);
      if (runText !== undefined) throw new DagError([{ code: 'report-run', file: '(command line)', message: `a RUN argument ('${runText}') goes with --html; --group names the group itself`, fix: 'drop it, or give it to --group' }]);
      const all = listRuns(runsDirOf(cp));
      const group = resolveGroup(runsDirOf(cp), all.map((r) => r.receipt.group_id), opts.group);
      const runs = all.filter((r) => r.receipt.group_id === group).reverse(); // in the order they ran
      if (runs.length === 0) throw new DagError([{ code: 'unknown-group', file: '(command line)', message: `no runs in group '${opts.group}'`, fix: 'dag runs --json gives each run its group_id; dag runs --group G lists one group' }]);
      let filter: RegExp | undefined;
      try {
        filter = opts.metrics !== undefined ? new RegExp(opts.metrics) : undefined;
      } catch (e) {
        throw new DagError([{ code: 'bad-regex', file: '(command line)', message: `--metrics: ${(e as Error).message}` }]);
      }
      if (opts.maxCv !== undefined && !(opts.maxCv >= 0)) throw new DagError([{ code: 'bad-max-cv', file: '(command line)', message: '--max-cv takes a non-negative number' }]);
      const reports = runs.map(reportsOfRun);
      const rows = crossRunReport(runs, reports).filter((r) => !filter || filter.test(r.metric));
      const above = opts.maxCv === undefined ? [] : rows.filter((r) => r.cv !== null && r.cv > opts.maxCv!);
      const groupRuns = runs.map((r, i) => ({ run: r.id, seed: r.receipt.seed, status: r.receipt.status, reports: reports[i]!, dir: r.dir }));
      const certifications = await certifyRuns(cp.project.root, cp.project.config.duckdb.threads, groupRuns);
      const held = certifications.filter((c) => c.verdict === 'HOLD_REMEDIATE');
      process.exitCode = above.length || held.length ? EXIT.failed : EXIT.ok;
      if (opts.json)
        return printJson({
          group,
          runs: runs.map((r) => ({ run: r.id, seed: r.receipt.seed, status: r.receipt.status })),
          metrics: rows,
          max_cv: opts.maxCv ?? null,
          above_max_cv: above.map((r) => r.metric),
          certifications,
        });
      out(`group ${group}: ${runs.map((r) => `seed ${r.receipt.seed} (${r.receipt.status})`).join(', ')}`);
      out(table(['METRIC', ...runs.map((r) => `SEED ${r.receipt.seed}`), 'MEAN', 'STD', 'CV'], rows.map((x) => [x.metric, ...x.values.map(f), f(x.mean), f(x.std), f(x.cv)]), { width: tableWidth(opts) }));
      if (opts.maxCv !== undefined) out(above.length ? `\n${above.length} metric(s) above CV ${opts.maxCv}: ${above.map((r) => r.metric).join(', ')}` : `\nevery CV is at most ${opts.maxCv} (max ${f(Math.max(0, ...rows.map((r) => r.cv ?? 0)))})`);
      certifications.forEach((c) => printCertification(c, { width: tableWidth(opts) }));
    });
}

/**
 * A group as the user named it: its id, a unique prefix of 4+ characters, or a run of the group
 * (id, prefix or label), as RUN arguments resolve everywhere else. Unresolved text is returned as
 * given, for the caller's "no runs in group" error.
 */
export function resolveGroup(runsDir: string, groupIds: (string | null | undefined)[], text: string): string {
  const groups = [...new Set(groupIds.filter((g): g is string => typeof g === 'string'))];
  if (groups.includes(text)) return text;
  const prefixed = text.length >= 4 ? groups.filter((g) => g.startsWith(text)) : [];
  if (prefixed.length === 1) return prefixed[0]!;
  if (prefixed.length > 1) throw new DagError([{ code: 'ambiguous-group', file: '(command line)', message: `'${text}' is a prefix of ${prefixed.length} groups: ${prefixed.join(', ')}`, fix: 'give more characters' }]);
  try {
    return resolveRun(runsDir, text).receipt.group_id ?? text;
  } catch {
    return text;
  }
}
