// `dag diff RUN1 RUN2` end to end (issue 16): real runs of test/fixtures/certify (validation reports
// with gates) and the diamond (a profile): settings, inputs with the JSON pointers that changed,
// metrics of the validation reports with their deltas and statuses, gate verdicts, datasets.
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunDiff } from '../../dag/store/rundiff.js';
import { dropUnlinkedInputRecords } from '../../dag/store/prune.js';
import { cleanup, copyCertifyFixture, copyFixture, dag, dagJson, dagRun, LIFECYCLE_TIMEOUT, ledger, readJson, tempDir, type RunJson } from '../lifecycle/helpers.js';

afterAll(cleanup);

function edit(root: string, rel: string, from: string, to: string): void {
  const text = readFileSync(join(root, rel), 'utf8');
  if (!text.includes(from)) throw new Error(`${rel} does not contain ${JSON.stringify(from)}`);
  writeFileSync(join(root, rel), text.replace(from, to));
}

/** A check of a run's published validation report. */
function checkOf(runDir: string, dataset: string, id: string): { value: number; status: string } {
  const out = ledger(runDir).flatMap((e) => e.outputs ?? []).find((o) => o.dataset === dataset)!;
  return readJson<{ checks: { id: string; value: number; status: string }[] }>(join(runDir, out.path)).checks.find((c) => c.id === id)!;
}

describe('dag diff: inputs, settings, metrics and gates of two runs', () => {
  const root = copyCertifyFixture();
  const runs = tempDir('runs');
  // cz.S1 depends on two keys of its parameters only
  edit(root, 'states/cz/S1_items.yaml', '    schema: contracts/fixture.yaml#/cz_params\n', '    schema: contracts/fixture.yaml#/cz_params\n    keys: [/base_share, /seed_spread]\n');
  let a: RunJson;
  let b: RunJson;

  it('a config key, a policy band, a kernel, a manifest and the seed changed: each is named, the gate values moved and the gate now fails (exit 1)', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    a = await dagRun(root, runs);
    edit(root, 'config/cz.yaml', 'seed_spread: 0.02', 'seed_spread: 0.5');
    edit(root, 'config/cz_policy.yaml', 'flag_share: { B: [0.05, 0.95], Bplus: [0.2, 0.8] }', 'flag_share: { B: [0.45, 0.95], Bplus: [0.48, 0.8] }');
    writeFileSync(join(root, 'states/dz/S1_validation.sql'), readFileSync(join(root, 'states/dz/S1_validation.sql'), 'utf8') + '-- an edit of the kernel\n');
    edit(root, 'states/dz/S1_validation.yaml', 'title: Downstream validation', 'title: Downstream check');
    b = await dagRun(root, runs, ['--seed', '7'], 1); // flag_share now fails B: cz's gate fails

    const d = await dagJson<RunDiff>(root, runs, ['diff', a.run_id, b.run_id], 1);
    expect(d).toMatchObject({ run1: a.run_id, run2: b.run_id });
    expect(d.settings.map((s) => [s.field, s.run1 === s.run2])).toEqual([['seed', false], ['parameter_hash', false], ['manifest_fingerprint', false]]);
    expect(d.settings[0]).toEqual({ field: 'seed', run1: 42, run2: 7 });
    expect(d.versions).toEqual([]);

    expect(d.inputs.unrecorded).toEqual([]);
    expect(d.inputs.differences.map((c) => [c.path, c.kind, c.change])).toEqual([
      ['config/cz.yaml', 'input', 'differs'],
      ['config/cz_policy.yaml', 'input', 'differs'],
      ['states/dz/S1_validation.sql', 'kernel', 'differs'],
      ['states/dz/S1_validation.yaml', 'manifest', 'differs'],
    ]);
    const [params, policy, kernel, manifest] = d.inputs.differences;
    expect(manifest!.pointers!.map((p) => [p.pointer, p.run1, p.run2])).toEqual([['/title', expect.stringMatching(/^Downstream validation/), expect.stringMatching(/^Downstream check/)]]);
    expect(params!.pointers).toEqual([{ pointer: '/seed_spread', run1: 0.02, run2: 0.5, keyed_by: ['cz.S1'], outside_keys_of: [] }]);
    expect(policy!.pointers!.map((p) => [p.pointer, p.run1, p.run2])).toEqual([['/gates/flag_share/B/0', 0.05, 0.45], ['/gates/flag_share/Bplus/0', 0.2, 0.48]]);
    expect(kernel!.pointers).toBeUndefined();
    expect(kernel!.sha256_1).not.toBe(kernel!.sha256_2);
    expect(d.inputs.same).toBeGreaterThan(0); // the other kernels and manifests, the prelude, the contracts, dz's configs

    // the metrics, as both runs' published reports have them
    const share = [checkOf(a.run_dir, 'validation_report_cz', 'flag_share'), checkOf(b.run_dir, 'validation_report_cz', 'flag_share')];
    expect(share.map((c) => c.status)).toEqual(['PASS', 'FAIL']);
    const metric = (name: string) => d.metrics.differences.find((m) => m.metric === name);
    expect(metric('validation_report_cz:flag_share')).toEqual({ metric: 'validation_report_cz:flag_share', run1: share[0]!.value, run2: share[1]!.value, delta: share[1]!.value - share[0]!.value, status1: 'PASS', status2: 'FAIL' });
    expect(metric('validation_report_cz:flag_share.threshold_B.lo')).toMatchObject({ run1: 0.05, run2: 0.45, status1: null });
    expect(metric('validation_report_cz:flag_share.threshold_B.hi')).toBeUndefined(); // unchanged
    expect(metric('validation_report_cz:odd_flag_share')).toMatchObject({ status1: 'PASS', status2: 'PASS' });
    expect(metric('validation_report_cz/counts/FAIL')).toMatchObject({ run1: 0, run2: 1, delta: 1 });
    expect(d.metrics.differences.filter((m) => m.metric.startsWith('validation_report_dz'))).toEqual([]); // dz measured the same
    expect(d.gates.differences).toEqual([{ gate: 'cz.S2', segment: 'cz', passed1: true, passed2: false }]);
    expect(d.datasets.differences.map((x) => x.dataset)).toEqual(['items_cz', 'validation_issue_table_cz', 'validation_report_cz']);
    expect(d.count).toBe(d.settings.length + d.inputs.differences.length + d.metrics.differences.length + d.gates.differences.length + d.datasets.differences.length);

    const text = await dag(root, runs, ['diff', a.run_id, b.run_id]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^seed\s+42\s+7$/m);
    expect(text.stdout).toMatch(/^config\/cz\.yaml\s+input\s+differs\s+\/seed_spread: 0\.02 -> 0\.5 \(keys: of cz\.S1\)$/m);
    expect(text.stdout).toMatch(/^config\/cz_policy\.yaml\s+input\s+differs\s+\/gates\/flag_share\/B\/0: 0\.05 -> 0\.45\n\s+\/gates\/flag_share\/Bplus\/0: 0\.2 -> 0\.48$/m);
    expect(text.stdout).toMatch(/^states\/dz\/S1_validation\.sql\s+kernel\s+differs\s+sha256 [0-9a-f]{12} -> [0-9a-f]{12}$/m);
    expect(text.stdout).toMatch(/^METRIC\s+RUN1\s+RUN2\s+DELTA\s+STATUS$/m);
    expect(text.stdout).toMatch(/^validation_report_cz:flag_share\s+0\.\d+\s+0\.\d+\s+-0\.\d+\s+PASS -> FAIL$/m);
    expect(text.stdout).toMatch(/^validation_report_cz:flag_share\.threshold_B\.lo\s+0\.05\s+0\.45\s+\+0\.4$/m);
    expect(text.stdout).toMatch(/^cz\.S2\s+cz\s+passed\s+failed$/m);
    expect(text.stdout).toMatch(/^items_cz\s+cz\.S1\s+differs\s+1000\s+1000$/m);
    expect(text.stdout).toMatch(/^states\/dz\/S1_validation\.yaml\s+manifest\s+differs\s+\/title: "Downstream validation.*" -> "Downstream check.*"$/m);
    expect(text.stdout).toMatch(/3 of 4 datasets differ; 3 setting\(s\); 4 of \d+ inputs; \d+ of \d+ metrics; 1 of 2 gate verdicts/);
  });

  it('the same inputs and seed again: no differences (exit 0)', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const again = await dagRun(root, runs, ['--seed', '7'], 1); // served from the cache: the same failing gate
    const d = await dagJson<RunDiff>(root, runs, ['diff', b.run_id, again.run_id], 0);
    expect(d.count).toBe(0);
    const text = await dag(root, runs, ['diff', b.run_id, again.run_id]);
    expect(text.stdout).toMatch(/^no differences: 4 datasets identical in \S+ and \S+; same settings, \d+ inputs, \d+ metrics and 2 gate verdicts$/m);
  });

  it('a run without inputs.json (made before dag kept one) says its inputs were not compared, and what its hashes tell', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    renameSync(join(a.run_dir, 'inputs.json'), join(a.run_dir, 'inputs.json.hidden'));
    try {
      const d = await dagJson<RunDiff>(root, runs, ['diff', a.run_id, b.run_id], 1);
      expect(d.inputs).toEqual({ same: 0, differences: [], unrecorded: [a.run_id] });
      expect(d.settings.map((s) => s.field)).toContain('parameter_hash');
      const text = await dag(root, runs, ['diff', a.run_id, b.run_id]);
      expect(text.stdout).toContain(`inputs not compared: run ${a.run_id} recorded no inputs.json (made before dag kept one); the lineage hashes differ, so some input does, which one is not recorded`);
      expect(text.stdout).not.toMatch(/^INPUT/m);
      expect(text.stdout).toMatch(/^validation_report_cz:flag_share\s/m); // the rest is still compared
      const self = await dag(root, runs, ['diff', a.run_id, a.run_id]);
      expect(self.code).toBe(0);
      expect(self.stdout).toContain('the lineage hashes are the same, so are the inputs');
    } finally {
      renameSync(join(a.run_dir, 'inputs.json.hidden'), join(a.run_dir, 'inputs.json'));
    }
  });
});

describe('dag diff: a profile', () => {
  it('names the profile and the file read in place of the input, with its changed pointers', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const root = copyFixture();
    const runs = tempDir('runs');
    const plain = await dagRun(root, runs);
    const big = await dagRun(root, runs, ['--profile', 'big']);
    const d = await dagJson<RunDiff>(root, runs, ['diff', plain.run_id, big.run_id], 1);
    expect(d.settings.find((s) => s.field === 'profile')).toEqual({ field: 'profile', run1: null, run2: 'big' });
    const params = d.inputs.differences.find((c) => c.path === 'config/params.yaml')!;
    expect(params).toMatchObject({ change: 'differs', read1: 'config/params.yaml', read2: 'config/params.big.yaml' });
    expect(params.pointers!.map((p) => [p.pointer, p.run1, p.run2])).toEqual([['/customers_per_region', 50, 500], ['/merchants_per_region', 5, 20]]);
    const text = await dag(root, runs, ['diff', plain.run_id, big.run_id]);
    expect(text.stdout).toMatch(/^profile\s+-\s+big$/m);
    expect(text.stdout).toMatch(/^config\/params\.yaml\s+input\s+differs\s+read config\/params\.yaml -> config\/params\.big\.yaml\n\s+\/customers_per_region: 50 -> 500$/m);
  });
});

describe('inputs.json: one shared record per project version (issue 15: a no-op run does not rebuild it)', () => {
  it('runs of an unchanged project link one record; an edit makes another; prune drops a record no run links', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const root = copyFixture({ retention: '{ keep_last: 1 }' });
    const runs = tempDir('runs');
    const records = () => readdirSync(join(runs, '.cache', 'inputs')).sort();
    const a = await dagRun(root, runs);
    const b = await dagRun(root, runs);
    expect(statSync(join(a.run_dir, 'inputs.json')).ino).toBe(statSync(join(b.run_dir, 'inputs.json')).ino);
    expect(records()).toHaveLength(1);
    edit(root, 'config/params.yaml', 'customers_per_region: 50', 'customers_per_region: 60');
    const c = await dagRun(root, runs);
    expect(records()).toHaveLength(2);
    expect(statSync(join(c.run_dir, 'inputs.json')).ino).not.toBe(statSync(join(a.run_dir, 'inputs.json')).ino);
    // the shared record is the run's own: the diff names the edited pointer
    const d = await dagJson<RunDiff>(root, runs, ['diff', a.run_id, c.run_id], 1);
    expect(d.inputs.differences.find((x) => x.path === 'config/params.yaml')!.pointers!.map((p) => [p.pointer, p.run1, p.run2])).toEqual([['/customers_per_region', 50, 60]]);
    await dag(root, runs, ['prune', '--yes']);
    expect([a, b, c].map((r) => existsSync(r.run_dir))).toEqual([false, false, true]);
    dropUnlinkedInputRecords(join(runs, '.cache')); // a and b's record was just unlinked: kept for now
    expect(records()).toHaveLength(2);
    dropUnlinkedInputRecords(join(runs, '.cache'), Date.now() + 11 * 60_000);
    expect(records().map((f) => statSync(join(runs, '.cache', 'inputs', f)).ino)).toEqual([statSync(join(c.run_dir, 'inputs.json')).ino]);
  });
});
