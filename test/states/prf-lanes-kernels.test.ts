// The kernels whose PRF lanes issue 14 changed, run on a real DuckDB with the prelude, on small
// made-up inputs with the policy caps raised past the old offsets: no two lanes coincide, and the
// old keys would have (states/_lib/lanes.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { streamKey } from '../../states/_lib/prf.js';
import { lit, openDuck, REPO, type Duck } from './engine-helpers.js';

/** Runs a kernel as the orchestrator would: the prelude, stream_key and JSON documents as variables, then its text. */
async function runKernel(duck: Duck, kernel: string, stream: bigint, docs: Record<string, unknown>): Promise<void> {
  await duck.run(`set variable stream_key = ${stream}::UBIGINT`);
  for (const [name, doc] of Object.entries(docs)) await duck.run(`set variable ${name} = ${lit(JSON.stringify(doc))}::JSON`);
  await duck.run(readFileSync(join(REPO, kernel), 'utf8'));
}
const num = (v: unknown) => Number(v);

let duck: Duck | undefined;
afterEach(() => {
  duck?.close();
  duck = undefined;
});

describe('6A.S2 past 63 account types (the old cell_no * 64 + type_no)', () => {
  it('every (cell, account type) is its own group and gets its exact target; the old key merged cells', async () => {
    duck = await openDuck(['prf', 'apportion']);
    const types = Array.from({ length: 70 }, (_, i) => `T${String(i).padStart(2, '0')}`);
    const priors = {
      K_max: { RETAIL: Object.fromEntries(types.map((t) => [t, 3])) },
      primary: { RETAIL: 'T00' },
      lambda: { MASS: Object.fromEntries(types.map((t, i) => [t, i === 0 ? 1.2 : 0.3])) },
      zero_gate: Object.fromEntries(types.slice(1).map((t) => [t, 0.6])),
      weight_sigma: 0.5,
    };
    await duck.run(`create table s1_party_base_6A as
      select (row_number() over (order by c, i))::UBIGINT as party_id, c as country_iso, 'RETAIL' as party_type, 'MASS' as segment, 120 as tenure_months
      from (values ('DE'), ('FR')) v(c), range(150) r(i)`);
    await runKernel(duck, 'states/6A/S2_accounts.sql', streamKey('6A.S2', 42), { account_priors: priors });
    const [g] = await duck.rows('select count(*) as pairs, count(distinct grp_no) as groups from cell_types');
    expect([num(g!.pairs), num(g!.groups)]).toEqual([140, 140]);
    // what each country holds of each type is the target apportioned to that cell, exactly
    const [c] = await duck.rows(`with held as (
        select p.country_iso, h.account_type, sum(h.n_accounts) as n from s2_party_holdings_6A h join s1_party_base_6A p using (party_id) group by all)
      select count(*) as cells, count(*) filter (where coalesce(h.n, 0) <> t.target) as off, sum(t.target) as accounts
      from (select g.country_iso, g.account_type, t.target from cell_targets t join cell_types g using (grp_no)) t left join held h using (country_iso, account_type)`);
    expect([num(c!.cells), num(c!.off)]).toEqual([140, 0]);
    expect(num(c!.accounts)).toBeGreaterThan(3000);
    // (the old kernel, on these inputs: 12 of the 140 cells off their target, 556 accounts counted dropped, 164 excess)
    const [k] = await duck.rows('select sum(dropped) as dropped, sum(excess) as excess from s2_allocation_counters_6A');
    expect([num(k!.dropped), num(k!.excess)]).toEqual([0, 0]);
    // the old key over the same cells and types: (c, 65) and (c + 1, 1) were one group
    const [old] = await duck.rows(`with cells as (select country_iso, party_type, segment, row_number() over (order by country_iso, party_type, segment) as cell_no
                                                 from (select distinct country_iso, party_type, segment from cell_types)),
           t as (select party_type, account_type, row_number() over (order by party_type, account_type) as type_no from (select distinct party_type, account_type from cell_types))
      select count(*) as pairs, count(distinct cell_no * 64 + type_no) as groups from cells join t using (party_type)`);
    expect(num(old!.pairs)).toBe(140);
    expect(num(old!.groups)).toBeLessThan(140);
  });
});

describe('6A.S3 past 100 instruments per account (the old 100 + instrument_seq)', () => {
  it("every draw key of the kernel is distinct with 250 instruments per account, and they are the kernel's keys", async () => {
    duck = await openDuck(['prf', 'apportion']);
    const priors = {
      per_account_type: { CURRENT: { DEBIT_CARD: { p_first: 1, extra_mean: 100 }, VIRTUAL_CARD: { p_first: 1, extra_mean: 100 } } },
      max_per_account: 250,
      scheme_mix: { EU: { AMEX: 0.25, LOCAL: 0.25, MASTERCARD: 0.25, VISA: 0.25 } },
    };
    await duck.run(`create table s1_party_base_6A as select range::UBIGINT + 1 as party_id, 'EU' as region from range(40)`);
    await duck.run(`create table s2_account_base_6A as select party_id as account_id, party_id, 'CURRENT' as account_type from s1_party_base_6A`);
    const stream = streamKey('6A.S3', 42);
    await runKernel(duck, 'states/6A/S3_instruments.sql', stream, { instrument_priors: priors });
    await duck.run(`create table keyed as
      with i as (select *, row_number() over (partition by account_id, instrument_type order by instrument_id) as seq from s3_instrument_base_6A)
      select i.*, prf2(${stream}::UBIGINT, i.account_id, key_of(i.instrument_type)) as k from i`);
    const [n] = await duck.rows(`select max(seq) as top, count(*) filter (where seq > 100) as past_offset, count(*) as n from keyed`);
    expect(num(n!.top)).toBeGreaterThan(100);
    expect(num(n!.past_offset)).toBeGreaterThan(100);
    // the keys below are the kernel's: recomputed from them, every instrument's scheme is the one published
    const [same] = await duck.rows(`select count(*) filter (where sc.schemes[pick_index(sc.cumw, u01(mix64(mix64(k.k, lane('scheme')), k.seq)))] <> k.scheme) as off
      from keyed k join scheme_cum sc on sc.region = 'EU'`);
    expect(num(same!.off)).toBe(0);
    // gate, extra count and every instrument's scheme: one key each, none twice
    const [d] = await duck.rows(`with g as (select prf2(${stream}::UBIGINT, account_id, key_of(instrument_type)) as k from counts),
           keys as (select k from g union all select mix64(k, 2) from g union all select mix64(mix64(k, lane('scheme')), seq) from keyed)
      select count(*) as n, count(distinct k) as d from keys`);
    expect(num(d!.n)).toBeGreaterThan(8000);
    expect(num(d!.d)).toBe(num(d!.n));
    // the old lanes put the counter on the constants' line: instrument seq s drew with the key of lane 100 + s,
    // which any constant lane above 100 at that position (another per-instrument draw at 200 + s, say) meets
    const [old] = await duck.rows(`select count(*) as met from keyed a join keyed b on b.account_id = a.account_id and b.instrument_type = a.instrument_type
      and mix64(a.k, 100 + a.seq) = mix64(b.k, 200 + b.seq)`);
    expect(num(old!.met)).toBeGreaterThan(0);
  });
});

describe('6A.S1: a party id never stands where a lane constant does', () => {
  it("no party's key is an apportionment stream (the old party 1, 2 and 3 had the streams' keys)", async () => {
    duck = await openDuck(['prf', 'apportion']);
    const priors = parse(readFileSync(join(REPO, 'config/6A/party_priors.yaml'), 'utf8'));
    await duck.run(`create table countries_1A as select * from (values ('DE', 'EU', 1.0e0), ('FR', 'EU', 1.0e0)) v(country_iso, region, size_weight)`);
    await duck.run(`create table merchant_zone_profile_5A as select * from (values ('DE', 2000.0e0), ('FR', 1400.0e0)) v(legal_country_iso, weekly_arrivals)`);
    const stream = streamKey('6A.S1', 42);
    await runKernel(duck, 'states/6A/S1_parties.sql', stream, { party_priors: priors });
    const s = `${stream}::UBIGINT`;
    // the kernel's party key, checked on every retail party's age
    const [a] = await duck.rows(`select count(*) as retail, count(*) filter (where p.age_years <> l.age_lo + floor(u01(mix64(prf2(${s}, lane('party'), p.party_id), 1)) * (l.age_hi - l.age_lo + 1))) as off
      from s1_party_base_6A p join segment_law l using (segment) where p.party_type = 'RETAIL'`);
    expect(num(a!.retail)).toBeGreaterThan(900);
    expect(num(a!.off)).toBe(0);
    const streams = `(mix64(${s}, lane('country_cells')), mix64(${s}, lane('type_cells')), mix64(${s}, lane('segment_cells')))`;
    const [now] = await duck.rows(`select count(*) filter (where prf2(${s}, lane('party'), party_id) in ${streams}) as met from s1_party_base_6A`);
    expect(num(now!.met)).toBe(0);
    const [old] = await duck.rows(`select count(*) filter (where mix64(${s}, party_id) in (mix64(${s}, 1), mix64(${s}, 2), mix64(${s}, 3))) as met from s1_party_base_6A`);
    expect(num(old!.met)).toBe(3);
  });
});

describe("6B.S4: a case's draws are not its first flow's", () => {
  it('alert review delays spread around their median (with the flow\'s detection uniform they all fell below it)', async () => {
    duck = await openDuck(['prf', 'apportion']);
    const delays = (parse(readFileSync(join(REPO, 'config/6B/label_policy.yaml'), 'utf8')) as { delays: Record<string, { median: number; sigma: number }> }).delays;
    const policy = {
      truth_rules: [{ campaign_type: null, label: 'LEGIT', subtype: 'NONE' }],
      detection: { by_subtype: { NONE: 0.2 }, amount_slope: 0, class_shift: {} },
      dispute: { LEGIT: 0 },
      chargeback: { LEGIT: 0 },
      written_off: { LEGIT: 0 },
      delays,
      case_window_days: 14,
    };
    // 3 000 flows on cards of their own: every alert is a case of one flow
    await duck.run(`create table s2_flow_anchor_baseline_6B as
      select (4294967296 + range)::UBIGINT as flow_id, (range + 1)::UBIGINT as instrument_id, timestamp '2026-03-01' + to_minutes(range) as ts_utc,
             'retail_goods' as demand_class, 5000::BIGINT as amount_minor, 'USD' as currency from range(3000)`);
    await duck.run('create table s2_event_stream_baseline_6B as select flow_id, 0 as event_seq from s2_flow_anchor_baseline_6B');
    await duck.run('create table s3_flow_anchor_with_fraud_6B (flow_id UBIGINT, instrument_id UBIGINT, amount_minor BIGINT, campaign_id UBIGINT)');
    await duck.run('create table s3_campaign_catalogue_6B (campaign_id UBIGINT, campaign_type VARCHAR)');
    await duck.run(`create table currencies_6B as select 'USD' as currency, 2 as minor_exponent, 1e0 as units_per_usd`);
    await runKernel(duck, 'states/6B/S4_labels.sql', streamKey('6B.S4', 42, 'baseline_v1'), { label_policy: policy });
    const [r] = await duck.rows(`with t as (
        select case_id, date_diff('second', max(ts_utc) filter (where case_event_type = 'CASE_OPENED'), max(ts_utc) filter (where case_event_type = 'FRAUD_ALERT_REVIEWED')) as review_s
        from s4_case_timeline_6B group by case_id)
      select count(*) as cases, avg((review_s < ${delays.detect!.median})::INTEGER) as below_median from t`);
    expect(num(r!.cases)).toBeGreaterThan(450);
    expect(num(r!.below_median)).toBeGreaterThan(0.4);
    expect(num(r!.below_median)).toBeLessThan(0.6);
  });
});
