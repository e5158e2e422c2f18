// certifyGroup (dag/store/certify.ts) on hand-made validation reports: the decision alone, without a run.
// The same rules end to end, with reports made by the real macros in real runs: test/cli/report-certify.test.ts.
import { describe, expect, it } from 'vitest';
import { certifyGroup, type GroupRun } from '../../dag/store/certify.js';
import type { RunStatus } from '../../dag/store/runs.js';

type Band = [number | null, number | null];
interface CheckSpec {
  kind?: string;
  status: string;
  value: number | null;
  B?: Band;
  Bplus?: Band;
  resolves?: string;
}

const SEEDS = [42, 7, 101, 202];
const BANDS: Record<string, { B: Band; Bplus: Band }> = {
  cv: { B: [null, 0.25], Bplus: [null, 0.15] },
  share: { B: [0.1, 0.9], Bplus: [0.2, 0.8] },
  chain: { B: [1, 1], Bplus: [1, 1] },
};

/** A report as the macros write it (only the members certification reads, plus a few it must ignore). */
function report(segment: string, checks: Record<string, CheckSpec>, extra: Record<string, unknown> = {}): unknown {
  return {
    segment,
    passed: true,
    verdict: 'PENDING',
    counts: { PASS: 0, WARN: 0, FAIL: 0, PENDING: 0 },
    checks: Object.entries(checks).map(([id, c]) => ({
      id,
      kind: c.kind ?? 'realism',
      status: c.status,
      value: c.value,
      required: true,
      threshold_B: c.B ?? BANDS[id]?.B ?? [null, null],
      threshold_Bplus: c.Bplus ?? BANDS[id]?.Bplus ?? [null, null],
      ...(c.resolves ? { resolves: c.resolves } : {}),
    })),
    pending: Object.entries(checks)
      .filter(([, c]) => c.status === 'PENDING')
      .map(([id]) => (id === 'chain' ? { id, reason: 'downstream', measured_by: 'dz' } : { id, reason: 'cross-seed', measured_by: null })),
    ...extra,
  };
}

const DECL = { gate: 'cv', seeds: SEEDS, key_rates: ['share', 'rate'] };

/** The cz report of one seed: share and rate move a little with the seed. */
function cz(seed: number, opts: { share?: CheckSpec; rate?: number | null; chain?: boolean; decl?: unknown } = {}): unknown {
  const wiggle = (seed % 10) / 1000;
  return report(
    'cz',
    {
      cv: { status: 'PENDING', value: null },
      share: opts.share ?? { status: 'PASS', value: 0.5 + wiggle },
      rate: { kind: 'metric', status: 'PASS', value: opts.rate === undefined ? 0.3 + wiggle : opts.rate },
      unique: { kind: 'invariant', status: 'PASS', value: 0, B: [0, 0], Bplus: [0, 0] },
      ...(opts.chain ? { chain: { status: 'PENDING', value: null } } : {}),
    },
    { cross_seed: opts.decl ?? DECL },
  );
}

function run(seed: number, reports: Record<string, unknown>, status: RunStatus = 'succeeded'): GroupRun {
  return { run: `run${seed}`, seed, status, reports: new Map(Object.entries(reports)) };
}
const group = (make: (seed: number) => Record<string, unknown>, seeds = SEEDS) => seeds.map((s) => run(s, make(s)));

describe('certifyGroup', () => {
  it('a complete group: the cross-seed gate is the largest CV of the key rates, graded; every gate at B+ gives PASS_BPLUS', () => {
    const [c, ...more] = certifyGroup(group((s) => ({ validation_report_cz: cz(s) })));
    expect(more).toEqual([]);
    expect(c!.report).toBe('validation_report_cz');
    expect(c!.segment).toBe('cz');
    expect(c!.runs).toEqual(SEEDS.map((s) => ({ seed: s, run: `run${s}`, status: 'succeeded' })));
    const rate = c!.key_rates.find((k) => k.id === 'rate')!;
    expect(rate.values).toEqual(SEEDS.map((s) => 0.3 + (s % 10) / 1000));
    const mean = rate.values.reduce<number>((a, b) => a + b!, 0) / 4;
    const std = Math.sqrt(rate.values.reduce<number>((a, b) => a + (b! - mean) ** 2, 0) / 3);
    expect(rate.cv).toBeCloseTo(std / mean, 12);
    const cv = c!.gates.find((g) => g.id === 'cv')!;
    expect(cv).toMatchObject({ cross_seed: true, status: 'PASS', band_b: [null, 0.25], band_bplus: [null, 0.15] });
    expect(cv.value).toBe(Math.max(...c!.key_rates.map((k) => k.cv!)));
    expect(cv.seeds.map((x) => x.status)).toEqual(['PENDING', 'PENDING', 'PENDING', 'PENDING']);
    expect(c!.gates.map((g) => [g.id, g.status])).toEqual([['cv', 'PASS'], ['share', 'PASS'], ['unique', 'PASS']]); // metrics are not gates
    expect(c!).toMatchObject({ verdict: 'PASS_BPLUS', reasons: [], notes: [] });
  });

  it('a gate inside B but outside B+ in one seed gives PASS_B', () => {
    const decl = { ...DECL, key_rates: ['rate'] }; // share's outlier would move the CV too
    const [c] = certifyGroup(group((s) => ({ validation_report_cz: cz(s, s === 7 ? { share: { status: 'WARN', value: 0.15 }, decl } : { decl }) })));
    expect(c!.gates.find((g) => g.id === 'share')!.status).toBe('WARN');
    expect(c!.verdict).toBe('PASS_B');
  });

  it('a declared seed missing from the group holds, naming the seed; runs of undeclared seeds are noted, not used', () => {
    const runs = group((s) => ({ validation_report_cz: cz(s) }), [42, 7, 101, 5]);
    const [c] = certifyGroup(runs);
    expect(c!.verdict).toBe('HOLD_REMEDIATE');
    expect(c!.reasons).toEqual(['seed 202: no run in the group']);
    expect(c!.notes).toEqual(['seed 5 not in cross_seed.seeds: not certified']);
    expect(c!.runs[3]).toEqual({ seed: 202, run: null, status: null });
    expect(c!.gates.find((g) => g.id === 'cv')).toMatchObject({ value: null, status: 'PENDING' });
    expect(c!.key_rates[0]!.values[3]).toBeNull();
  });

  it('a failed run of the group, or a run without the report, holds', () => {
    const runs = group((s) => ({ validation_report_cz: cz(s) }));
    runs[1] = run(7, { validation_report_cz: cz(7) }, 'failed');
    runs[2] = run(101, {});
    const [c] = certifyGroup(runs);
    expect(c!.reasons).toEqual(['seed 7: run run7 failed', 'seed 101: run run101 published no validation_report_cz']);
    expect(c!.verdict).toBe('HOLD_REMEDIATE');
    // what the failed run published is shown (it says which gate failed); the run without the report has nothing
    expect(c!.gates.find((g) => g.id === 'share')!.seeds.map((x) => x.status)).toEqual(['PASS', 'PASS', 'MISSING', 'PASS']);
    // a succeeded rerun of a seed is taken over the failed one
    const [again] = certifyGroup([...runs.filter((r) => r.seed !== 101), run(7, { validation_report_cz: cz(7) }), run(101, { validation_report_cz: cz(101) })]);
    expect(again!.verdict).toBe('PASS_BPLUS');
  });

  it('a key rate with no value in a seed, or a mean of 0, holds', () => {
    const [c] = certifyGroup(group((s) => ({ validation_report_cz: cz(s, s === 101 ? { rate: null } : {}) })));
    expect(c!.reasons).toEqual(['key rate rate: no value in seed 101']);
    expect(c!.gates.find((g) => g.id === 'cv')!.value).toBeNull();
    const [zero] = certifyGroup(group((s) => ({ validation_report_cz: cz(s, { rate: 0 }) })));
    expect(zero!.reasons).toEqual(['key rate rate: CV undefined (mean 0)']);
    const [none] = certifyGroup(group((s) => ({ validation_report_cz: cz(s, { decl: { ...DECL, key_rates: [] } }) })));
    expect(none!).toMatchObject({ verdict: 'HOLD_REMEDIATE', reasons: ['cv: cross_seed declares no key rates'] });
  });

  it('a CV above B fails the cross-seed gate and holds; above B+ only gives PASS_B', () => {
    const spread = (k: number) => group((s) => ({ validation_report_cz: cz(s, { rate: 0.3 * (1 + k * ((s % 10) - 4.5)) }) }));
    const [high] = certifyGroup(spread(0.2));
    expect(high!.gates[0]!.value).toBeGreaterThan(0.25);
    expect(high!.gates[0]!.status).toBe('FAIL');
    expect(high!.reasons).toEqual([expect.stringMatching(/^cv: max CV [0-9.]+ \(key rate rate\) outside B \[-, 0\.25\]$/)]);
    const [mid] = certifyGroup(spread(0.06));
    expect(mid!.gates[0]!.value).toBeGreaterThan(0.15);
    expect(mid!.gates[0]!.value).toBeLessThan(0.25);
    expect(mid!).toMatchObject({ verdict: 'PASS_B', reasons: [] });
  });

  it('a gate failing B in a seed holds, naming seed and value', () => {
    const decl = { ...DECL, key_rates: ['rate'] };
    const [c] = certifyGroup(group((s) => ({ validation_report_cz: cz(s, s === 42 ? { share: { status: 'FAIL', value: 0.95 }, decl } : { decl }) })));
    expect(c!.reasons).toEqual(['share: FAIL in seed 42 (0.95 outside B [0.1, 0.9])']);
    expect(c!.gates.find((g) => g.id === 'share')!.seeds[0]).toEqual({ seed: 42, status: 'FAIL', value: 0.95 });
  });

  it('a downstream gate still PENDING holds; a check of another report of the run whose resolves names it clears it', () => {
    const pending = group((s) => ({ validation_report_cz: cz(s, { chain: true }), validation_report_dz: report('dz', { chain_complete: { status: 'PASS', value: 1, B: [1, 1], Bplus: [1, 1] } }) }));
    const [c] = certifyGroup(pending);
    expect(c!.verdict).toBe('HOLD_REMEDIATE');
    expect(c!.reasons).toEqual(['chain: PENDING in seeds 42, 7, 101, 202 (downstream, measured by dz; no other report of the run resolves it)']);

    const resolvingDz = (_seed: number, value = 1, status = 'PASS') => report('dz', { chain_complete: { status, value, B: [1, 1], Bplus: [1, 1], resolves: 'cz:chain' } });
    const [r] = certifyGroup(group((s) => ({ validation_report_cz: cz(s, { chain: true }), validation_report_dz: resolvingDz(s) })));
    expect(r!).toMatchObject({ verdict: 'PASS_BPLUS', reasons: [] });
    expect(r!.gates.find((g) => g.id === 'chain')!.seeds[0]).toEqual({ seed: 42, status: 'PASS', value: 1, resolved_by: 'validation_report_dz:chain_complete' });
    expect(r!.notes).toEqual(['chain: measured by validation_report_dz:chain_complete in seeds 42, 7, 101, 202']);

    // resolved in some seeds only: the others hold; a resolving check that fails B holds too
    const [some] = certifyGroup(group((s) => ({ validation_report_cz: cz(s, { chain: true }), ...(s === 7 ? {} : { validation_report_dz: resolvingDz(s) }) })));
    expect(some!.reasons).toEqual(['chain: PENDING in seed 7 (downstream, measured by dz; no other report of the run resolves it)']);
    const [bad] = certifyGroup(group((s) => ({ validation_report_cz: cz(s, { chain: true }), validation_report_dz: resolvingDz(s, s === 101 ? 0.5 : 1, s === 101 ? 'FAIL' : 'PASS') })));
    expect(bad!.reasons).toEqual(['chain: FAIL in seed 101 (0.5 as graded by validation_report_dz:chain_complete)']);
    // a resolves naming another segment's gate does not clear it
    const wrong = () => report('dz', { chain_complete: { status: 'PASS', value: 1, resolves: 'other:chain' } });
    expect(certifyGroup(group((s) => ({ validation_report_cz: cz(s, { chain: true }), validation_report_dz: wrong() })))[0]!.verdict).toBe('HOLD_REMEDIATE');
  });

  it('a cross-seed pending gate other than the declared one cannot be measured: it holds', () => {
    const docs = (s: number) => {
      const doc = cz(s) as { checks: unknown[]; pending: unknown[] };
      doc.checks.push({ id: 'other_cv', kind: 'realism', status: 'PENDING', value: null, threshold_B: [null, 1], threshold_Bplus: [null, 1] });
      doc.pending.push({ id: 'other_cv', reason: 'cross-seed', measured_by: null });
      return { validation_report_cz: doc };
    };
    expect(certifyGroup(group(docs))[0]!.reasons).toEqual(['other_cv: PENDING in seeds 42, 7, 101, 202 (cross-seed, but cross_seed.gate is cv)']);
  });

  it('declarations that differ between seeds hold; reports without cross_seed get no certification', () => {
    const other = { ...DECL, key_rates: ['share'] };
    const [c] = certifyGroup(group((s) => ({ validation_report_cz: cz(s, s === 202 ? { decl: other } : {}) })));
    expect(c!.reasons).toEqual(["the cross_seed declaration of seed 202 differs from seed 42's"]);
    const plain = group(() => ({ validation_report_dz: report('dz', { chain_complete: { status: 'PASS', value: 1 } }) }));
    expect(certifyGroup(plain)).toEqual([]);
  });

  it('a cross_seed gate that is not a check of the report holds rather than passing unbounded', () => {
    const [c] = certifyGroup(group((s) => ({ validation_report_cz: cz(s, { decl: { ...DECL, gate: 'nope' } }) })));
    expect(c!.reasons).toEqual(['cross_seed gate nope is not a check of validation_report_cz', 'cv: PENDING in seeds 42, 7, 101, 202 (cross-seed, but cross_seed.gate is nope)']);
    expect(c!.gates.find((g) => g.id === 'nope')).toMatchObject({ status: 'MISSING' });
  });
});
