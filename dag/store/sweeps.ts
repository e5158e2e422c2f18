import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DagError } from '../project/diagnostics.js';
import type { Override } from '../project/overrides.js';
import { writeFileAtomic } from './atomic.js';
import type { Band } from './certify.js';
import type { RunStatus } from './runs.js';

/**
 * A sweep (`dag sweep`): the candidates of a grid of overrides, each one or more ordinary runs
 * sharing the sweep id as their group id, recorded in runs/.sweeps/<id>.json so that it can be
 * resumed, shown, ranked and pruned as one group.
 */
export const SWEEPS_DIR = '.sweeps';
export const SWEEP_ID = /^[0-9a-f]{16}$/;

/** One `--grid FILE#/pointer=v1,v2,...`. */
export interface SweepAxis {
  file: string;
  pointer: string;
  values: unknown[];
}

export interface CandidateRun {
  seed: number;
  run_id: string;
  status: RunStatus;
  seconds: number;
}

export interface SweepCandidate {
  /** c1, c2, ...: the cartesian product in grid order, the last axis fastest. */
  id: string;
  /** One value per axis. */
  overrides: Override[];
  /** Its runs, one per seed, as far as they got. */
  runs: CandidateRun[];
}

export interface SweepRecord {
  sweep_id: string;
  created_utc: string;
  updated_utc: string;
  status: 'running' | 'interrupted' | 'finished';
  /** What every candidate's runs run: the request flags, the `--set` values common to all, the seeds. */
  request: { targets: string[]; seeds: (number | null)[]; scenarios: string[] | null; profile: string | null; set: Override[]; from: string[] | null; base: string | null; no_cache: boolean; jobs: number };
  grid: SweepAxis[];
  candidates: SweepCandidate[];
  /** The ranking of the finished candidates, best first (rankCandidates), as of the last update. */
  ranking: RankRow[];
}

export function sweepsDir(runsDir: string): string {
  return join(runsDir, SWEEPS_DIR);
}

export function writeSweep(runsDir: string, rec: SweepRecord): void {
  mkdirSync(sweepsDir(runsDir), { recursive: true });
  writeFileAtomic(join(sweepsDir(runsDir), `${rec.sweep_id}.json`), JSON.stringify({ ...rec, updated_utc: new Date().toISOString() }, null, 2) + '\n');
}

/** Every recorded sweep, newest first. */
export function listSweeps(runsDir: string): SweepRecord[] {
  const dir = sweepsDir(runsDir);
  if (!existsSync(dir)) return [];
  const out: SweepRecord[] = [];
  for (const f of readdirSync(dir)) {
    if (!/^[0-9a-f]{16}\.json$/.test(f)) continue;
    try {
      out.push(JSON.parse(readFileSync(join(dir, f), 'utf8')) as SweepRecord);
    } catch {
      /* a torn record is no sweep */
    }
  }
  return out.sort((a, b) => (a.created_utc < b.created_utc ? 1 : -1));
}

/** A sweep by its id or a unique prefix of 4+ characters. */
export function readSweep(runsDir: string, text: string): SweepRecord {
  const all = listSweeps(runsDir);
  const hits = all.filter((s) => s.sweep_id === text || (text.length >= 4 && s.sweep_id.startsWith(text)));
  if (hits.length === 1) return hits[0]!;
  const known = all.map((s) => s.sweep_id).join(', ') || 'none';
  throw new DagError([{ code: hits.length ? 'ambiguous-sweep' : 'unknown-sweep', file: '(command line)', message: hits.length ? `'${text}' is a prefix of ${hits.length} sweeps` : `no sweep '${text}' (known: ${known})`, fix: 'give a sweep id printed by dag sweep' }]);
}

/** The cartesian product of the axes, the last axis fastest: one override list per candidate. */
export function candidatesOf(grid: SweepAxis[]): Override[][] {
  return grid.reduce<Override[][]>((acc, axis) => acc.flatMap((prefix) => axis.values.map((value) => [...prefix, { file: axis.file, pointer: axis.pointer, value }])), [[]]);
}

/** A candidate is finished when it has a finished run (succeeded or failed) for every seed. */
export function isFinished(c: SweepCandidate, seeds: number): boolean {
  return c.runs.length === seeds && c.runs.every((r) => r.status === 'succeeded' || r.status === 'failed');
}

// --- ranking ---------------------------------------------------------------------------------

/** A gate of a candidate's reports: its value (mean over the candidate's runs) and worst status. */
export interface GateValue {
  value: number | null;
  status: string;
  band_b: Band;
  band_bplus: Band;
}

export interface RankRow {
  rank: number;
  candidate: string;
  /** False when a run published no validation report (a state failed before it): ranked last. */
  measured: boolean;
  /** Checks outside their B band, over every report of every run. */
  hard_fails: number;
  /** Checks inside B but outside B+. */
  bplus_misses: number;
  /** Sum over the checks outside B+ of their distance to the band, normalised (see bandDistance). */
  distance: number;
  seconds: number;
  runs: string[];
  /** `<report>:<check id>` -> the gate in this candidate. */
  gates: Record<string, GateValue>;
}

/** What the ranking reads of one run: its reports by name, its status and time. */
export interface RankInput {
  candidate: string;
  runs: { run_id: string; status: RunStatus; seconds: number; reports: Map<string, unknown> }[];
}

interface CheckDoc {
  id: string;
  kind: string;
  status: string;
  value: number | null;
  B: Band;
  Bplus: Band;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const band = (v: unknown): Band => (Array.isArray(v) ? [num(v[0]), num(v[1])] : [null, null]);

function checksOf(doc: unknown): CheckDoc[] {
  const checks = doc !== null && typeof doc === 'object' ? (doc as { checks?: unknown }).checks : undefined;
  if (!Array.isArray(checks)) return [];
  return checks.flatMap((c): CheckDoc[] => {
    if (c === null || typeof c !== 'object' || typeof (c as { id?: unknown }).id !== 'string') return [];
    const x = c as Record<string, unknown>;
    return [{ id: x.id as string, kind: typeof x.kind === 'string' ? x.kind : 'realism', status: typeof x.status === 'string' ? x.status : 'MISSING', value: num(x.value), B: band(x.threshold_B), Bplus: band(x.threshold_Bplus) }];
  });
}

/**
 * How far `v` lies outside the B+ band, in units of the room between B+ and B on that side (so 1
 * is at B's edge); where B and B+ share that edge, in units of the edge's size (or 1 at 0).
 */
export function bandDistance(v: number, b: Band, bplus: Band): number {
  const [lo, hi] = bplus;
  const scale = (edge: number, bEdge: number | null) => (bEdge !== null && bEdge !== edge ? Math.abs(edge - bEdge) : Math.abs(edge) > 0 ? Math.abs(edge) : 1);
  if (lo !== null && v < lo) return (lo - v) / scale(lo, b[0]);
  if (hi !== null && v > hi) return (v - hi) / scale(hi, b[1]);
  return 0;
}

const SEVERITY = ['PASS', 'PENDING', 'WARN', 'MISSING', 'FAIL'];

/** A candidate's score from its runs' reports (the row of rankCandidates, before it is ordered). */
export function scoreCandidate(c: RankInput): Omit<RankRow, 'rank'> {
  let hard = 0;
  let misses = 0;
  let distance = 0;
  const values = new Map<string, { sum: number; n: number; status: string; B: Band; Bplus: Band }>();
  for (const r of c.runs) {
    for (const [name, doc] of r.reports) {
      for (const k of checksOf(doc)) {
        if (k.kind === 'metric') continue;
        if (k.status === 'FAIL') hard++;
        if (k.status === 'WARN') misses++;
        if (k.value !== null && k.status !== 'PENDING') distance += bandDistance(k.value, k.B, k.Bplus);
        const id = `${name}:${k.id}`;
        const v = values.get(id) ?? { sum: 0, n: 0, status: 'PASS', B: k.B, Bplus: k.Bplus };
        if (k.value !== null) {
          v.sum += k.value;
          v.n++;
        }
        if (SEVERITY.indexOf(k.status) > SEVERITY.indexOf(v.status)) v.status = k.status;
        values.set(id, v);
      }
    }
  }
  const gates: Record<string, GateValue> = {};
  for (const id of [...values.keys()].sort()) {
    const v = values.get(id)!;
    gates[id] = { value: v.n ? v.sum / v.n : null, status: v.status, band_b: v.B, band_bplus: v.Bplus };
  }
  const measured = c.runs.length > 0 && c.runs.every((r) => r.reports.size > 0);
  return { candidate: c.candidate, measured, hard_fails: hard, bplus_misses: misses, distance, seconds: c.runs.reduce((a, r) => a + r.seconds, 0), runs: c.runs.map((r) => r.run_id), gates };
}

/**
 * Orders scored candidates, best first: measured before unmeasured, then fewer hard-gate failures
 * (outside B), fewer B+ misses, a smaller distance to the B+ bands, less time. Metrics (no band)
 * and pending gates do not count. Pure.
 */
export function rankCandidates(rows: Omit<RankRow, 'rank'>[]): RankRow[] {
  const order = (a: Omit<RankRow, 'rank'>, b: Omit<RankRow, 'rank'>) =>
    Number(b.measured) - Number(a.measured) || a.hard_fails - b.hard_fails || a.bplus_misses - b.bplus_misses || a.distance - b.distance || a.seconds - b.seconds || (a.candidate < b.candidate ? -1 : 1);
  return [...rows].sort(order).map((r, i) => ({ ...r, rank: i + 1 }));
}

/** The runs a prune keeps for a sweep: its best-ranked candidate's (none before any candidate finished). */
export function bestRuns(rec: SweepRecord): { candidate: string; runs: string[] } | undefined {
  const best = rec.ranking[0];
  return best ? { candidate: best.candidate, runs: best.runs } : undefined;
}
