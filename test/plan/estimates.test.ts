// Plan estimates per (state, profile), from the median of recent runs (issue 16): before, one
// timing per state was overwritten by the last run, so `dag plan --profile full` said 40 s for a
// 7-minute run, and afterwards the 5-second dev run was estimated at 7 minutes.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diamond, goodRun, planJson, TIMEOUT, write } from '../cache/helpers.js';
import { lastTimings, recordTimings } from '../../dag/store/history.js';
import type { LedgerEntry } from '../../dag/store/runs.js';

const ranSeconds = (ledger: LedgerEntry[]) => Object.fromEntries(ledger.filter((e) => e.action === 'ran').map((e) => [e.state, e.seconds]));

describe('plan estimates per profile', { timeout: TIMEOUT * 2 }, () => {
  it('a run under profile big sets the big estimate and leaves the dev estimate alone', async () => {
    const p = diamond();
    // fx.S1 burns CPU in proportion to customers_per_region (50 in dev, 500 under big): it takes
    // longer under big, while the states downstream stay small
    const s1 = 'states/fx/S1_customers.sql';
    write(p, s1, readFileSync(join(p.root, s1), 'utf8') + "\n-- step: burn\ncreate temp table burn as select sum(hash(range)) as h from range(json_extract(getvariable('params'), '$.customers_per_region')::BIGINT * 200000);\n");
    const dev = await goodRun(p, ['--no-cache']);
    const big = await goodRun(p, ['--profile', 'big', '--no-cache']);
    const devS = ranSeconds(dev.ledger);
    const bigS = ranSeconds(big.ledger);
    expect(bigS['fx.S1']!, 'the big profile is slower').toBeGreaterThan(2 * devS['fx.S1']!);

    // change a kernel so both plans have every downstream state to run
    const sql = 'states/fx/S0_regions.sql';
    write(p, sql, readFileSync(join(p.root, sql), 'utf8') + '\n-- edited\n');
    const planBig = await planJson(p, ['--profile', 'big']);
    const planDev = await planJson(p);
    const est = (plan: typeof planBig) => Object.fromEntries(plan.states.map((s) => [s.task, s.estimate_seconds]));
    for (const s of ['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3', 'fx.S4']) {
      expect(est(planBig)[s], `${s} under big`).toBeCloseTo(bigS[s]!, 6);
      expect(est(planDev)[s], `${s} under dev`).toBeCloseTo(devS[s]!, 6);
    }
    const total = (x: Record<string, number>) => Object.values(x).reduce((a, b) => a + b, 0);
    expect(Math.abs(planBig.estimate_seconds - total(bigS)) / total(bigS)).toBeLessThan(0.25);
    expect(Math.abs(planDev.estimate_seconds - total(devS)) / total(devS)).toBeLessThan(0.25);
    expect(planDev.unestimated).toBe(0);
  });

  it('the estimate is the median of the last five runs; the old one-number file counts as a run without a profile', () => {
    const dir = join(diamond().runsDir);
    mkdirSync(join(dir, '.cache'), { recursive: true });
    writeFileSync(join(dir, '.cache', 'timings.json'), JSON.stringify({ 'fx.S1': 9 }), { flag: 'w' });
    expect(lastTimings(dir).get('fx.S1')).toBe(9);
    expect(lastTimings(dir, 'big').get('fx.S1')).toBeUndefined();
    const ran = (s: number) => [{ ts: '', state: 'fx.S1', action: 'ran', reason: '', seconds: s }] as LedgerEntry[];
    for (const s of [1, 2, 100, 3, 4, 5]) recordTimings(dir, ran(s), 'big');
    // the last five: 2, 100, 3, 4, 5 -> median 4 (one slow run does not move it)
    expect(lastTimings(dir, 'big').get('fx.S1')).toBe(4);
    expect(lastTimings(dir).get('fx.S1')).toBe(9);
  });
});
