// `dag report --group G` certifications, end to end: real `dag` processes and DuckDB on the engine-free
// fixture test/fixtures/certify (cz.S1 items -> cz.S2 validation with a cross_seed declaration -> dz.S1, a
// downstream report that may resolve a cz gate), its reports made by the repository's own
// states/_lib/validation.sql and checked against contracts/engine.yaml, both copied into the fixture.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Certification } from '../../dag/store/certify.js';
import { spreadOf } from '../../dag/store/report.js';
import { cleanup, copyCertifyFixture, dag, dagJson, LIFECYCLE_TIMEOUT, ledger, readJson, tempDir } from '../lifecycle/helpers.js';

afterAll(cleanup);

const SEEDS = [42, 7, 101, 202];

interface Matrix {
  group_id: string;
  runs: { run_id: string; run_dir: string; seed: number; status: string }[];
  exit_code: number;
}
interface ReportJson {
  runs: { run: string; seed: number; status: string }[];
  metrics: { metric: string }[];
  above_max_cv: string[];
  certifications: Certification[];
}

/** The published validation report of a run, by dataset. */
function publishedReport(runDir: string, dataset: string): { verdict: string; measured_verdict: string; passed: boolean; pending: unknown[]; checks: { id: string; value: number | null }[] } {
  const out = ledger(runDir)
    .flatMap((e) => e.outputs ?? [])
    .find((o) => o.dataset === dataset)!;
  return readJson(join(runDir, out.path));
}

describe('dag report --group: certification from the reports declarations', () => {
  const root = copyCertifyFixture();
  const runs = tempDir('runs');
  const policyFile = join(root, 'config', 'cz_policy.yaml');
  const basePolicy = readFileSync(policyFile, 'utf8');
  const paramsFile = join(root, 'config', 'cz.yaml');
  const baseParams = readFileSync(paramsFile, 'utf8');

  async function runGroup(seeds: number[]): Promise<Matrix> {
    const r = await dag(root, runs, ['run', '--seeds', seeds.join(','), '--json']);
    expect(r.code, r.stderr).toBe(0); // every run's own gates pass: pending gates do not close them
    return JSON.parse(r.stdout) as Matrix;
  }
  /** The JSON and the text of one report; both must exit `code`. */
  async function reportOf(group: string, code: number): Promise<{ json: ReportJson; text: string }> {
    const json = await dagJson<ReportJson>(root, runs, ['report', '--group', group], code);
    const text = await dag(root, runs, ['report', '--group', group]);
    expect(text.code).toBe(code);
    return { json, text: text.stdout };
  }
  const reasonLines = (text: string) => text.split('\n').filter((l) => l.startsWith('  - ')).map((l) => l.slice(4));

  let complete: Matrix;
  beforeAll(async () => {
    complete = await runGroup(SEEDS);
  }, LIFECYCLE_TIMEOUT);

  it('each run: its report is PENDING (the cross-seed gate is not measured in one run), its measured gates at B+', () => {
    for (const r of complete.runs) {
      const rep = publishedReport(r.run_dir, 'validation_report_cz');
      expect(rep).toMatchObject({ passed: true, verdict: 'PENDING', measured_verdict: 'PASS_BPLUS', pending: [{ id: 'cross_seed_cv', reason: 'cross-seed', measured_by: null }] });
      expect(publishedReport(r.run_dir, 'validation_report_dz')).toMatchObject({ verdict: 'PASS_BPLUS', pending: [] });
    }
  });

  it('a complete four-seed group certifies PASS_BPLUS; the cross-seed gate is the largest CV of the declared key rates', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const { json, text } = await reportOf(complete.group_id, 0);
    expect(json.certifications.map((c) => c.report)).toEqual(['validation_report_cz']); // dz declares no cross_seed
    const [c] = json.certifications as [Certification];
    expect(c).toMatchObject({ segment: 'cz', gate: 'cross_seed_cv', seeds: SEEDS, verdict: 'PASS_BPLUS', reasons: [] });
    // recomputed from the published files
    const perSeed = SEEDS.map((s) => publishedReport(complete.runs.find((r) => r.seed === s)!.run_dir, 'validation_report_cz'));
    const cvs = ['flag_share', 'odd_flag_share'].map((id) => {
      const values = perSeed.map((rep) => rep.checks.find((x) => x.id === id)!.value);
      expect(c.key_rates.find((k) => k.id === id)!.values).toEqual(values);
      expect(new Set(values).size).toBeGreaterThan(1); // the seeds really differ
      return spreadOf(values).cv!;
    });
    const gate = c.gates.find((g) => g.id === 'cross_seed_cv')!;
    expect(gate).toMatchObject({ cross_seed: true, status: 'PASS', band_b: [null, 0.1], band_bplus: [null, 0.05] });
    expect(gate.value).toBeCloseTo(Math.max(...cvs), 12);
    expect(gate.value).toBeGreaterThan(0);
    expect(c.gates.map((g) => [g.id, g.status])).toEqual([['cross_seed_cv', 'PASS'], ['flag_share', 'PASS'], ['item_ids_unique', 'PASS']]);

    expect(text).toContain('certification of validation_report_cz (segment cz): PASS_BPLUS');
    expect(text).toMatch(/GATE\s+B\s+B\+\s+SEED 42\s+SEED 7\s+SEED 101\s+SEED 202\s+CERTIFIED\s+STATUS/);
    expect(text).toMatch(/cross_seed_cv\s+\[-, 0\.1\]\s+\[-, 0\.05\]\s+PENDING\s+PENDING\s+PENDING\s+PENDING\s+0\.0\d+\s+PASS/);
    expect(text).toContain('\nverdict PASS_BPLUS');
    expect(reasonLines(text)).toEqual([]);
    // the metric table is still there, and --max-cv still fails on its own
    expect(text).toMatch(/METRIC\s+SEED 42/);
    // a check's thresholds are named by its id, never by its place in the checks list (issue 16)
    const names = json.metrics.map((m) => m.metric);
    expect(names.filter((n) => n.includes('/checks/'))).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(['validation_report_cz:flag_share', 'validation_report_cz:flag_share.threshold_B.lo', 'validation_report_cz:flag_share.threshold_B.hi', 'validation_report_cz:flag_share.threshold_Bplus.lo', 'validation_report_cz:flag_share.threshold.lo', 'validation_report_cz:item_ids_unique.threshold.equals', 'validation_report_cz/counts/PASS']));
    expect(text).toMatch(/^validation_report_cz:flag_share\.threshold_B\.hi\s+0\.95\s+0\.95\s+0\.95\s+0\.95\s+0\.95\s+0\s+0$/m);
    expect((await dag(root, runs, ['report', '--group', complete.group_id, '--max-cv', '0.001'])).code).toBe(1);
  });

  it('a group missing a declared seed reads HOLD_REMEDIATE naming the seed (exit 1)', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const partial = await runGroup([42, 7, 101]);
    const { json, text } = await reportOf(partial.group_id, 1);
    const [c] = json.certifications as [Certification];
    expect(c.verdict).toBe('HOLD_REMEDIATE');
    expect(c.reasons).toEqual(['seed 202: no run in the group']);
    expect(c.gates.find((g) => g.id === 'cross_seed_cv')).toMatchObject({ value: null, status: 'PENDING' });
    expect(text).toContain('certification of validation_report_cz (segment cz): HOLD_REMEDIATE');
    expect(text).toContain('verdict HOLD_REMEDIATE:');
    expect(reasonLines(text)).toEqual(c.reasons);
  });

  it('a downstream gate still PENDING holds, naming it; the downstream report whose check resolves it clears it', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    writeFileSync(policyFile, basePolicy.replace('gates:\n', 'gates:\n  chain_gate: { B: [1, 1], Bplus: [1, 1], pending: downstream, measured_by: dz }\n'));
    const pending = await runGroup(SEEDS);
    expect(publishedReport(pending.runs[0]!.run_dir, 'validation_report_cz').pending).toEqual([
      { id: 'chain_gate', reason: 'downstream', measured_by: 'dz' },
      { id: 'cross_seed_cv', reason: 'cross-seed', measured_by: null },
    ]);
    const held = await reportOf(pending.group_id, 1);
    const [c] = held.json.certifications as [Certification];
    expect(c.verdict).toBe('HOLD_REMEDIATE');
    expect(c.reasons).toEqual(['chain_gate: PENDING in seeds 42, 7, 101, 202 (downstream, measured by dz; no other report of the run resolves it)']);
    expect(reasonLines(held.text)).toEqual(c.reasons);

    writeFileSync(join(root, 'config', 'dz.yaml'), "resolves: 'cz:chain_gate'\n");
    const resolved = await runGroup(SEEDS);
    const cleared = await reportOf(resolved.group_id, 0);
    const [r] = cleared.json.certifications as [Certification];
    expect(r).toMatchObject({ verdict: 'PASS_BPLUS', reasons: [], notes: ['chain_gate: measured by validation_report_dz:chain_complete in seeds 42, 7, 101, 202'] });
    expect(r.gates.find((g) => g.id === 'chain_gate')!.seeds.map((s) => [s.status, s.value, s.resolved_by])).toEqual(SEEDS.map(() => ['PASS', 1, 'validation_report_dz:chain_complete']));
    expect(cleared.text).toContain('note: chain_gate: measured by validation_report_dz:chain_complete');
    expect(cleared.text).toContain('\nverdict PASS_BPLUS');
    writeFileSync(policyFile, basePolicy);
  });

  it('a key rate that moves strongly with the seed fails the cross-seed gate: HOLD_REMEDIATE, though every run passed its own gates', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    writeFileSync(paramsFile, baseParams.replace('seed_spread: 0.02', 'seed_spread: 0.5'));
    const spread = await runGroup(SEEDS);
    for (const r of spread.runs) expect(publishedReport(r.run_dir, 'validation_report_cz')).toMatchObject({ passed: true, verdict: 'PENDING', measured_verdict: 'PASS_BPLUS' });
    const { json, text } = await reportOf(spread.group_id, 1);
    const [c] = json.certifications as [Certification];
    const gate = c.gates.find((g) => g.id === 'cross_seed_cv')!;
    expect(gate.value).toBeGreaterThan(0.1);
    expect(gate.status).toBe('FAIL');
    expect(c.verdict).toBe('HOLD_REMEDIATE');
    expect(c.reasons).toEqual([expect.stringMatching(/^cross_seed_cv: max CV 0\.\d+ \(key rate (odd_)?flag_share\) outside B \[-, 0\.1\]$/)]);
    expect(reasonLines(text)).toEqual(c.reasons);
    expect(text).toMatch(/cross_seed_cv\s+.*\s+FAIL\n/);
    writeFileSync(paramsFile, baseParams);
  });

  it('a group query measures a gate over two seeds\' runs (a project SQL file, one schema per role), graded by its bands; out of band it holds; a bad path exits 2', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const withQuery = (bandB: string, sql = 'states/cz/gap.sql') =>
      basePolicy.replace('gates:\n', `gates:\n  flag_gap: { B: ${bandB}, Bplus: ${bandB}, pending: cross-seed }\n`) +
      `  queries:\n    - sql: ${sql}\n      roles: { a: 42, b: 7 }\n      gates: [flag_gap]\n`;
    writeFileSync(join(root, 'states', 'cz', 'gap.sql'), 'select abs((select avg(flagged::INTEGER) from a.items_cz) - (select avg(flagged::INTEGER) from b.items_cz)) as flag_gap, (select count(*) from b.items_cz) as items_b\n');
    writeFileSync(policyFile, withQuery('[0, 0.5]'));
    const g = await runGroup(SEEDS);
    const { json, text } = await reportOf(g.group_id, 0);
    const [c] = json.certifications as [Certification];
    const share = (seed: number) => publishedReport(g.runs.find((r) => r.seed === seed)!.run_dir, 'validation_report_cz').checks.find((x) => x.id === 'flag_share')!.value!;
    const gap = c.gates.find((x) => x.id === 'flag_gap')!;
    expect(gap).toMatchObject({ cross_seed: true, status: 'PASS' });
    expect(gap.value).toBeCloseTo(Math.abs(share(42) - share(7)), 12);
    expect(gap.value).toBeGreaterThan(0);
    expect(c.verdict).toBe('PASS_BPLUS');
    expect(c.notes).toEqual([expect.stringMatching(/^states\/cz\/gap\.sql \(a [0-9a-f]{8}, b [0-9a-f]{8}\): flag_gap 0\.\d+; items_b 1000$/)]);
    expect(text).toMatch(/flag_gap\s+\[0, 0\.5\]\s+\[0, 0\.5\]\s+PENDING\s+PENDING\s+PENDING\s+PENDING\s+0\.\d+\s+PASS/);

    writeFileSync(policyFile, withQuery('[0, 0.000001]'));
    const tight = await reportOf((await runGroup(SEEDS)).group_id, 1);
    const [t] = tight.json.certifications as [Certification];
    expect(t.verdict).toBe('HOLD_REMEDIATE');
    expect(t.reasons).toEqual([expect.stringMatching(/^flag_gap: 0\.\d+ from states\/cz\/gap\.sql \(a seed 42, b seed 7\) outside B \[0, 0\.000001\]$/)]);

    // a path the policy contract refuses stops the run; one that names no file stops the report
    writeFileSync(policyFile, withQuery('[0, 0.5]', '../outside.sql'));
    const refused = await dag(root, runs, ['run', '--seeds', '42,7']);
    expect(refused.code).toBe(2);
    expect(refused.stdout + refused.stderr).toMatch(/cz_policy\.yaml[\s\S]*\/cross_seed\/queries\/0\/sql/);
    writeFileSync(policyFile, withQuery('[0, 0.5]', 'states/cz/nothing.sql'));
    const missing = await dag(root, runs, ['report', '--group', (await runGroup([42, 7])).group_id]);
    expect(missing.code).toBe(2);
    expect(missing.stdout + missing.stderr).toMatch(/validation_report_cz[\s\S]*\/cross_seed\/queries\/0\/sql[\s\S]*no such file[\s\S]*nothing\.sql/);
    writeFileSync(policyFile, basePolicy);
  });
});
