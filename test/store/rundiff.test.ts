// diffRuns (store/rundiff.ts) on hand-made runs: the cases a fixture run does not reach cheaply —
// an input added and one removed, a pointer outside an input's keys:, a profile reading another file,
// a run without inputs.json. The end-to-end cases are in test/cli/diff.test.ts.
import { describe, expect, it } from 'vitest';
import type { RecordedFile } from '../../dag/store/inputs.js';
import { diffRuns, type RunSide } from '../../dag/store/rundiff.js';
import type { RunReceipt } from '../../dag/store/runs.js';

const receipt = (over: Partial<RunReceipt> = {}): RunReceipt => ({
  run_id: 'x', created_utc: '2026-01-01T00:00:00Z', finished_utc: null, status: 'succeeded', seed: 42, scenarios: ['baseline'], profile: null, targets: [],
  parameter_hash: 'p', manifest_fingerprint: 'm', staged_from_run_id: null, from_state: null, group_id: null, engine_version: null, dag_version: '0.1.0', git_commit: null, duckdb_version: '1', project: 'p',
  ...over,
});
const side = (id: string, files: RecordedFile[] | undefined, over: Partial<RunReceipt> = {}): RunSide => ({
  id, receipt: receipt(over), inputs: files && { files }, datasets: new Map(), reports: new Map(), gates: new Map(),
});
const doc = (path: string, document: unknown, extra: Partial<RecordedFile> = {}): RecordedFile => ({ path, kind: 'input', read: path, sha256: JSON.stringify(document), document, ...extra });

describe('diffRuns', () => {
  it('inputs: added, removed, changed (pointers, inside and outside keys:), read from another file under a profile', () => {
    const keys = { 's.A': ['/mix'], 's.B': ['/size'] };
    const a = side('a', [doc('config/p.yaml', { mix: { x: 1 }, size: 3, note: 'a' }, { keys }), doc('config/gone.yaml', {}), { path: 'k.sql', kind: 'kernel', read: 'k.sql', sha256: '1' }], { profile: null });
    const b = side('b', [doc('config/p.yaml', { mix: { x: 2 }, size: 3, note: 'b' }, { keys, read: 'config/p.big.yaml' }), doc('config/new.yaml', { n: 1 }), { path: 'k.sql', kind: 'kernel', read: 'k.sql', sha256: '1' }], { profile: 'big', dag_version: '0.2.0' });
    const d = diffRuns(a, b);
    expect(d.settings).toEqual([{ field: 'profile', run1: null, run2: 'big' }]);
    expect(d.versions).toEqual([{ field: 'dag_version', run1: '0.1.0', run2: '0.2.0' }]);
    expect(d.inputs.same).toBe(1);
    expect(d.inputs.differences.map((c) => [c.path, c.change])).toEqual([['config/gone.yaml', 'only in run1'], ['config/new.yaml', 'only in run2'], ['config/p.yaml', 'differs']]);
    const p = d.inputs.differences[2]!;
    expect([p.read1, p.read2]).toEqual(['config/p.yaml', 'config/p.big.yaml']);
    expect(p.pointers).toEqual([
      { pointer: '/mix/x', run1: 1, run2: 2, keyed_by: ['s.A'], outside_keys_of: ['s.B'] },
      { pointer: '/note', run1: 'a', run2: 'b', keyed_by: [], outside_keys_of: ['s.A', 's.B'] },
    ]);
    expect(d.count).toBe(4); // versions are not counted
  });

  it('a run without inputs.json: its inputs are not compared, and it is named', () => {
    const d = diffRuns(side('old', undefined), side('new', [doc('config/p.yaml', { a: 1 })]));
    expect(d.inputs).toEqual({ same: 0, differences: [], unrecorded: ['old'] });
    expect(d.count).toBe(0);
  });

  it('metrics: value, delta and status of every check; a metric in one run only; gate verdicts', () => {
    const report = (value: number, status: string) => ({ checks: [{ id: 'g', status, value }] });
    const a = { ...side('a', []), reports: new Map<string, unknown>([['r', report(0.5, 'PASS')]]), gates: new Map([['s.V', { segment: 's', passed: true }]]) };
    const b = { ...side('b', []), reports: new Map<string, unknown>([['r', report(0.25, 'FAIL')], ['r2', { n: 1 }]]), gates: new Map([['s.V', { segment: 's', passed: false }]]) };
    const d = diffRuns(a, b);
    expect(d.metrics.differences).toEqual([
      { metric: 'r2/n', run1: null, run2: 1, status1: null, status2: null, delta: null },
      { metric: 'r:g', run1: 0.5, run2: 0.25, status1: 'PASS', status2: 'FAIL', delta: -0.25 },
    ]);
    expect(d.gates.differences).toEqual([{ gate: 's.V', segment: 's', passed1: true, passed2: false }]);
  });
});
