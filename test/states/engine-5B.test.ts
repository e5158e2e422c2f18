// Segment 5B end to end on the dev world (28 days, both DST changes): its HashGate, every gate at B,
// exact checks with our own SQL on the published arrivals, determinism, the rerun scope of a
// count-law change, and the negative-binomial count law.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dag, digests, ENGINE_TIMEOUT, engineCopy, expectGateOpen, removeTemps, runOk, validationReport, type Project } from './engine-helpers.js';
import type { Check } from './gates-6A-support.js';

afterAll(removeTemps);

type Report = { passed: boolean; verdict: string; measured_verdict: string; checks: Check[] };
const report5B = (runDir: string) => validationReport<Report>(runDir, 'layer2', '5B');

describe('segment 5B on the dev world', () => {
  const p = engineCopy(['1A', '5B']);
  const q = async (runId: string, sql: string) => {
    const r = await dag(p, ['query', runId, sql, '--json']);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Record<string, string | number | null>[];
  };

  it('publishes its _passed.flag with T1-T12 at B (T10 PENDING) on seed 42', async () => {
    const { json, ledger } = await runOk(p, ['5B.S5']);
    const s5 = expectGateOpen(json.run_dir, ledger, '5B.S5');
    const r = report5B(json.run_dir);
    const gates = r.checks.filter((c) => /^T\d+_/.test(c.id));
    expect(gates.map((g) => g.id.split('_')[0]).sort()).toEqual(['T1', 'T10', 'T11', 'T12', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'T8', 'T9']);
    for (const g of gates.filter((x) => x.status !== 'PENDING')) expect(g.pass_B, `${g.id} = ${g.value}`).toBe(true);
    for (const id of ['T1_civil_time_mismatch_share', 'T2_one_hour_dst_signature_share', 'T4_conservation_residual', 'T5_routing_violations', 'T11_zone_rules_cover_horizon', 'T12_local_time_contract_share'])
      expect(r.checks.find((c) => c.id === id)!.pass_Bplus, id).toBe(true);
    expect(r.verdict).toBe('PENDING');
    expect((await dag(p, ['verify', json.run_id])).code).toBe(0);
  }, ENGINE_TIMEOUT * 2);

  it('arrivals check out with our own SQL: local times by ICU, sites of the merchant and zone, counts conserved, hours move with DST', async () => {
    const { json } = await runOk(p, ['5B.S5']);
    const [civil] = await q(json.run_id, `select count(*) n, count(*) filter (where ts_local <> timezone(tzid, ts_utc AT TIME ZONE 'UTC')) bad,
        count(*) filter (where (site_id is null) = (edge_id is null)) both_or_none from arrival_events_5B`);
    expect(Number(civil!.n)).toBeGreaterThan(100_000);
    expect(Number(civil!.bad)).toBe(0);
    expect(Number(civil!.both_or_none)).toBe(0);
    const [routing] = await q(json.run_id, `select count(*) bad from arrival_events_5B a left join outlets_1A o on o.site_id = a.site_id
        left join virtual_edges_1A e on e.edge_id = a.edge_id
        where coalesce(o.merchant_id, e.merchant_id) <> a.merchant_id or coalesce(o.tzid, e.tzid) <> a.tzid`);
    expect(Number(routing!.bad)).toBe(0);
    const [cons] = await q(json.run_id, `select (select count(*) from arrival_events_5B) arrivals, (select sum(count_n) from s3_bucket_counts_5B) counted, (select sum(n_total) from s3_key_totals_5B) drawn`);
    expect(Number(cons!.arrivals)).toBe(Number(cons!.counted));
    expect(Number(cons!.arrivals)).toBe(Number(cons!.drawn));
    // New York's local noon is 17:00 UTC before 8 March and 16:00 UTC after: arrivals follow the local clock
    const ny = await q(json.run_id, `select ts_local::DATE < DATE '2026-03-08' as before, hour(ts_utc) h, count(*) n from arrival_events_5B
        where tzid = 'America/New_York' and hour(ts_local) = 12 group by all order by 1, 2`);
    const hours = (before: boolean) => ny.filter((r) => Boolean(r.before) === before).map((r) => Number(r.h));
    expect(hours(true)).toEqual([17]);
    expect(hours(false)).toEqual([16]);
  }, ENGINE_TIMEOUT * 2);

  it('the same seed gives the same bytes; another seed other arrivals; threads 1 vs 4 the same bytes', async () => {
    const a = await runOk(p, ['5B.S5']); // served from the cache of the first test's run
    const b = await runOk(p, ['5B.S5', '--no-cache']);
    const only5B = (d: Record<string, string>) => Object.fromEntries(Object.entries(d).filter(([k]) => k.endsWith('_5B')));
    expect(b.ledger.filter((e) => e.state.startsWith('5B.')).every((e) => e.action === 'ran')).toBe(true);
    expect(only5B(digests(b.ledger))).toEqual(only5B(digests(a.ledger)));
    const seven = await runOk(p, ['5B.S5', '--seed', '7']);
    expect(digests(seven.ledger)['arrival_events_5B']).not.toBe(digests(a.ledger)['arrival_events_5B']);
    const copies = [1, 4].map((t) => {
      const c: Project = engineCopy(['1A', '5B']);
      c.edit('dag.yaml', /threads: \d+/, `threads: ${t}`);
      return c;
    });
    const [r1, r4] = await Promise.all(copies.map((c) => runOk(c, ['5B.S5'])));
    expect(only5B(digests(r4!.ledger))).toEqual(only5B(digests(r1!.ledger)));
    expect(only5B(digests(r1!.ledger))).toEqual(only5B(digests(a.ledger)));
  }, ENGINE_TIMEOUT * 4);

  it('a count-law change reruns 5B.S3, S4 and S5 and nothing upstream (S0 does not seal the policy S3 alone reads): dag plan says so, the ledger does so', async () => {
    await runOk(p, ['5B.S5']);
    p.edit('config/5B/count_policy.yaml', 'poisson_exact_lambda_max: 400', 'poisson_exact_lambda_max: 300');
    const plan = JSON.parse((await dag(p, ['plan', '5B.S5', '--json'])).stdout) as { states: { state: string; action: string }[] };
    expect(plan.states.filter((s) => s.action === 'run').map((s) => s.state.replace(/@.*/, ''))).toEqual(['5B.S3', '5B.S4', '5B.S5']);
    const { ledger } = await runOk(p, ['5B.S5']);
    expect(ledger.filter((e) => e.action === 'ran').map((e) => e.state.replace(/@.*/, '')).sort()).toEqual(['5B.S3', '5B.S4', '5B.S5']);
    p.edit('config/5B/count_policy.yaml', 'poisson_exact_lambda_max: 300', 'poisson_exact_lambda_max: 400');
  }, ENGINE_TIMEOUT * 2);

  it('negative_binomial (--set law and kappa): reruns only S3-S5, overdisperses the key totals by about mu^2 / kappa, T9 holds against the configured law, same seed same bytes', async () => {
    const nb = ['--set', 'config/5B/count_policy.yaml#/law=negative_binomial', '--set', 'config/5B/count_policy.yaml#/kappa=4'];
    const a = await runOk(p, ['5B.S5', ...nb]);
    expect(a.ledger.filter((e) => e.action === 'ran').map((e) => e.state.replace(/@.*/, '')).sort()).toEqual(['5B.S3', '5B.S4', '5B.S5']);
    const t9 = report5B(a.json.run_dir).checks.find((c) => c.id === 'T9_dispersion_relative_error')!;
    expect(t9.pass_B, `T9 = ${t9.value}`).toBe(true);
    // Pearson dispersion of the key totals around their realised intensity: 1 for Poisson, 1 + lambda / kappa for NB2
    const [d] = await q(a.json.run_id, `select sum((n_total - lambda_total) ^ 2) / sum(lambda_total) as realised, 1 + sum(lambda_total ^ 2 / kappa) / sum(lambda_total) as implied, max(kappa) as kappa from s3_key_totals_5B`);
    expect(Number(d!.kappa)).toBe(4);
    // (a few large chains carry sum lambda^2, so the ratio is a loose check; Poisson's is about 1, this about 1 + 470)
    expect(Number(d!.realised)).toBeGreaterThan(50);
    expect(Number(d!.realised) / Number(d!.implied)).toBeGreaterThan(0.5);
    expect(Number(d!.realised) / Number(d!.implied)).toBeLessThan(2);
    const b = await runOk(p, ['5B.S5', ...nb, '--no-cache']);
    const only5B = (x: Record<string, string>) => Object.fromEntries(Object.entries(x).filter(([k]) => k.endsWith('_5B')));
    expect(only5B(digests(b.ledger))).toEqual(only5B(digests(a.ledger)));
  }, ENGINE_TIMEOUT * 2);

  it('a bad 5B policy value exits 2 before any run folder exists, naming file, pointer and value', async () => {
    p.edit('config/5B/latent_policy.yaml', 'clip: { lo: 0.1, hi: 6.0 }', 'clip: { lo: 0.1, hi: 0.5 }');
    const before = existsSync(p.runsDir) ? readdirSync(p.runsDir).filter((d) => /^[0-9a-f]{32}$/.test(d)).length : 0;
    const r = await dag(p, ['run', '--json']);
    p.edit('config/5B/latent_policy.yaml', 'clip: { lo: 0.1, hi: 0.5 }', 'clip: { lo: 0.1, hi: 6.0 }');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('config/5B/latent_policy.yaml');
    expect(r.stderr).toContain('/clip/hi');
    expect(r.stderr).toContain('0.5');
    const after = existsSync(p.runsDir) ? readdirSync(p.runsDir).filter((d) => /^[0-9a-f]{32}$/.test(d)).length : 0;
    expect(after).toBe(before);
  }, ENGINE_TIMEOUT);
});
