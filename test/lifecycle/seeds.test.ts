import type { MetricRow } from '../../dag/store/report.js';
// Multi-seed matrices (ORCHESTRATOR.md §9 `--seeds`, README "Run lifecycle"): one run per seed,
// sharing a group_id; world-scoped states computed once and served from the cache to the other
// seeds; `dag report --group G` tabulates every numeric check across the seeds with mean, sample
// standard deviation and coefficient of variation. Real `dag` processes on the diamond fixture.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, copyFixture, dag, dagJson, dagRun, ledger, LIFECYCLE_TIMEOUT, readJson, tempDir, type RunJson } from './helpers.js';

afterAll(cleanup);

interface Matrix {
  group_id: string;
  runs: (RunJson & { seed: number })[];
  exit_code: number;
}

type Metric = MetricRow; // the metrics of `dag report --json`

interface Report {
  group: string;
  runs: { run: string; seed: number; status: string }[];
  metrics: Metric[];
  max_cv: number | null;
  above_max_cv: string[];
}

const CHECKS = ['pairs_nonempty', 'amount_nonnegative'];
const metricName = (check: string) => `validation_report_fx:${check}`;
const runFolders = (runs: string) => readdirSync(runs).filter((n) => /^[0-9a-f]{32}$/.test(n)).sort();

/** The published output digests of one state in a run, by dataset. */
function digestsOf(runDir: string, state: string): Record<string, string> {
  const lines = ledger(runDir).filter((e) => e.state === state);
  const last = lines[lines.length - 1]!;
  return Object.fromEntries((last.outputs ?? []).map((o) => [o.dataset, o.sha256]));
}

/** The check values of a run's validation_report_fx.json, read from the published file itself. */
function checkValues(runDir: string): Record<string, number> {
  const out = ledger(runDir)
    .flatMap((e) => e.outputs ?? [])
    .find((o) => o.path.endsWith('/validation_report_fx.json'))!;
  const doc = readJson<{ checks: { id: string; value: number }[] }>(join(runDir, out.path));
  return Object.fromEntries(doc.checks.map((c) => [c.id, c.value]));
}

describe('dag run --seeds and dag report --group', () => {
  const root = copyFixture();
  const runs = tempDir('runs');
  let matrix: Matrix;
  let other: RunJson;

  beforeAll(async () => {
    const r = await dag(root, runs, ['run', '--seeds', '42,7', '--json']);
    expect(r.code, r.stderr).toBe(0);
    matrix = JSON.parse(r.stdout) as Matrix;
    other = await dagRun(root, runs, ['--seed', '7']); // not in the group
  }, LIFECYCLE_TIMEOUT);

  it('runs one run per seed, in order, sharing one group_id written in each receipt', () => {
    expect(matrix.exit_code).toBe(0);
    expect(matrix.group_id).toMatch(/^[0-9a-f]{8,}$/);
    expect(matrix.runs.map((r) => r.seed)).toEqual([42, 7]);
    expect(matrix.runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    expect(new Set(matrix.runs.map((r) => r.run_id)).size).toBe(2);
    for (const [i, r] of matrix.runs.entries()) {
      const receipt = readJson(join(r.run_dir, 'run_receipt.json'));
      expect(receipt.group_id).toBe(matrix.group_id);
      expect(receipt.seed).toBe([42, 7][i]);
      expect(receipt.run_id).toBe(r.run_id);
    }
    expect(readJson(join(other.run_dir, 'run_receipt.json')).group_id).toBeNull();
  });

  it('computes the world-scoped fx.S0 once: ran in the first run, cached in the second, same digest; seed-scoped digests differ', () => {
    const [first, second] = matrix.runs as [Matrix['runs'][0], Matrix['runs'][0]];
    const s0 = (dir: string) => ledger(dir).filter((e) => e.state === 'fx.S0').map((e) => e.action);
    expect(s0(first.run_dir)).toEqual(['ran']);
    expect(s0(second.run_dir)).toEqual(['cached']);
    expect(digestsOf(second.run_dir, 'fx.S0')).toEqual(digestsOf(first.run_dir, 'fx.S0'));
    expect(Object.keys(digestsOf(first.run_dir, 'fx.S0'))).toEqual(['regions_fx']);
    expect(first.counts).toMatchObject({ ran: 5, cached: 0 });
    expect(second.counts).toMatchObject({ ran: 4, cached: 1 });
    for (const state of ['fx.S1', 'fx.S2', 'fx.S3']) {
      const a = digestsOf(first.run_dir, state);
      const b = digestsOf(second.run_dir, state);
      expect(Object.keys(a).length, state).toBeGreaterThan(0);
      expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
      for (const dataset of Object.keys(a)) expect(b[dataset], `${state} ${dataset}`).not.toBe(a[dataset]);
    }
  });

  it('dag runs --group lists exactly the group; an unknown group exits 2', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const all = await dagJson<{ id: string; group: string | null }[]>(root, runs, ['runs']);
    expect(all.map((r) => r.id).sort()).toEqual([...matrix.runs.map((r) => r.run_id), other.run_id].sort());
    const grouped = await dagJson<{ id: string; group: string | null }[]>(root, runs, ['runs', '--group', matrix.group_id]);
    expect(grouped.map((r) => r.id).sort()).toEqual(matrix.runs.map((r) => r.run_id).sort());
    expect(grouped.every((r) => r.group === matrix.group_id)).toBe(true);
    const unknown = await dag(root, runs, ['runs', '--group', 'feedfacefeedface']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('[unknown-group]');
  });

  it('dag report --group gives every numeric check per seed, with mean, sample std and CV', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const report = await dagJson<Report>(root, runs, ['report', '--group', matrix.group_id]);
    expect(report.group).toBe(matrix.group_id);
    expect(report.runs).toEqual(matrix.runs.map((r) => ({ run: r.run_id, seed: r.seed, status: 'succeeded' })));
    expect(report.metrics.map((m) => m.metric).sort()).toEqual(CHECKS.map(metricName).sort());
    expect(report.above_max_cv).toEqual([]);

    const perSeed = matrix.runs.map((r) => checkValues(r.run_dir));
    for (const check of CHECKS) {
      const row = report.metrics.find((m) => m.metric === metricName(check))!;
      const xs = perSeed.map((v) => v[check]!);
      expect(xs.every((x) => typeof x === 'number')).toBe(true);
      expect(row.values).toEqual(xs);
      expect(row.n).toBe(2);
      const mean = (xs[0]! + xs[1]!) / 2;
      const std = Math.sqrt(((xs[0]! - mean) ** 2 + (xs[1]! - mean) ** 2) / (2 - 1)); // sample: n - 1
      expect(row.mean).toBeCloseTo(mean, 12);
      expect(row.std).toBeCloseTo(std, 12);
      if (mean === 0) expect(row.cv).toBeNull();
      else expect(row.cv).toBeCloseTo(std / Math.abs(mean), 12);
    }
    // the seeds really differ in pairs_nonempty, so its CV is a positive number the flags can test
    const pairs = report.metrics.find((m) => m.metric === metricName('pairs_nonempty'))!;
    expect(pairs.values[0]).not.toBe(pairs.values[1]);
    expect(pairs.cv).toBeGreaterThan(0);

    const text = await dag(root, runs, ['report', '--group', matrix.group_id]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/SEED 42\s+SEED 7\s+MEAN\s+STD\s+CV/);
    expect(text.stdout).toContain(metricName('pairs_nonempty'));
  });

  it('--metrics filters the rows; --max-cv exits 1 when a CV is above it, 0 otherwise', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const full = await dagJson<Report>(root, runs, ['report', '--group', matrix.group_id]);
    const cv = full.metrics.find((m) => m.metric === metricName('pairs_nonempty'))!.cv!;
    expect(cv).toBeGreaterThan(0);

    const onlyPairs = await dagJson<Report>(root, runs, ['report', '--group', matrix.group_id, '--metrics', 'pairs_']);
    expect(onlyPairs.metrics.map((m) => m.metric)).toEqual([metricName('pairs_nonempty')]);
    const onlyAmount = await dagJson<Report>(root, runs, ['report', '--group', matrix.group_id, '--metrics', 'amount_non']);
    expect(onlyAmount.metrics.map((m) => m.metric)).toEqual([metricName('amount_nonnegative')]);
    const none = await dagJson<Report>(root, runs, ['report', '--group', matrix.group_id, '--metrics', '^nothing$']);
    expect(none.metrics).toEqual([]);

    const above = await dagJson<Report>(root, runs, ['report', '--group', matrix.group_id, '--max-cv', String(cv / 2)], 1);
    expect(above.above_max_cv).toEqual([metricName('pairs_nonempty')]);
    expect(above.max_cv).toBe(cv / 2);
    const below = await dagJson<Report>(root, runs, ['report', '--group', matrix.group_id, '--max-cv', String(cv * 2)], 0);
    expect(below.above_max_cv).toEqual([]);
    // the filter decides which CVs count
    const filtered = await dagJson<Report>(root, runs, ['report', '--group', matrix.group_id, '--max-cv', String(cv / 2), '--metrics', 'amount'], 0);
    expect(filtered.above_max_cv).toEqual([]);
    const text = await dag(root, runs, ['report', '--group', matrix.group_id, '--max-cv', String(cv / 2)]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`1 metric(s) above CV ${cv / 2}: ${metricName('pairs_nonempty')}`);
  });

  it('an unknown group exits 2', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const r = await dag(root, runs, ['report', '--group', 'feedfacefeedface']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no runs in group 'feedfacefeedface'");
  });

  it('--seeds with a non-integer or a repeated seed exits 2 before any run folder exists', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const before = runFolders(runs);
    expect(before).toHaveLength(3);
    for (const [list, says] of [['1,x', 'integers from 0 to 9007199254740991'], ['1,1', 'lists a seed twice'], ['-3', 'integers from 0 to 9007199254740991'], ['', 'integers from 0 to 9007199254740991']] as const) {
      const r = await dag(root, runs, ['run', '--seeds', list]);
      expect(r.code, `--seeds '${list}'`).toBe(2);
      expect(r.stderr, `--seeds '${list}'`).toContain(says);
      expect(r.stderr).toContain('[bad-seeds]');
    }
    expect(runFolders(runs)).toEqual(before);
  });
});

describe('dag run --seeds: each run reports its own outcome', () => {
  it("a seed's failure is listed in its own run's summary, never in another seed's (issue 13)", async () => {
    const root = copyFixture();
    const runs = tempDir('runs');
    const kernel = join(root, 'states', 'fx', 'S4_summary.sql');
    const { readFileSync, writeFileSync } = await import('node:fs');
    writeFileSync(kernel, readFileSync(kernel, 'utf8').replace('-- step: summarize\n', "-- step: summarize\nselect CASE WHEN getvariable('seed') = 7 THEN error('seed 7 fails here') END;\n"));
    const r = await dag(root, runs, ['run', '--seeds', '42,7', '--json']);
    expect(r.code).toBe(1);
    const m = JSON.parse(r.stdout) as Matrix & { runs: { seed: number; status: string; failures: { task: string; error: string }[] }[] };
    const bySeed = Object.fromEntries(m.runs.map((x) => [x.seed, x]));
    expect(bySeed[42]!.status).toBe('succeeded');
    expect(bySeed[42]!.failures).toEqual([]);
    expect(bySeed[7]!.status).toBe('failed');
    expect(bySeed[7]!.failures.map((f) => f.task)).toEqual(['fx.S4']);
    expect(bySeed[7]!.failures[0]!.error).toContain('seed 7 fails here');
  }, LIFECYCLE_TIMEOUT);
});
