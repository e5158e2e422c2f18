import type { Command } from 'commander';
import { EXIT } from '../project/diagnostics.js';
import { diffRuns, runSideOf, type InputChange, type MetricChange, type RunDiff } from '../store/rundiff.js';
import { resolveRun } from '../store/runs.js';
import { formatNumber, globalOptions, openRunStore, out, printJson, table, tableWidth, wideOption } from './context.js';

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description(
      'what differs between two runs: settings (seed, scenarios, profile, targets, lineage hashes), input files (digest, the file read, the JSON pointers changed in YAML/JSON inputs and whether they are under keys:), ' +
        "every metric of the validation reports (value, delta, check status), gate verdicts, and published datasets; versions are shown, not counted. Exit 1 when anything but the versions differs",
    )
    .argument('<run1>', 'run id, unique prefix (4+ characters) or label (last-good)')
    .argument('<run2>', 'run id, unique prefix (4+ characters) or label (last-good)')
    .option('--json', 'print as JSON')
    .addOption(wideOption())
    .action((a: string, b: string, opts: { json?: boolean; wide?: boolean }, cmd: Command) => {
      const { runsDir } = openRunStore(globalOptions(cmd));
      const d = diffRuns(runSideOf(resolveRun(runsDir, a)), runSideOf(resolveRun(runsDir, b)));
      process.exitCode = d.count === 0 ? EXIT.ok : EXIT.failed;
      if (opts.json) printJson(d);
      else printDiff(d, tableWidth(opts));
    });
}

const short = (digest: string | null) => (digest === null ? '-' : digest.slice(0, 12));
/** A value of a document: as JSON (strings quoted), numbers as in every table. */
const shown = (v: unknown) => (v === undefined ? '(absent)' : typeof v === 'number' ? formatNumber(v) : JSON.stringify(v));
/** A receipt field: plain, a digest shortened. */
const setting = (v: unknown) => (v === null ? '-' : typeof v === 'string' ? (/^[0-9a-f]{64}$/.test(v) ? short(v) : v) : Array.isArray(v) ? v.join(',') : String(v));
const POINTERS_SHOWN = 10;

/** One line per changed pointer of an input (capped), else its digests. */
function inputDetail(c: InputChange): string[] {
  if (c.change !== 'differs') return [short(c.sha256_1 ?? c.sha256_2)];
  const read = c.read1 !== c.read2 ? [`read ${c.read1} -> ${c.read2}`] : [];
  if (!c.pointers) return [...read, ...(c.sha256_1 !== c.sha256_2 ? [`sha256 ${short(c.sha256_1)} -> ${short(c.sha256_2)}`] : [])];
  const lines = c.pointers.slice(0, POINTERS_SHOWN).map((p) => {
    const keys = p.keyed_by.length ? ` (keys: of ${p.keyed_by.join(', ')})` : p.outside_keys_of.length ? ` (outside the keys: of ${p.outside_keys_of.join(', ')})` : '';
    return `${p.pointer}: ${shown(p.run1)} -> ${shown(p.run2)}${keys}`;
  });
  if (c.pointers.length > POINTERS_SHOWN) lines.push(`... ${c.pointers.length - POINTERS_SHOWN}${c.pointers_capped ? '+' : ''} more pointers (--json lists ${c.pointers_capped ? `the first ${c.pointers.length}` : 'them'})`);
  if (c.pointers.length === 0) lines.push('same document, other bytes');
  return [...read, ...lines];
}

const status = (m: MetricChange) => (m.status1 === m.status2 ? (m.status1 ?? '') : `${m.status1 ?? '-'} -> ${m.status2 ?? '-'}`);
const verdict = (p: boolean | null) => (p === null ? '-' : p ? 'passed' : 'failed');

function printDiff(d: RunDiff, width: number | undefined): void {
  const sections: string[] = [];
  if (d.settings.length) sections.push(table(['SETTING', 'RUN1', 'RUN2'], d.settings.map((s) => [s.field, setting(s.run1), setting(s.run2)]), { width, free: ['DETAIL'] }));
  if (d.inputs.unrecorded.length) {
    const hashes = d.settings.some((s) => s.field === 'parameter_hash' || s.field === 'manifest_fingerprint');
    const runs = [...new Set(d.inputs.unrecorded)];
    sections.push(`inputs not compared: run ${runs.join(' and run ')} recorded no inputs.json (made before dag kept one); ${hashes ? 'the lineage hashes differ, so some input does, which one is not recorded' : 'the lineage hashes are the same, so are the inputs'}`);
  }
  if (d.inputs.differences.length)
    sections.push(table(['INPUT', 'KIND', 'CHANGE', 'DETAIL'], d.inputs.differences.flatMap((c) => inputDetail(c).map((line, i) => (i === 0 ? [c.path, c.kind, c.change, line] : ['', '', '', line]))), { width, free: ['DETAIL'] }));
  if (d.metrics.differences.length)
    sections.push(table(['METRIC', 'RUN1', 'RUN2', 'DELTA', 'STATUS'], d.metrics.differences.map((m) => [m.metric, formatNumber(m.run1), formatNumber(m.run2), m.delta === null ? '-' : (m.delta > 0 ? '+' : '') + formatNumber(m.delta), status(m)]), { width, free: ['DETAIL'] }));
  if (d.gates.differences.length) sections.push(table(['GATE', 'SEGMENT', 'RUN1', 'RUN2'], d.gates.differences.map((g) => [g.gate, g.segment, verdict(g.passed1), verdict(g.passed2)]), { width, free: ['DETAIL'] }));
  if (d.datasets.differences.length)
    sections.push(table(['DATASET', 'STATE', 'CHANGE', 'ROWS1', 'ROWS2'], d.datasets.differences.map((r) => [r.dataset, r.state, r.change, String(r.rows1 ?? '-'), String(r.rows2 ?? '-')]), { width, free: ['DETAIL'] }));
  if (d.versions.length) sections.push(table(['VERSION', 'RUN1', 'RUN2'], d.versions.map((s) => [s.field, setting(s.run1), setting(s.run2)]), { width, free: ['DETAIL'] }));
  if (sections.length) out(sections.join('\n\n') + '\n');
  const n = (s: { same: number; differences: unknown[] }) => s.same + s.differences.length;
  if (d.count === 0) {
    out(`no differences: ${n(d.datasets)} datasets identical in ${d.run1} and ${d.run2}; same settings, ${d.inputs.unrecorded.length ? 'inputs not recorded' : `${n(d.inputs)} inputs`}, ${n(d.metrics)} metrics and ${n(d.gates)} gate verdicts`);
    return;
  }
  out(
    [
      `${d.datasets.differences.length} of ${n(d.datasets)} datasets differ`,
      `${d.settings.length} setting(s)`,
      d.inputs.unrecorded.length ? 'inputs not compared' : `${d.inputs.differences.length} of ${n(d.inputs)} inputs`,
      `${d.metrics.differences.length} of ${n(d.metrics)} metrics`,
      `${d.gates.differences.length} of ${n(d.gates)} gate verdicts`,
    ].join('; '),
  );
}
