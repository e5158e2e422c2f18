import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { toPointer } from '../project/yamlsource.js';
import { latestOutcomes, readLedger, type RunInfo } from './runs.js';
import { isPublished } from './verify.js';

/** A report file is any published `validation_report_*.json`: the report reads them, it does not know the checks. */
export const REPORT_FILE = /^validation_report_.*\.json$/;

/** Top-level report members that declare rather than measure: not metrics. */
const DECLARATIONS = new Set(['cross_seed']);

export interface Spread {
  n: number;
  mean: number | null;
  /** Sample standard deviation (n - 1); null with fewer than two values. */
  std: number | null;
  /** std / |mean|; null when the mean is 0 or fewer than two values. */
  cv: number | null;
}

export interface MetricRow extends Spread {
  /** `<report dataset>:<check id>` for checks lists, else `<report dataset><json pointer>`. */
  metric: string;
  values: (number | null)[];
}

/** Mean, sample standard deviation and coefficient of variation of the values present. */
export function spreadOf(values: (number | null)[]): Spread {
  const xs = values.filter((v): v is number => v !== null);
  const n = xs.length;
  const mean = n ? xs.reduce((a, b) => a + b, 0) / n : null;
  const std = n >= 2 && mean !== null ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : null;
  const cv = std !== null && mean !== null && mean !== 0 ? std / Math.abs(mean) : null;
  return { n, mean, std, cv };
}

/** Every numeric value in a report: `checks[].value` by check id, and any other numeric leaf by pointer. */
export function numericMetrics(doc: unknown, prefix: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (v: unknown, path: (string | number)[]) => {
    if (typeof v === 'number' && Number.isFinite(v)) out.set(prefix + toPointer(path), v);
    else if (Array.isArray(v)) {
      const byId = v.every((x) => x !== null && typeof x === 'object' && typeof (x as { id?: unknown }).id === 'string');
      v.forEach((x, i) => {
        if (byId) {
          const id = (x as { id: string }).id;
          for (const [k, val] of Object.entries(x as Record<string, unknown>)) {
            if (typeof val === 'number' && Number.isFinite(val)) out.set(`${prefix}:${id}${k === 'value' ? '' : '.' + k}`, val);
            else if (val !== null && typeof val === 'object') walk(val, [...path, i, k]);
          }
        } else walk(x, [...path, i]);
      });
    } else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) if (path.length > 0 || !DECLARATIONS.has(k)) walk(x, [...path, k]);
  };
  walk(doc, []);
  return out;
}

/** The validation reports a run published, by name: `<report dataset>` (`@<scenario>` for scenario-scoped states). */
export function reportsOfRun(run: RunInfo): Map<string, unknown> {
  const reports = new Map<string, unknown>();
  for (const e of latestOutcomes(readLedger(run.dir)).values()) {
    if (!isPublished(e)) continue;
    for (const o of e.outputs ?? []) {
      const name = basename(o.path);
      if (!REPORT_FILE.test(name)) continue;
      reports.set(name.replace(/\.json$/, '') + (e.scenario ? `@${e.scenario}` : ''), JSON.parse(readFileSync(join(run.dir, o.path), 'utf8')) as unknown);
    }
  }
  return reports;
}

/** Per metric, the value in each run, mean, sample standard deviation and coefficient of variation. */
export function crossRunReport(runs: RunInfo[], reports: Map<string, unknown>[] = runs.map(reportsOfRun)): MetricRow[] {
  const perRun = reports.map((byName) => {
    const metrics = new Map<string, number>();
    for (const [name, doc] of byName) for (const [k, v] of numericMetrics(doc, name)) metrics.set(k, v);
    return metrics;
  });
  const names = [...new Set(perRun.flatMap((m) => [...m.keys()]))].sort();
  return names.map((metric) => {
    const values = perRun.map((m) => m.get(metric) ?? null);
    return { metric, values, ...spreadOf(values) };
  });
}
