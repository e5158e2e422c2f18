// Certification of a --seeds group (`dag report --group`): for every validation report that declares
// `cross_seed: {gate, seeds, key_rates}`, the cross-seed gate measured as the largest coefficient of
// variation of the key rates over the declared seeds, every other gate's status per seed, and a verdict
// that is HOLD_REMEDIATE while anything is unmeasured or fails B. Pure: it reads what each report
// declares (gate ids, bands, statuses, pending reasons, `resolves`) and knows no check of its own.
import { spreadOf, type Spread } from './report.js';
import type { RunStatus } from './runs.js';

export type Verdict = 'PASS_BPLUS' | 'PASS_B' | 'HOLD_REMEDIATE';
/** A gate in one seed: as its report graded it, PENDING (not measured), or MISSING (no report or no such check). */
export type CellStatus = 'PASS' | 'WARN' | 'FAIL' | 'PENDING' | 'MISSING';
export type Band = [number | null, number | null];

/** One run of the group with the validation reports it published, by name (see reportsOfRun). */
export interface GroupRun {
  run: string;
  seed: number;
  status: RunStatus;
  reports: Map<string, unknown>;
}

export interface SeedCell {
  seed: number;
  status: CellStatus;
  value: number | null;
  /** `<report>:<check id>` of the check in another report of the run whose `resolves` names this pending gate. */
  resolved_by?: string;
}

export interface CertifiedGate {
  id: string;
  kind: string;
  /** The declared cross-seed gate: its value is the max CV of the key rates, graded against its bands. */
  cross_seed: boolean;
  band_b: Band;
  band_bplus: Band;
  seeds: SeedCell[];
  /** The certified value (the cross-seed gate only); null when it cannot be computed. */
  value: number | null;
  /** The cross-seed gate graded; any other gate's worst status over the seeds. */
  status: CellStatus;
}

export interface KeyRate extends Spread {
  id: string;
  /** Per declared seed, in the declared order. */
  values: (number | null)[];
}

export interface Certification {
  /** The report name, as in the metric table (`validation_report_x`, `@scenario` for scenario-scoped states). */
  report: string;
  segment: string;
  gate: string;
  seeds: number[];
  /** The run certified for each declared seed (null: none in the group). */
  runs: { seed: number; run: string | null; status: RunStatus | null }[];
  key_rates: KeyRate[];
  gates: CertifiedGate[];
  verdict: Verdict;
  /** Why the verdict is HOLD_REMEDIATE, one fact each; empty otherwise. */
  reasons: string[];
  /** Facts that do not hold the verdict: resolved downstream gates, runs of undeclared seeds. */
  notes: string[];
}

/** A check of a validation report, as the certification and the gateboard read it. */
export interface CheckDoc {
  id: string;
  kind: string;
  status: string;
  value: number | null;
  threshold_B: Band;
  threshold_Bplus: Band;
  resolves?: string;
}
export interface PendingDoc {
  id: string;
  reason: string | null;
  measured_by: string | null;
}
/** A query over the datasets of several seeds' runs (`roles`: schema name -> seed), returning the values of `gates`. */
export interface GroupQuery {
  sql: string;
  roles: Record<string, number>;
  gates: string[];
}
export interface CrossSeedDoc {
  gate: string;
  seeds: number[];
  key_rates: string[];
  queries: GroupQuery[];
}

/** What a group query gave: one value per declared gate, its other numeric columns, or why it could not run. */
export interface GroupQueryResult {
  values: Record<string, number | null>;
  figures: Record<string, number | null>;
  /** The run that played each role. */
  runs: Record<string, string>;
  error?: string;
}
/** Group query results by report name, then by the query's index in its declaration. */
export type GroupQueryResults = Map<string, Map<number, GroupQueryResult>>;
export interface ReportDoc {
  segment: string | null;
  checks: CheckDoc[];
  pending: PendingDoc[];
  cross_seed: CrossSeedDoc | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const band = (v: unknown): Band => (Array.isArray(v) ? [num(v[0]), num(v[1])] : [null, null]);

/** The parts of a validation report the certification (and the gateboard) read; anything malformed reads as absent. */
export function readReport(doc: unknown): ReportDoc {
  const d = isObject(doc) ? doc : {};
  const checks = (Array.isArray(d.checks) ? d.checks : []).filter(isObject).flatMap((c): CheckDoc[] => {
    const id = str(c.id);
    if (id === null) return [];
    const resolves = str(c.resolves);
    return [{ id, kind: str(c.kind) ?? 'realism', status: str(c.status) ?? 'MISSING', value: num(c.value), threshold_B: band(c.threshold_B), threshold_Bplus: band(c.threshold_Bplus), ...(resolves ? { resolves } : {}) }];
  });
  const pending = (Array.isArray(d.pending) ? d.pending : []).filter(isObject).map((p) => ({ id: str(p.id) ?? '', reason: str(p.reason), measured_by: str(p.measured_by) }));
  const cs = d.cross_seed;
  const queries = (isObject(cs) && Array.isArray(cs.queries) ? cs.queries : []).filter(isObject).flatMap((q): GroupQuery[] =>
    typeof q.sql === 'string' && isObject(q.roles) && Array.isArray(q.gates)
      ? [{ sql: q.sql, roles: Object.fromEntries(Object.entries(q.roles).filter((e): e is [string, number] => Number.isInteger(e[1]))), gates: q.gates.filter((g): g is string => typeof g === 'string') }]
      : [],
  );
  const crossSeed =
    isObject(cs) && typeof cs.gate === 'string' && Array.isArray(cs.seeds) && Array.isArray(cs.key_rates)
      ? { gate: cs.gate, seeds: cs.seeds.filter((s): s is number => Number.isInteger(s)), key_rates: cs.key_rates.filter((k): k is string => typeof k === 'string'), queries }
      : null;
  return { segment: str(d.segment), checks, pending, cross_seed: crossSeed };
}

const inBand = (v: number, [lo, hi]: Band) => (lo === null || v >= lo) && (hi === null || v <= hi);
/** The report macros' grading: FAIL outside B, WARN inside B but outside B+, else PASS. */
export function grade(v: number, b: Band, bplus: Band): 'PASS' | 'WARN' | 'FAIL' {
  return !inBand(v, b) ? 'FAIL' : !inBand(v, bplus) ? 'WARN' : 'PASS';
}

const SEVERITY: CellStatus[] = ['PASS', 'WARN', 'MISSING', 'PENDING', 'FAIL'];
const worst = (xs: CellStatus[]): CellStatus => xs.reduce((a, b) => (SEVERITY.indexOf(b) > SEVERITY.indexOf(a) ? b : a), 'PASS' as CellStatus);
const short = (v: number | null) => (v === null ? 'null' : String(Number(v.toPrecision(4))));
const showBand = ([lo, hi]: Band) => `[${lo ?? '-'}, ${hi ?? '-'}]`;
const seedList = (seeds: number[]) => `seed${seeds.length > 1 ? 's' : ''} ${seeds.join(', ')}`;

/** Certifies every report of the group that declares `cross_seed`, in report-name order. */
export function certifyGroup(runs: GroupRun[], results: GroupQueryResults = new Map()): Certification[] {
  const names = new Set<string>();
  for (const r of runs) for (const [name, doc] of r.reports) if (readReport(doc).cross_seed) names.add(name);
  return [...names].sort().map((name) => certifyReport(name, runs, results.get(name) ?? new Map()));
}

/** The group queries each certified report declares (its first declaring run's), for the caller to run. */
export function groupQueriesOf(runs: GroupRun[]): { report: string; index: number; query: GroupQuery }[] {
  const found = new Map<string, GroupQuery[]>();
  for (const r of runs) for (const [name, doc] of r.reports) if (!found.has(name)) { const d = readReport(doc).cross_seed; if (d) found.set(name, d.queries); }
  return [...found].sort(([a], [b]) => (a < b ? -1 : 1)).flatMap(([report, qs]) => qs.map((query, index) => ({ report, index, query })));
}

/** The run that plays a seed in a certification: the last succeeded one of that seed, else none. */
export function runOfSeed(runs: GroupRun[], seed: number): GroupRun | undefined {
  return runs.filter((r) => r.seed === seed && r.status === 'succeeded').pop();
}

function certifyReport(name: string, runs: GroupRun[], results: Map<number, GroupQueryResult>): Certification {
  const reasons: string[] = [];
  const notes: string[] = [];
  const declaring = runs.flatMap((r) => {
    const doc = r.reports.has(name) ? readReport(r.reports.get(name)) : null;
    return doc?.cross_seed ? [{ run: r, decl: doc.cross_seed }] : [];
  });
  const decl = declaring[0]!.decl;
  const differing = declaring.filter((d) => JSON.stringify(d.decl) !== JSON.stringify(decl)).map((d) => d.run.seed);
  if (differing.length) reasons.push(`the cross_seed declaration of ${seedList(differing)} differs from seed ${declaring[0]!.run.seed}'s`);

  const picked = pickRuns(name, decl.seeds, runs, reasons);
  const undeclared = [...new Set(runs.map((r) => r.seed).filter((s) => !decl.seeds.includes(s)))];
  if (undeclared.length) notes.push(`${seedList(undeclared)} not in cross_seed.seeds: not certified`);
  const segment = picked.find((p) => p.doc?.segment)?.doc?.segment ?? readReport(declaring[0]!.run.reports.get(name)).segment ?? name;

  const keyRates = keyRatesOf(decl.key_rates, picked, reasons);
  const complete = picked.every((p) => p.doc) && keyRates.every((k) => k.values.every((v) => v !== null) && k.cv !== null);
  const maxCv = complete && keyRates.length ? keyRates.reduce((a, b) => (b.cv! > a.cv! ? b : a)) : null;

  // Gates: every realism gate and invariant the seeds' reports list.
  const ids = [...new Set(picked.flatMap((p) => (p.doc?.checks ?? []).filter((c) => c.kind !== 'metric').map((c) => c.id)))].sort();
  if (!ids.includes(decl.gate)) {
    if (picked.some((p) => p.doc)) reasons.push(`cross_seed gate ${decl.gate} is not a check of ${name}`);
    ids.push(decl.gate);
  }
  const gates = ids.map((id): CertifiedGate => {
    const first = picked.map((p) => p.doc?.checks.find((c) => c.id === id)).find((c) => c);
    const bands = { band_b: first?.threshold_B ?? ([null, null] as Band), band_bplus: first?.threshold_Bplus ?? ([null, null] as Band) };
    const isCross = id === decl.gate;
    const qi = decl.queries.findIndex((q) => q.gates.includes(id));
    const seeds = picked.map(({ seed, run, doc }): SeedCell => {
      const c = doc?.checks.find((x) => x.id === id);
      if (!doc || !c) return { seed, status: 'MISSING', value: null };
      if (c.status !== 'PENDING' || isCross || qi >= 0) return { seed, status: c.status as CellStatus, value: c.value };
      const resolver = resolverOf(run!, name, `${doc.segment ?? name}:${id}`);
      return resolver ? { seed, status: resolver.check.status as CellStatus, value: resolver.check.value, resolved_by: `${resolver.report}:${resolver.check.id}` } : { seed, status: 'PENDING', value: null };
    });
    if (isCross) {
      const value = maxCv?.cv ?? null;
      const status: CellStatus = !first ? 'MISSING' : value === null ? 'PENDING' : grade(value, bands.band_b, bands.band_bplus); // no check, no bands: never graded
      if (status === 'FAIL') reasons.push(`${id}: max CV ${short(value)} (key rate ${maxCv!.id}) outside B ${showBand(bands.band_b)}`);
      if (!decl.key_rates.length) reasons.push(`${id}: cross_seed declares no key rates`);
      return { id, kind: first?.kind ?? 'realism', cross_seed: true, ...bands, seeds, value, status };
    }
    if (qi >= 0) {
      const q = decl.queries[qi]!;
      const r = results.get(qi);
      const value = r?.values[id] ?? null;
      const status: CellStatus = !first ? 'MISSING' : value === null ? 'PENDING' : grade(value, bands.band_b, bands.band_bplus);
      const roles = Object.entries(q.roles).map(([role, seed]) => `${role} seed ${seed}`).join(', ');
      if (!r) reasons.push(`${id}: group query ${q.sql} (${roles}) did not run`);
      else if (r.error) reasons.push(`${id}: group query ${q.sql} (${roles}): ${r.error}`);
      else if (value === null) reasons.push(`${id}: group query ${q.sql} (${roles}) gave no value`);
      else if (status === 'FAIL') reasons.push(`${id}: ${short(value)} from ${q.sql} (${roles}) outside B ${showBand(bands.band_b)}`);
      if (r && !r.error && q.gates[0] === id) {
        const figs = Object.entries(r.figures).map(([k, v]) => `${k} ${short(v)}`).join(', ');
        notes.push(`${q.sql} (${Object.entries(r.runs).map(([role, run]) => `${role} ${run.slice(0, 8)}`).join(', ')}): ${q.gates.map((g) => `${g} ${short(r.values[g] ?? null)}`).join(', ')}${figs ? `; ${figs}` : ''}`);
      }
      return { id, kind: first?.kind ?? 'realism', cross_seed: true, ...bands, seeds, value, status };
    }
    explainGate(id, seeds, picked, bands.band_b, decl.gate, reasons, notes);
    return { id, kind: first?.kind ?? 'realism', cross_seed: false, ...bands, seeds, value: null, status: worst(seeds.map((s) => s.status)) };
  });

  const measured = gates.every((g) => g.status === 'PASS' || g.status === 'WARN'); // a second guard: never a pass without a value
  const verdict: Verdict = reasons.length || !measured ? 'HOLD_REMEDIATE' : gates.every((g) => g.status === 'PASS') ? 'PASS_BPLUS' : 'PASS_B';
  return {
    report: name,
    segment,
    gate: decl.gate,
    seeds: decl.seeds,
    runs: picked.map((p) => ({ seed: p.seed, run: p.run?.run ?? null, status: p.run?.status ?? null })),
    key_rates: keyRates,
    gates,
    verdict,
    reasons,
    notes,
  };
}

interface Picked {
  seed: number;
  run: GroupRun | null;
  doc: ReportDoc | null;
}

/**
 * The run certified for each declared seed: the last succeeded one of that seed, else the last. A run that
 * did not succeed holds the verdict, but what it published is still shown (it says which gate failed).
 */
function pickRuns(name: string, seeds: number[], runs: GroupRun[], reasons: string[]): Picked[] {
  return seeds.map((seed) => {
    const ofSeed = runs.filter((r) => r.seed === seed);
    const run = ofSeed.filter((r) => r.status === 'succeeded').pop() ?? ofSeed.pop() ?? null;
    if (!run) reasons.push(`seed ${seed}: no run in the group`);
    else if (run.status !== 'succeeded') reasons.push(`seed ${seed}: run ${run.run} ${run.status}`);
    else if (!run.reports.has(name)) reasons.push(`seed ${seed}: run ${run.run} published no ${name}`);
    const doc = run?.reports.has(name) ? readReport(run.reports.get(name)) : null;
    return { seed, run, doc };
  });
}

/** Each key rate's value in each seed (a check of the report, measured) and its spread over the seeds. */
function keyRatesOf(ids: string[], picked: Picked[], reasons: string[]): KeyRate[] {
  return ids.map((id) => {
    const values = picked.map(({ doc }) => {
      const c = doc?.checks.find((x) => x.id === id);
      return c && c.status !== 'PENDING' ? c.value : null;
    });
    const absent = picked.filter((p, i) => p.doc && values[i] === null).map((p) => p.seed);
    if (absent.length) reasons.push(`key rate ${id}: no value in ${seedList(absent)}`);
    const spread = spreadOf(values);
    if (!absent.length && picked.every((p) => p.doc) && spread.cv === null) reasons.push(`key rate ${id}: CV undefined (mean ${short(spread.mean)})`);
    return { id, values, ...spread };
  });
}

/** A check in another report of the same run whose `resolves` names `<segment>:<gate>`. */
function resolverOf(run: GroupRun, name: string, key: string): { report: string; check: CheckDoc } | null {
  for (const [other, doc] of [...run.reports].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (other === name) continue;
    const check = readReport(doc).checks.find((c) => c.resolves === key);
    if (check) return { report: other, check };
  }
  return null;
}

/** One reason per kind of trouble of a gate (seeds grouped), one note per resolution. */
function explainGate(id: string, cells: SeedCell[], picked: Picked[], bandB: Band, crossGate: string, reasons: string[], notes: string[]): void {
  const withDoc = cells.filter((_, i) => picked[i]!.doc);
  const seedsWhere = (f: (c: SeedCell) => boolean) => withDoc.filter(f).map((c) => c.seed);
  const pending = seedsWhere((c) => c.status === 'PENDING');
  if (pending.length) {
    const p = picked.map((x) => x.doc?.pending.find((q) => q.id === id)).find((q) => q);
    const why =
      p?.reason === 'downstream'
        ? `downstream${p.measured_by ? `, measured by ${p.measured_by}` : ''}; no other report of the run resolves it`
        : p?.reason === 'cross-seed'
          ? `cross-seed, but cross_seed.gate is ${crossGate}`
          : (p?.reason ?? 'not measured');
    reasons.push(`${id}: PENDING in ${seedList(pending)} (${why})`);
  }
  const missing = seedsWhere((c) => c.status === 'MISSING');
  if (missing.length) reasons.push(`${id}: not in the report of ${seedList(missing)}`);
  const failed = withDoc.filter((c) => c.status === 'FAIL');
  if (failed.length) {
    const by = [...new Set(failed.flatMap((c) => (c.resolved_by ? [c.resolved_by] : [])))];
    const where = by.length ? `as graded by ${by.join(', ')}` : `outside B ${showBand(bandB)}`;
    reasons.push(`${id}: FAIL in ${seedList(failed.map((c) => c.seed))} (${failed.map((c) => short(c.value)).join(', ')} ${where})`);
  }
  const resolved = withDoc.filter((c) => c.resolved_by);
  for (const by of new Set(resolved.map((c) => c.resolved_by!))) notes.push(`${id}: measured by ${by} in ${seedList(resolved.filter((c) => c.resolved_by === by).map((c) => c.seed))}`);
}
