// The pure parts of --set and dag sweep: values and pointers, the grid's product, the ranking rule,
// and how prune treats a sweep.
import { describe, expect, it } from 'vitest';
import { applyOverrides, parseOverride, splitValues } from '../../dag/project/overrides.js';
import { decideRuns } from '../../dag/store/prune.js';
import { bandDistance, candidatesOf, rankCandidates, scoreCandidate } from '../../dag/store/sweeps.js';

describe('overrides', () => {
  it('VALUE is YAML: numbers, booleans, strings, flow lists and maps', () => {
    expect(parseOverride('config/a.yaml#/x=0.3').value).toBe(0.3);
    expect(parseOverride('config/a.yaml#/x=true').value).toBe(true);
    expect(parseOverride('config/a.yaml#/x=poisson').value).toBe('poisson');
    expect(parseOverride('config/a.yaml#/x=[1, 2]').value).toEqual([1, 2]);
    expect(parseOverride('config/a.yaml#/x={a: 1, b: [x]}').value).toEqual({ a: 1, b: ['x'] });
    expect(parseOverride('./config/a.yaml#/a~1b=x=y')).toEqual({ file: 'config/a.yaml', pointer: '/a~1b', value: 'x=y' });
  });

  it('a grid splits at commas outside brackets, braces and quotes', () => {
    expect(splitValues('1,2.5,x')).toEqual(['1', '2.5', 'x']);
    expect(splitValues('[1, 2],[3],{a: 1, b: 2}')).toEqual(['[1, 2]', '[3]', '{a: 1, b: 2}']);
    expect(splitValues('"a,b",c')).toEqual(['"a,b"', 'c']);
  });

  it('applies to a copy; a new key of an existing map or an index up to the length is allowed; a missing parent is a problem', () => {
    const doc = { a: { b: 1 }, l: [1, 2] };
    const o = (pointer: string, value: unknown) => ({ file: 'f.yaml', pointer, value });
    const r = applyOverrides(doc, [o('/a/b', 2), o('/a/c', 3), o('/l/2', 9), o('/l/-', 10)]);
    expect(r.problems).toEqual([]);
    expect(r.doc).toEqual({ a: { b: 2, c: 3 }, l: [1, 2, 9, 10] });
    expect(doc).toEqual({ a: { b: 1 }, l: [1, 2] });
    const bad = applyOverrides(doc, [o('/x/y', 1), o('/l/7', 1), o('/a/b/c', 1), o('/', 1)]);
    expect(bad.problems.map((p) => p.code)).toEqual(['override-pointer', 'override-pointer', 'override-pointer', 'override-pointer']);
    expect(bad.problems[0]!.message).toContain('nothing at /x');
  });
});

describe('the sweep ranking', () => {
  it('the product of the axes, the last fastest', () => {
    const c = candidatesOf([
      { file: 'f', pointer: '/a', values: [1, 2] },
      { file: 'f', pointer: '/b', values: ['x', 'y'] },
    ]);
    expect(c.map((os) => os.map((o) => o.value))).toEqual([[1, 'x'], [1, 'y'], [2, 'x'], [2, 'y']]);
  });

  it('distance to B+ in units of the room between B+ and B (1 at the B edge); 0 inside B+', () => {
    expect(bandDistance(0.5, [0, 1], [0.2, 0.8])).toBe(0);
    expect(bandDistance(0.9, [0.05, 0.95], [0.2, 0.8])).toBeCloseTo(0.1 / 0.15);
    expect(bandDistance(0.01, [0.05, 0.95], [0.2, 0.8])).toBeCloseTo(0.19 / 0.15);
    expect(bandDistance(0.7, [null, 0.72], [null, 0.65])).toBeCloseTo(0.05 / 0.07);
    expect(bandDistance(3, [0, 0], [0, 0])).toBe(3); // an invariant: in units of 1
  });

  it('ranks hard fails, then B+ misses, then distance, then time; unmeasured last; metrics and pending gates do not count', () => {
    const check = (id: string, status: string, value: number | null, kind = 'realism') => ({ id, kind, status, value, threshold_B: [0, 1], threshold_Bplus: [0.2, 0.8] });
    const cand = (candidate: string, seconds: number, checks: unknown[] | null) => scoreCandidate({ candidate, runs: [{ run_id: candidate + 'run', status: 'succeeded', seconds, reports: checks ? new Map([['validation_report_x', { checks }]]) : new Map() }] });
    const rows = rankCandidates([
      cand('fail', 1, [check('g', 'FAIL', 1.5)]),
      cand('warn-far', 1, [check('g', 'WARN', 0.95)]),
      cand('warn-near', 5, [check('g', 'WARN', 0.85)]),
      cand('pass-slow', 9, [check('g', 'PASS', 0.5), check('m', 'FAIL', 7, 'metric'), check('p', 'PENDING', null)]),
      cand('pass-fast', 2, [check('g', 'PASS', 0.5)]),
      cand('broken', 0, null),
    ]);
    expect(rows.map((r) => r.candidate)).toEqual(['pass-fast', 'pass-slow', 'warn-near', 'warn-far', 'fail', 'broken']);
    expect(rows.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rows[1]!.gates).toEqual({ 'validation_report_x:g': { value: 0.5, status: 'PASS', band_b: [0, 1], band_bplus: [0.2, 0.8] }, 'validation_report_x:p': { value: null, status: 'PENDING', band_b: [0, 1], band_bplus: [0.2, 0.8] } });
  });
});

describe('prune and sweeps', () => {
  const policy = { keepLabels: ['last-good'], keepLast: 1, failedOnly: false, keep: [] };
  const run = (id: string, group: string | null, status = 'succeeded', extra = {}) => ({ id, status, created: id, labels: [], group, ...extra });

  it("keeps a sweep's best candidate, deletes its others, and does not count them in keep_last or as a --seeds group", () => {
    const runs = [run('c3', 'sw'), run('c2', 'sw'), run('c1', 'sw', 'failed'), run('old', null)];
    const d = decideRuns(runs, policy, [{ id: 'sw', best: { candidate: 'c3', runs: ['c3'] } }]);
    expect(d.map((x) => [x.id, x.action])).toEqual([
      ['c3', 'KEEP'],
      ['c2', 'DELETE'],
      ['c1', 'DELETE'],
      ['old', 'KEEP'], // the newest run that is not a sweep's
    ]);
    expect(d[0]!.reason).toContain('sweep sw: best candidate c3');
    expect(d[1]!.reason).toContain('not its best candidate');
  });

  it('--drop-sweep lets the best go; a label still keeps a run; a sweep with a locked run is kept whole; a failed best is kept', () => {
    const sweeps = [{ id: 'sw', best: { candidate: 'c1', runs: ['c1'] } }];
    expect(decideRuns([run('c1', 'sw')], { ...policy, dropSweeps: ['sw'] }, sweeps)[0]!.action).toBe('DELETE');
    expect(decideRuns([run('c2', 'sw', 'succeeded', { labels: ['mine'] })], policy, sweeps)[0]!.action).toBe('KEEP');
    const busy = decideRuns([run('c2', 'sw', 'running', { pid: 1 }), run('c1', 'sw'), run('c0', 'sw')], policy, sweeps);
    expect(busy.map((x) => x.action)).toEqual(['KEEP', 'KEEP', 'KEEP']);
    expect(decideRuns([run('c1', 'sw', 'failed')], policy, sweeps)[0]!.action).toBe('KEEP');
  });
});
