// The metric names of `dag report` and `dag diff` (store/report.ts): a check's value and thresholds
// are named by its id, so two reports whose checks lists differ still line up metric by metric.
import { describe, expect, it } from 'vitest';
import { crossRunReport, reportFigures } from '../../dag/store/report.js';
import type { RunInfo } from '../../dag/store/runs.js';

const check = (id: string, value: number | null, b: [number | null, number | null], status = 'PASS') => ({
  id,
  kind: 'realism',
  status,
  value,
  threshold: b[0] === b[1] ? { equals: b[0] } : { lo: b[0], hi: b[1] },
  threshold_B: b,
  threshold_Bplus: b,
});

describe('report metrics', () => {
  it('a check is named by its id: value, thresholds (bands by bound), status; other numbers by pointer; cross_seed is not a metric', () => {
    const doc = { segment: 'x', counts: { PASS: 2 }, checks: [check('share', 0.4, [0.1, 0.9]), check('unique', 0, [0, 0], 'FAIL')], cross_seed: { seeds: [42, 7] } };
    const f = reportFigures(doc, 'validation_report_x');
    expect(Object.fromEntries(f.values)).toEqual({
      'validation_report_x/counts/PASS': 2,
      'validation_report_x:share': 0.4,
      'validation_report_x:share.threshold.lo': 0.1,
      'validation_report_x:share.threshold.hi': 0.9,
      'validation_report_x:share.threshold_B.lo': 0.1,
      'validation_report_x:share.threshold_B.hi': 0.9,
      'validation_report_x:share.threshold_Bplus.lo': 0.1,
      'validation_report_x:share.threshold_Bplus.hi': 0.9,
      'validation_report_x:unique': 0,
      'validation_report_x:unique.threshold.equals': 0,
      'validation_report_x:unique.threshold_B.lo': 0,
      'validation_report_x:unique.threshold_B.hi': 0,
      'validation_report_x:unique.threshold_Bplus.lo': 0,
      'validation_report_x:unique.threshold_Bplus.hi': 0,
    });
    expect(Object.fromEntries(f.statuses)).toEqual({ 'validation_report_x:share': 'PASS', 'validation_report_x:unique': 'FAIL' });
  });

  it('a check added before another in one run does not shift the other\'s thresholds onto it (they were keyed by list index)', () => {
    const runs = [{ id: 'a' }, { id: 'b' }] as RunInfo[];
    const one = { checks: [check('share', 0.4, [0.1, 0.9])] };
    const two = { checks: [check('added', 5, [1, 10]), check('share', 0.5, [0.1, 0.9])] };
    const rows = crossRunReport(runs, [new Map([['r', one]]), new Map([['r', two]])]);
    const by = Object.fromEntries(rows.map((r) => [r.metric, r.values]));
    expect(by['r:share.threshold_B.hi']).toEqual([0.9, 0.9]);
    expect(by['r:share']).toEqual([0.4, 0.5]);
    expect(by['r:added.threshold_B.hi']).toEqual([null, 10]);
    expect(rows.filter((r) => r.metric.includes('/checks/'))).toEqual([]);
  });

  it('a list without ids (an older or foreign report) is still read, by pointer', () => {
    const f = reportFigures({ checks: [{ value: 1 }, { value: 2 }] }, 'r');
    expect(Object.fromEntries(f.values)).toEqual({ 'r/checks/0/value': 1, 'r/checks/1/value': 2 });
  });
});
