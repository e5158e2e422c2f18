// Segment 5A on the dev world: its HashGate, conservation and density of the published surface,
// DST through ICU, determinism (same seed, thread count), and a bad policy refused before any run.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dag, dagRun, digests, type Duck, ENGINE_TIMEOUT, engineCopy, entryOf, lit, openDuck, outputPath, removeTemps, runOk, type LedgerLine, type Project, type RunJson } from './engine-helpers.js';

afterAll(removeTemps);

const RUN_ID = /^[0-9a-f]{32}$/;
const DATASETS_5A = ['s0_gate_receipt_5A', 'sealed_inputs_5A', 'merchant_zone_profile_5A', 'merchant_class_profile_5A', 'class_zone_shape_5A', 'scenario_manifest_5A', 'class_zone_surface_5A', 'validation_report_5A', 'validation_issue_table_5A', 'class_zone_scenario_utc_5A'];
const DEV_BUCKETS = 28 * 24;

function runFolders(p: Project): string[] {
  return existsSync(p.runsDir) ? readdirSync(p.runsDir).filter((n) => RUN_ID.test(n)) : [];
}
const only5A = (d: Record<string, string>) => Object.fromEntries(Object.entries(d).filter(([k]) => DATASETS_5A.includes(k)));

describe('5A on the dev world (seed 42)', () => {
  let p: Project;
  let run: { json: RunJson; ledger: LedgerLine[] };
  let duck: Duck;
  const parquet = (dataset: string) => `read_parquet(${lit(outputPath(run.json.run_dir, run.ledger, dataset))}, hive_partitioning = false)`;

  beforeAll(async () => {
    p = engineCopy(['1A', '5A']);
    run = await runOk(p);
    duck = await openDuck([], 2);
  }, ENGINE_TIMEOUT);
  afterAll(() => duck?.close());

  it('publishes the 5A HashGate (flag and index) and a passing report; S5 publishes baseline_v1 only', () => {
    const s4 = entryOf(run.ledger, '5A.S4');
    expect(s4.gate).toMatchObject({ segment: '5A', passed: true });
    const bundle = join(run.json.run_dir, s4.gate!.path);
    expect(s4.gate!.path).toMatch(/^data\/layer2\/5A\/validation\/manifest_fingerprint=[0-9a-f]{64}$/);
    expect(readFileSync(join(bundle, '_passed.flag'), 'utf8')).toContain(s4.gate!.digest!);
    expect(existsSync(join(bundle, 'validation_bundle_index_5A.json'))).toBe(true);
    const report = JSON.parse(readFileSync(join(bundle, 'validation_report_5A.json'), 'utf8')) as { passed: boolean; checks: { id: string; kind: string; status: string }[] };
    expect(report.passed).toBe(true);
    for (const c of report.checks.filter((c) => c.kind === 'invariant')) expect(c.status, c.id).toBe('PASS');
    const s5 = run.ledger.filter((l) => l.state === '5A.S5');
    expect(s5.map((l) => (l as LedgerLine & { scenario?: string }).scenario)).toEqual(['baseline_v1']);
    expect(outputPath(run.json.run_dir, run.ledger, 'class_zone_scenario_utc_5A')).toContain('scenario_id=baseline_v1');
  });

  it('the scenario manifest holds both scenarios on the 28-day dev horizon', async () => {
    const rows = await duck.rows<{ scenario_id: string; n_buckets: number; is_baseline: boolean; is_stress: boolean; s: string; e: string }>(
      `select scenario_id, n_buckets, is_baseline, is_stress, horizon_start_utc::VARCHAR s, horizon_end_utc::VARCHAR e from ${parquet('scenario_manifest_5A')} order by 1`,
    );
    expect(rows).toEqual([
      { scenario_id: 'baseline_v1', n_buckets: DEV_BUCKETS, is_baseline: true, is_stress: false, s: '2026-03-04 00:00:00', e: '2026-04-01 00:00:00' },
      { scenario_id: 'stress_v1', n_buckets: DEV_BUCKETS, is_baseline: false, is_stress: true, s: '2026-03-04 00:00:00', e: '2026-04-01 00:00:00' },
    ]);
  });

  it('conservation: every (class, channel, zone) of the published baseline sums to 28/7 weeks within 1e-9; shapes sum to 1', async () => {
    const [worst] = await duck.rows<{ keys: number; worst: number }>(
      `select count(*)::INTEGER keys, max(abs(t - 4) / 4) worst from (select sum(share::DECIMAL(38, 18))::DOUBLE t from ${parquet('class_zone_scenario_utc_5A')} group by demand_class, channel_group, tzid)`,
    );
    expect(worst!.keys).toBeGreaterThan(100);
    expect(worst!.worst).toBeLessThan(1e-9);
    const [shape] = await duck.rows<{ n: number; worst: number }>(
      `select count(*)::INTEGER n, max(abs(t - 1)) worst from (select sum(shape) t, count(*) c from ${parquet('class_zone_shape_5A')} group by demand_class, channel_group having c = 168)`,
    );
    expect(shape).toEqual({ n: 16, worst: expect.any(Number) });
    expect(shape!.worst).toBeLessThan(1e-12);
  });

  it('density: rows = profile keys x buckets, the same keys, no share negative; every merchant profiled', async () => {
    const [d] = await duck.rows<{ n_rows: number; keys: number; surface_keys: number; common: number; negative: number; merchants: number; unprofiled: number }>(`
      with pk as (select distinct demand_class, channel_group, tzid from ${parquet('merchant_zone_profile_5A')}),
           sk as (select distinct demand_class, channel_group, tzid from ${parquet('class_zone_scenario_utc_5A')})
      select (select count(*) from ${parquet('class_zone_scenario_utc_5A')})::INTEGER n_rows, (select count(*) from pk)::INTEGER keys,
             (select count(*) from sk)::INTEGER surface_keys, (select count(*) from pk join sk using (demand_class, channel_group, tzid))::INTEGER common,
             (select count(*) from ${parquet('class_zone_scenario_utc_5A')} where share < 0)::INTEGER negative,
             (select count(*) from ${parquet('merchant_class_profile_5A')})::INTEGER merchants,
             (select count(*) from ${parquet('merchant_class_profile_5A')} c where not exists (select 1 from ${parquet('merchant_zone_profile_5A')} z where z.merchant_id = c.merchant_id))::INTEGER unprofiled`);
    expect(d!.n_rows).toBe(d!.keys * DEV_BUCKETS);
    expect(d!.surface_keys).toBe(d!.keys);
    expect(d!.common).toBe(d!.keys);
    expect(d!.negative).toBe(0);
    expect(d!.merchants).toBe(2000);
    expect(d!.unprofiled).toBe(0);
  });

  it('profiles: PHYSICAL merchants are CP only, VIRTUAL_ONLY CNP only, HYBRID both; the world expects 14.7 arrivals per site a week', async () => {
    const modes = await duck.rows<{ virtual_mode: string; channels: string }>(
      `select virtual_mode, string_agg(distinct channel_group, ',' order by channel_group) channels from ${parquet('merchant_zone_profile_5A')} group by 1 order by 1`,
    );
    expect(modes).toEqual([
      { virtual_mode: 'HYBRID', channels: 'CNP,CP' },
      { virtual_mode: 'PHYSICAL', channels: 'CP' },
      { virtual_mode: 'VIRTUAL_ONLY', channels: 'CNP' },
    ]);
    const [t] = await duck.rows<{ weekly: number; sites: number }>(`select sum(weekly_arrivals) weekly, sum(n_sites)::INTEGER sites from ${parquet('merchant_zone_profile_5A')}`);
    expect(t!.weekly / t!.sites).toBeCloseTo(14.7, 6);
  });

  it('DST: in America/New_York the UTC bucket of local noon moves one hour earlier across 2026-03-08 (measured on the published surface)', async () => {
    // Thursday 5 March (EST, UTC-5) and Thursday 12 March (EDT, UTC-4): the same local day, so the same
    // shares, 17:00Z before the change and 16:00Z after it.
    const rows = await duck.rows<{ k: string; before: number; after_same_utc: number; after_shifted: number }>(`
      with s as (select demand_class || '/' || channel_group k, bucket_start_utc t, share from ${parquet('class_zone_scenario_utc_5A')} where tzid = 'America/New_York')
      select a.k, a.share "before", b.share after_same_utc, c.share after_shifted
      from s a join s b on b.k = a.k and b.t = a.t + interval 7 day join s c on c.k = a.k and c.t = a.t + interval 7 day - interval 1 hour
      where a.t = timestamp '2026-03-05 17:00:00' order by 1`);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.after_shifted, r.k).toBe(r.before);
      expect(r.after_same_utc, r.k).not.toBe(r.before);
    }
    // and the whole local day moves: 24 hours of Thursday 5 March equal those of 12 March an hour earlier in UTC
    const [day] = await duck.rows<{ n: number; equal: number }>(`
      with s as (select demand_class, channel_group, bucket_start_utc t, share from ${parquet('class_zone_scenario_utc_5A')} where tzid = 'America/New_York')
      select count(*)::INTEGER n, count(*) filter (where a.share = c.share)::INTEGER equal
      from s a join s c using (demand_class, channel_group)
      where a.t >= timestamp '2026-03-05 05:00:00' and a.t < timestamp '2026-03-06 05:00:00' and c.t = a.t + interval 7 day - interval 1 hour`);
    expect(day!.n).toBe(rows.length * 24);
    expect(day!.equal).toBe(day!.n);
  });

  it('same seed, same bytes: a second run in a fresh project publishes identical 5A datasets', async () => {
    const again = await runOk(engineCopy(['1A', '5A']));
    expect(only5A(digests(again.ledger))).toEqual(only5A(digests(run.ledger)));
    expect(Object.keys(only5A(digests(run.ledger))).sort()).toEqual([...DATASETS_5A].sort());
  }, ENGINE_TIMEOUT);

  it('duckdb.threads 1 vs 4: identical 5A digests', async () => {
    const copies = [1, 4].map((t) => {
      const c = engineCopy(['1A', '5A']);
      c.edit('dag.yaml', /threads: \d+/, `threads: ${t}`);
      return c;
    });
    const [r1, r4] = await Promise.all(copies.map((c) => runOk(c)));
    expect(only5A(digests(r1!.ledger))).toEqual(only5A(digests(run.ledger)));
    expect(only5A(digests(r4!.ledger))).toEqual(only5A(digests(run.ledger)));
  }, ENGINE_TIMEOUT);

  it('--scenarios baseline_v1,stress_v1 publishes a surface per scenario; stress exceeds baseline only inside its window', async () => {
    const both = await runOk(p, ['--scenarios', 'baseline_v1,stress_v1']);
    const files = both.ledger.filter((l) => l.state === '5A.S5').flatMap((l) => l.outputs ?? []).map((o) => join(both.json.run_dir, o.path));
    expect(files).toHaveLength(2);
    const [b, s] = [files.find((f) => f.includes('baseline_v1'))!, files.find((f) => f.includes('stress_v1'))!];
    const [r] = await duck.rows<{ outside: number; inside_up: number }>(`
      select count(*) filter (where s.share <> b.share and timezone(b.tzid, timezone('UTC', b.bucket_start_utc))::DATE not between date '2026-03-19' and date '2026-03-22')::INTEGER outside,
             count(*) filter (where s.share > b.share)::INTEGER inside_up
      from read_parquet(${lit(b)}) b join read_parquet(${lit(s)}) s using (demand_class, channel_group, tzid, bucket_index)`);
    expect(r!.outside).toBe(0);
    expect(r!.inside_up).toBeGreaterThan(0);
  }, ENGINE_TIMEOUT);
});

describe('a bad 5A policy value', () => {
  it('a negative merchant_sigma exits 2 before any run folder exists, naming the file, the JSON pointer and the value', async () => {
    const p = engineCopy(['1A', '5A']);
    p.edit('config/5A/demand_policy.yaml', /^merchant_sigma: [0-9.]+$/m, 'merchant_sigma: -0.7');
    const r = await dagRun(p);
    expect(r.code).toBe(2);
    const text = r.stdout + r.stderr;
    expect(text).toContain('config/5A/demand_policy.yaml');
    expect(text).toContain('/merchant_sigma');
    // the value: `dag` names the file's line, which holds it (its schema messages do not quote values)
    const line = Number(/config\/5A\/demand_policy\.yaml:(\d+)/.exec(text)?.[1]);
    expect(p.read('config/5A/demand_policy.yaml').split('\n')[line - 1]).toBe('merchant_sigma: -0.7');
    expect(text).not.toMatch(/^\s+at \S/m);
    expect(runFolders(p)).toEqual([]);
    expect((await dag(p, ['validate'])).code).toBe(2);
  }, ENGINE_TIMEOUT);

  it('a shape with six day weights exits 2 naming the class and pointer', async () => {
    const p = engineCopy(['1A', '5A']);
    p.edit('config/5A/shape_policy.yaml', 'day_weights: [0.95, 0.92, 0.95, 1.0, 1.12, 1.30, 0.85]', 'day_weights: [0.95, 0.92, 0.95, 1.0, 1.12, 1.30]');
    const r = await dagRun(p);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toContain('/classes/grocery/day_weights');
    expect(runFolders(p)).toEqual([]);
  }, ENGINE_TIMEOUT);
});
