import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { toPointer } from '../project/yamlsource.js';
import { latestOutcomes, readLedger, type RunInfo } from './runs.js';
import { isPublished } from './verify.js';

/** A report file is any published `validation_report_*.json`: the report reads them, it does not know the checks. */
export const REPORT_FILE = /^validation_report_.*\.json$/;

export interface MetricRow {
  /** `<report dataset>:<check id>` for checks lists, else `<report dataset><json pointer>`. */
  metric: string;
  values: (number | null)[];
  n: number;
  mean: number | null;
  std: number | null;
  /** std / |mean|; null when the mean is 0 or fewer than two values. */
  cv: number | null;
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
    } else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(doc, []);
  return out;
}

/** Per metric, the value in each run, mean, sample standard deviation and coefficient of variation. */
export function crossRunReport(runs: RunInfo[]): MetricRow[] {
  const perRun = runs.map((r) => {
    const metrics = new Map<string, number>();
    for (const e of latestOutcomes(readLedger(r.dir)).values()) {
      if (!isPublished(e)) continue;
      for (const o of e.outputs ?? []) {
        const name = basename(o.path);
        if (!REPORT_FILE.test(name)) continue;
        const doc = JSON.parse(readFileSync(join(r.dir, o.path), 'utf8')) as unknown;
        const scenario = e.scenario ? `@${e.scenario}` : '';
        for (const [k, v] of numericMetrics(doc, name.replace(/\.json$/, '') + scenario)) metrics.set(k, v);
      }
    }
    return metrics;
  });
  const names = [...new Set(perRun.flatMap((m) => [...m.keys()]))].sort();
  return names.map((metric) => {
    const values = perRun.map((m) => m.get(metric) ?? null);
    const xs = values.filter((v): v is number => v !== null);
    const n = xs.length;
    const mean = n ? xs.reduce((a, b) => a + b, 0) / n : null;
    const std = n >= 2 && mean !== null ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : null;
    const cv = std !== null && mean !== null && mean !== 0 ? std / Math.abs(mean) : null;
    return { metric, values, n, mean, std, cv };
  });
}
