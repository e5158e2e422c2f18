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

/** Members of a check that are bands `[lo, hi]` (the report contract's `band`): their bounds are named, not numbered. */
const BANDS = new Set(['threshold_B', 'threshold_Bplus']);

/** What a report measures and how it graded it: numeric values by metric name, and each check's status. */
export interface ReportFigures {
  values: Map<string, number>;
  /** `<report>:<check id>` -> PASS | WARN | FAIL | PENDING, as the report graded it. */
  statuses: Map<string, string>;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
/** A list of records with string ids (`checks`): each is named by its id, never by its place in the list. */
const isIdList = (v: unknown[]): v is { id: string }[] => v.every((x) => isRecord(x) && typeof x.id === 'string');

/**
 * Every numeric value in a report, and the status of each check. A record of a list with ids is
 * named `<report>:<id>` (its `value`) and `<report>:<id>.<member>` (its other members: `.threshold.lo`,
 * `.threshold_B.hi`), so a metric keeps its name when checks are added or reordered; any other numeric
 * leaf is named by its JSON pointer (`<report>/counts/PASS`).
 */
export function reportFigures(doc: unknown, prefix: string): ReportFigures {
  const values = new Map<string, number>();
  const statuses = new Map<string, string>();
  const named = (v: unknown, name: string, key: string): void => {
    if (isNumber(v)) values.set(name, v);
    else if (Array.isArray(v)) {
      if (BANDS.has(key) && v.length === 2) ['lo', 'hi'].forEach((b, i) => named(v[i], `${name}.${b}`, b));
      else if (v.length > 0 && isIdList(v)) v.forEach((x) => record(x, `${name}:${x.id}`));
      else v.forEach((x, i) => named(x, `${name}.${i}`, String(i)));
    } else if (isRecord(v)) for (const [k, x] of Object.entries(v)) named(x, `${name}.${k}`, k);
  };
  const record = (r: Record<string, unknown>, name: string): void => {
    if (typeof r.status === 'string') statuses.set(name, r.status);
    for (const [k, x] of Object.entries(r)) if (k !== 'id') named(x, k === 'value' ? name : `${name}.${k}`, k);
  };
  const walk = (v: unknown, path: (string | number)[]): void => {
    if (isNumber(v)) values.set(prefix + toPointer(path), v);
    else if (Array.isArray(v)) {
      if (v.length > 0 && isIdList(v)) v.forEach((x) => record(x, `${prefix}:${x.id}`));
      else v.forEach((x, i) => walk(x, [...path, i]));
    } else if (isRecord(v)) for (const [k, x] of Object.entries(v)) if (path.length > 0 || !DECLARATIONS.has(k)) walk(x, [...path, k]);
  };
  walk(doc, []);
  return { values, statuses };
}

/** Every numeric value in a report, by metric name (see reportFigures). */
export function numericMetrics(doc: unknown, prefix: string): Map<string, number> {
  return reportFigures(doc, prefix).values;
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
