// Segment 6B end to end on the dev world: its HashGate with every hard gate at B, sessions (T19),
// learnability (T23) with the model's figures in the report, checks with our own SQL, determinism,
// a partial rerun from 6B.S3 equal to a full run, and bad input refused before anything runs.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dag, digests, ENGINE_TIMEOUT, engineCopy, expectGateOpen, removeTemps, runOk, validationReport, warmRuns, type Project } from './engine-helpers.js';
import { editYaml, type Check } from './gates-6A-support.js';
import { runGroupQuery } from '../../dag/store/groupquery.js';

afterAll(removeTemps);

type Report = { passed: boolean; verdict: string; checks: Check[] };
const report6B = (runDir: string) => validationReport<Report>(runDir, 'layer3', '6B');
const value = (r: { checks: Check[] }, id: string) => r.checks.find((c) => c.id === id)!.value as number;
const only6B = (d: Record<string, string>) => Object.fromEntries(Object.entries(d).filter(([k]) => k.endsWith('_6B')));

describe('segment 6B on the dev world', () => {
  const p = engineCopy(['1A', '6B']);
  const q = async (runId: string, sql: string) => {
    const r = await dag(p, ['query', runId, sql, '--json']);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Record<string, string | number | boolean | null>[];
  };

  it('publishes its _passed.flag with every gate at B on seed 42: sessions, learnability and 6A T10 measured', async () => {
    const { json, ledger } = await runOk(p, ['6B.S5']);
    const s5 = expectGateOpen(json.run_dir, ledger, '6B.S5');
    const r = report6B(json.run_dir);
    const policy = readFileSync(join(p.root, 'config/6B/validation_policy.yaml'), 'utf8');
    for (const g of r.checks.filter((c) => c.kind !== 'metric' && c.status !== 'PENDING')) expect(g.pass_B, `${g.id} = ${g.value}`).toBe(true);
    expect(r.checks.find((c) => c.id === 'T24_cross_seed_cv')!.status).toBe('PENDING'); // certified by dag report --group
    for (const id of [...policy.matchAll(/^  (T\w+):/gm)].map((m) => m[1]!)) expect(r.checks.some((c) => c.id === id), id).toBe(true);
    expect(value(r, 'T19_cnp_arrivals_per_session')).toBeGreaterThanOrEqual(1.3);
    expect(value(r, 'T19_sessions_per_active_party_week')).toBeGreaterThan(1);
    const auc = value(r, 'T23_model_auc');
    expect(auc).toBeGreaterThanOrEqual(0.8);
    expect(auc).toBeLessThanOrEqual(0.97);
    expect(value(r, 'T23_best_single_feature_auc')).toBeLessThanOrEqual(0.9);
    for (const f of ['amount', 'mcc', 'channel', 'hour', 'device', 'ip', 'ip_country', 'velocity', 'account_age']) expect(value(r, `T23_auc_${f}`), f).toBeGreaterThan(0);
    expect(value(r, 'T23_test_positives')).toBeGreaterThan(100);
    // 6A's pending T10 is resolved by this report
    expect((r.checks.find((c) => c.id === 'T10_6A_cnp_full_chain_share') as Check & { resolves?: string }).resolves).toBe('6A:T10_cnp_full_chain');
    expect((await dag(p, ['verify', json.run_id])).code).toBe(0);
  }, ENGINE_TIMEOUT * 3);

  it('T23 across seeds: s5_feature_cells_6B covers every flow, and states/6B/T23_cross_seed.sql scores one run with another\'s model (here one run in both roles: in sample)', async () => {
    const { json } = await runOk(p, ['6B.S5']);
    const [c] = await q(json.run_id, `select (select sum(flows) from s5_feature_cells_6B) cells, (select count(*) from s4_flow_truth_labels_6B) flows,
        (select sum(flows) from s5_feature_cells_6B where is_fraud_truth) cell_fraud, (select count(*) from s4_flow_truth_labels_6B where is_fraud_truth) fraud`);
    expect(Number(c!.cells)).toBe(Number(c!.flows));
    expect(Number(c!.cell_fraud)).toBe(Number(c!.fraud));
    const gates = ['T23_cross_seed_model_auc', 'T23_cross_seed_best_single_feature_auc'];
    const r = await runGroupQuery(join(p.root, 'states/6B/T23_cross_seed.sql'), { sql: 'states/6B/T23_cross_seed.sql', roles: { train: 42, score: 42 }, gates }, [
      { run: json.run_id, seed: 42, status: 'succeeded', reports: new Map(), dir: json.run_dir },
    ], 2);
    expect(r.error).toBeUndefined();
    expect(r.figures.score_positives).toBe(Number(c!.fraud));
    expect(r.figures.train_positives).toBe(Number(c!.fraud));
    const auc = r.values.T23_cross_seed_model_auc!;
    expect(auc).toBeGreaterThan(0.8); // in sample: at least what the held-out half gives
    expect(auc).toBeLessThan(0.97);
    expect(r.values.T23_cross_seed_best_single_feature_auc).toBe(Math.max(...['amount', 'mcc', 'channel', 'hour', 'device', 'ip', 'ip_country', 'velocity', 'account_age'].map((f) => r.figures[`auc_${f}`]!)));
  }, ENGINE_TIMEOUT * 3);

  it('flows, fraud and cases check out with our own SQL', async () => {
    const { json } = await runOk(p, ['6B.S5']);
    const [x] = await q(json.run_id, `select
        (select count(*) from arrival_events_5B) arrivals, (select count(*) from s4_flow_truth_labels_6B) labelled,
        (select avg((truth_label <> 'LEGIT')::int) from s4_flow_truth_labels_6B) fraud_share,
        (select count(*) from s4_flow_truth_labels_6B t left join s3_flow_anchor_with_fraud_6B f using (flow_id) where (f.campaign_id is null) <> (t.truth_label = 'LEGIT')) label_without_campaign,
        (select count(*) from s3_flow_anchor_with_fraud_6B) overlay_flows, (select sum(realised_flows) from s3_campaign_catalogue_6B) realised,
        (select count(*) from s3_event_stream_with_fraud_6B) overlay_events,
        (select count(*) from s2_event_stream_baseline_6B e semi join s3_flow_anchor_with_fraud_6B using (flow_id)) their_s2_events,
        (select count(*) from s3_flow_anchor_with_fraud_6B f join s5_account_roles_6A r on r.entity_id = f.account_id join s5_party_roles_6A pr on pr.entity_id = f.party_id join s5_merchant_roles_6A mr on mr.entity_id = f.merchant_id
           where f.fraud_flag and r.raw_role = 'clean' and pr.raw_role = 'clean' and mr.raw_role = 'clean') fraud_of_clean_entities,
        (select count(distinct currency) from s2_flow_anchor_baseline_6B) currencies,
        (select count(*) from s1_arrival_entities_6B where channel_group = 'CP' and (device_id is not null or ip_id is not null)) cp_with_device,
        (select count(*) from s4_case_timeline_6B where case_event_seq = 0 and case_event_type <> 'CASE_OPENED') bad_openings,
        (select count(*) from s4_flow_bank_view_6B) / (select count(distinct case_id) from s4_flow_bank_view_6B where case_id is not null) flows_per_case`);
    expect(Number(x!.labelled)).toBe(Number(x!.arrivals));
    expect(Number(x!.fraud_share)).toBeGreaterThan(0.002);
    expect(Number(x!.fraud_share)).toBeLessThan(0.04);
    expect(Number(x!.label_without_campaign)).toBe(0);
    // S3 publishes the overlay only: the flows campaigns took (a few per mille) and their events
    expect(Number(x!.overlay_flows)).toBe(Number(x!.realised));
    expect(Number(x!.overlay_flows)).toBeLessThan(Number(x!.labelled) * 0.04);
    expect(Number(x!.overlay_events)).toBe(Number(x!.their_s2_events));
    expect(Number(x!.fraud_of_clean_entities)).toBe(0); // fraud comes from 6A's risky entities only
    expect(Number(x!.currencies)).toBeGreaterThan(10);
    expect(Number(x!.cp_with_device)).toBe(0);
    expect(Number(x!.bad_openings)).toBe(0);
    expect(Number(x!.flows_per_case)).toBeGreaterThan(20); // cases are rare, not 60 % of flows
    // a takeover brings a device the party never owned
    const [t] = await q(json.run_id, `select count(*) n, count(*) filter (where l.device_id is null) foreign_device
        from s3_flow_anchor_with_fraud_6B f join s3_campaign_catalogue_6B c using (campaign_id)
        left join s4_device_links_6A l on l.device_id = f.device_id and l.party_id = f.party_id where c.campaign_type = 'ACCOUNT_TAKEOVER'`);
    expect(Number(t!.n)).toBeGreaterThan(0);
    expect(Number(t!.foreign_device)).toBe(Number(t!.n));
    // card testing is a fraudster's: bursts of five small online payments a day on one compromised
    // card, at the digital and donation merchants its filter names, from a bot's device
    const [ct] = await q(json.run_id, `with f as (
        select f.*, r.raw_role from s3_flow_anchor_with_fraud_6B f join s3_campaign_catalogue_6B c using (campaign_id)
        left join s5_account_roles_6A r on r.entity_id = f.account_id where c.campaign_key = 'card_testing')
      select count(*) n, count(*) filter (where raw_role = 'compromised_account') compromised,
             count(distinct (instrument_id, ts_utc::date)) card_days,
             count(*) filter (where mcc not in ('8398', '5815', '5816', '5817', '5818', '5968', '4816', '7372') or channel_group <> 'CNP') off_target,
             count(*) filter (where device_id not in (select entity_id from s5_device_roles_6A where raw_role in ('fraud_device', 'farm_device'))) not_bot,
             (select count(*) from s3_instrument_base_6A i join s2_account_base_6A a using (account_id) join f using (instrument_id) where a.party_id <> f.party_id) wrong_owner
      from f`);
    expect(Number(ct!.n)).toBeGreaterThan(100);
    expect(Number(ct!.compromised)).toBe(Number(ct!.n));
    expect(Number(ct!.card_days)).toBeLessThan(Number(ct!.n) / 3); // about n / 5, a burst a card and day
    expect(Number(ct!.off_target)).toBe(0);
    expect(Number(ct!.not_bot)).toBe(0);
    expect(Number(ct!.wrong_owner)).toBe(0); // the flow carries the card's account and its owner
    // a takeover spends on goods that resell, with taken-over accounts' cards, meeting its target
    const [ato] = await q(json.run_id, `select count(*) n, count(*) filter (where r.raw_role = 'taken_over_account') taken_over,
        count(*) filter (where f.mcc not in ('5732', '4812', '5944', '5311', '5947', '5999')) off_target,
        any_value(c.target_flows) target_n
      from s3_flow_anchor_with_fraud_6B f join s3_campaign_catalogue_6B c using (campaign_id) left join s5_account_roles_6A r on r.entity_id = f.account_id
      where c.campaign_key = 'account_takeover'`);
    expect(Number(ato!.n)).toBe(Number(ato!.target_n));
    expect(Number(ato!.taken_over)).toBe(Number(ato!.n));
    expect(Number(ato!.off_target)).toBe(0);
  }, ENGINE_TIMEOUT * 2);

  it('the same seed gives the same bytes, threads 1 vs 4 too; another seed other flows', async () => {
    const a = await runOk(p, ['6B.S5']);
    // 6B rerun from S1 on the cached upstream, with one DuckDB thread and with four
    const rerun = async (threads: number) => {
      p.edit('dag.yaml', /threads: \d+/, `threads: ${threads}`);
      try {
        return await runOk(p, ['6B.S5', '--from', '6B.S1', '--base', a.json.run_id]);
      } finally {
        p.edit('dag.yaml', /threads: \d+/, 'threads: 2');
      }
    };
    const r1 = await rerun(1);
    const r4 = await rerun(4);
    for (const r of [r1, r4]) expect(r.ledger.filter((e) => /^6B\.S[1-5]/.test(e.state)).every((e) => e.action === 'ran')).toBe(true);
    expect(only6B(digests(r4.ledger))).toEqual(only6B(digests(r1.ledger)));
    expect(only6B(digests(r1.ledger))).toEqual(only6B(digests(a.ledger)));
    const seven = await runOk(p, ['6B.S5', '--seed', '7']);
    expect(digests(seven.ledger)['s3_flow_anchor_with_fraud_6B']).not.toBe(digests(a.ledger)['s3_flow_anchor_with_fraud_6B']);
  }, ENGINE_TIMEOUT * 5);

  it('after a campaign-policy edit, dag run --from 6B.S3 stages S0-S2 from the base, reruns S3-S5, and equals a full run', async () => {
    const base = await runOk(p, ['6B.S5']);
    editYaml(p, 'config/6B/campaign_policy.yaml', (d) => (d.campaigns[0].rate = 0.002));
    try {
      const plan = JSON.parse((await dag(p, ['plan', '6B.S5', '--json'])).stdout) as { states: { state: string; action: string }[] };
      expect(plan.states.filter((s) => s.action === 'run').map((s) => s.state.replace(/@.*/, ''))).toEqual(['6B.S3', '6B.S4', '6B.S5']);
      const partial = await runOk(p, ['6B.S5', '--from', '6B.S3', '--base', base.json.run_id]);
      const acted = (st: string) => partial.ledger.find((e) => e.state.replace(/@.*/, '') === st)?.action;
      for (const st of ['6B.S0', '6B.S1', '6B.S2']) expect(acted(st), st).toBe('staged');
      for (const st of ['6B.S3', '6B.S4', '6B.S5']) expect(acted(st), st).toBe('ran');
      // the full run: a new runs folder with only the pristine world's cache, so S3-S5 run again from
      // the edited policy while 1A-6A and 6B.S0-S2 (which it does not reach) are hits
      const fresh = warmRuns(p);
      const full = await runOk(fresh, ['6B.S5']);
      for (const st of ['6B.S3', '6B.S4', '6B.S5']) expect(full.ledger.find((e) => e.state.replace(/@.*/, '') === st)?.action, st).toBe('ran');
      expect(only6B(digests(partial.ledger))).toEqual(only6B(digests(full.ledger)));
    } finally {
      editYaml(p, 'config/6B/campaign_policy.yaml', (d) => (d.campaigns[0].rate = 0.0012));
    }
  }, ENGINE_TIMEOUT * 4);

  it('a bad 6B policy value exits 2 before any run folder exists, naming file, pointer and value', async () => {
    const runs = () => (existsSync(p.runsDir) ? readdirSync(p.runsDir).filter((d) => /^[0-9a-f]{32}$/.test(d)).length : 0);
    const before = runs();
    p.edit('config/6B/attachment_policy.yaml', 'home_share: { CP: 0.95, CNP: 0.85 }', 'home_share: { CP: 1.95, CNP: 0.85 }');
    const r = await dag(p, ['run', '--json']);
    p.edit('config/6B/attachment_policy.yaml', 'home_share: { CP: 1.95, CNP: 0.85 }', 'home_share: { CP: 0.95, CNP: 0.85 }');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('config/6B/attachment_policy.yaml');
    expect(r.stderr).toContain('/home_share/CP');
    expect(r.stderr).toContain('1.95');
    expect(runs()).toBe(before);
  }, ENGINE_TIMEOUT);
});
