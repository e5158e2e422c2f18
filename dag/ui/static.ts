import { writeFileSync } from 'node:fs';
import type { CompiledProject } from '../graph/compile.js';
import { runRows } from '../store/listing.js';
import { listRuns, type RunInfo } from '../store/runs.js';
import { projectData, runDetail, type RunDetail } from './model.js';
import { pageHtml, type StaticData } from './page.js';
import { projectGraphSvg } from './svg.js';

/** Runs whose details a static report embeds besides the one it is about: the newest ones (for perf comparisons). */
export const EMBEDDED_RUNS = 20;
/** Up to this many segments every combination of collapsed ones is laid out; beyond, each one alone and all. */
const ALL_COMBINATIONS = 5;

/** The collapsed sets a static report lays out, as keys (sorted, comma-separated). */
export function collapsedSets(segments: string[]): string[][] {
  const sorted = [...segments].sort();
  if (sorted.length <= ALL_COMBINATIONS) return Array.from({ length: 2 ** sorted.length }, (_, mask) => sorted.filter((_, i) => mask & (1 << i)));
  return [[], ...sorted.map((s) => [s]), sorted];
}

/**
 * `dag report --html FILE [RUN]`: the dashboard as one file, its data embedded, opening offline;
 * `run` is the run it shows first (default: the newest).
 */
export async function writeStaticReport(file: string, cp: CompiledProject, runsDir: string, run: RunInfo | undefined): Promise<{ run: string | null; runs: number; bytes: number }> {
  const project = projectData(cp);
  const svgs: Record<string, string> = {};
  for (const set of collapsedSets(project.segments)) svgs[set.join(',')] = projectGraphSvg(cp, set);
  const all = listRuns(runsDir);
  const chosen = run ?? all[0];
  const embedded = [...new Map([...(chosen ? [chosen] : []), ...all.slice(0, EMBEDDED_RUNS)].map((r) => [r.id, r])).values()];
  const details: Record<string, RunDetail> = {};
  const opts = { root: cp.project.root, threads: cp.project.config.duckdb.threads };
  // the group certification only for the run shown (it may run DuckDB queries)
  for (const r of embedded) details[r.id] = await runDetail(runsDir, r, { ...opts, certify: r.id === chosen?.id });
  const data: StaticData = { project, svgs, runs: runRows(runsDir), details, selected: chosen?.id ?? null, written: new Date().toISOString() };
  const html = pageHtml({ mode: 'static', data });
  writeFileSync(file, html);
  return { run: chosen?.id ?? null, runs: embedded.length, bytes: Buffer.byteLength(html) };
}
