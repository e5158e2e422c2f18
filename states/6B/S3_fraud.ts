/**
 * 6B.S3 — the fraud overlay (the flows campaigns took and their events; the rest is S2's). Campaigns (config/6B/campaign_policy.yaml) in priority order: each
 * campaign day takes round(rate x that day's flows) of the day's eligible flows (its filter, over
 * the flow and its entities' 6A roles, and not taken by an earlier campaign), the top k by a PRF
 * rank, so a target is met exactly whenever enough flows are eligible (a shortfall is counted, never
 * filled from elsewhere). Then each campaign's tactic changes its flows. A TypeScript kernel only
 * because the filters are policy text: each is checked against a whitelist of columns, keywords
 * and literals before it reaches SQL, so a filter cannot call a function or read a file.
 */
interface Ctx {
  con: { run(sql: string): Promise<unknown>; runAndReadAll(sql: string): Promise<{ getRowObjectsJS(): Record<string, unknown>[] }> };
  variables: Record<string, unknown>;
  step<T>(name: string, body: () => Promise<T>): Promise<T>;
}
interface Campaign {
  // (ip_swap_probability applies to every tactic, on flows that have an IP)
  id: string;
  type: string;
  priority: number;
  rate: number;
  active: { from: number; to: number };
  filter: string;
  victims?: { where: string; burst: number; after_takeover?: boolean };
  tactic: { kind: 'card_testing' | 'takeover' | 'amount'; min_usd?: number; max_usd?: number; lo?: number; hi?: number; round?: boolean; ip_swap_probability?: number };
}

const COLUMNS = ['channel', 'demand_class', 'mcc', 'amount_usd', 'local_hour', 'day_index', 'horizon_days', 'party_role', 'account_role', 'merchant_role', 'account_age_months', 'instrument_type', 'device_type', 'ip_type', 'takeover_day'];
/** What a victims filter can read: the card, its account and the account's owner. */
const VICTIM_COLUMNS = ['party_role', 'account_role', 'account_age_months', 'instrument_type'];
const KEYWORDS = ['AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'TRUE', 'FALSE', 'BETWEEN', 'LIKE'];
/** A named PRF lane of this state (states/_lib/lanes.md): every id below is mixed in after one. */
const lane = (name: string) => `key_of('6B.S3/${name}')`;

/** The filter if every token is a known column, keyword, number, quoted string or operator; else an error naming the token. */
export function checkedFilter(id: string, filter: string, columns: string[] = COLUMNS): string {
  const token = /\s*(?:('(?:[^']|'')*')|([A-Za-z_][A-Za-z0-9_]*)|(\d+(?:\.\d+)?)|(<>|<=|>=|!=|[=<>(),+\-*/]))/y;
  let at = 0;
  while (at < filter.length) {
    if (/^\s*$/.test(filter.slice(at))) break;
    token.lastIndex = at;
    const m = token.exec(filter);
    if (!m) throw new Error(`config/6B/campaign_policy.yaml: campaign ${id}: filter has an unexpected character at offset ${at}: ${JSON.stringify(filter.slice(at, at + 12))}`);
    const word = m[2];
    if (word && !columns.includes(word) && !KEYWORDS.includes(word.toUpperCase())) {
      throw new Error(`config/6B/campaign_policy.yaml: campaign ${id}: filter names '${word}', which is neither a column (${columns.join(', ')}) nor a keyword`);
    }
    at = token.lastIndex;
  }
  return filter;
}

export default async function run(ctx: Ctx): Promise<void> {
  const { con, step } = ctx;
  const policy = ctx.variables.campaign_policy as { campaigns: Campaign[] };
  const campaigns = [...policy.campaigns].sort((a, b) => a.priority - b.priority || a.id.localeCompare(b.id));
  const filters = campaigns.map((c) => checkedFilter(c.id, c.filter));
  const victims = campaigns.map((c) => (c.victims ? { where: checkedFilter(c.id, c.victims.where, VICTIM_COLUMNS), burst: c.victims.burst, afterTakeover: c.victims.after_takeover ?? false } : undefined));

  await step('features', async () => {
    // What a filter can read: the flow, its entities' 6A roles and attributes, its day and hour.
    await con.run(`create table horizon as
      select horizon_start_utc, (n_buckets * bucket_seconds / 86400)::INTEGER as horizon_days
      from scenario_manifest_5A where scenario_id = getvariable('scenario_id')`);
    await con.run(`create view fx as
      select f.flow_id, f.account_id, f.merchant_id, f.ts_utc, f.channel_group as channel, f.demand_class, f.mcc,
             f.amount_minor / pow(10e0, c.minor_exponent) / c.units_per_usd as amount_usd,
             hour(f.ts_local)::INTEGER as local_hour,
             date_diff('day', h.horizon_start_utc, f.ts_utc)::INTEGER as day_index, h.horizon_days,
             coalesce(pr.raw_role, 'clean') as party_role, coalesce(ar.raw_role, 'clean') as account_role,
             coalesce(mr.raw_role, 'clean') as merchant_role, a.opened_months_ago as account_age_months,
             i.instrument_type, d.device_type, ip.ip_type,
             floor(u01(prf2(getvariable('stream_key'), ${lane('takeover')}, f.account_id)) * h.horizon_days * 0.8)::INTEGER as takeover_day
      from s2_flow_anchor_baseline_6B f cross join horizon h
      join currencies_6B c using (currency)
      join s2_account_base_6A a using (account_id)
      join s3_instrument_base_6A i using (instrument_id)
      left join s4_device_base_6A d using (device_id)
      left join s4_ip_base_6A ip using (ip_id)
      left join s5_party_roles_6A pr on pr.entity_id = f.party_id
      left join s5_account_roles_6A ar on ar.entity_id = f.account_id
      left join s5_merchant_roles_6A mr on mr.entity_id = f.merchant_id`);
    await con.run(`create table day_flows as
      select date_diff('day', h.horizon_start_utc, f.ts_utc)::INTEGER as day_index, count(*) as n from s2_flow_anchor_baseline_6B f cross join horizon h group by all`);
    // One pass over every flow and its entities: the flows some campaign's filter takes, with a bit
    // per campaign (each campaign then reads these, not the hundred million flows).
    const bits = filters.map((f, i) => `CASE WHEN (${f}) THEN ${2 ** i} ELSE 0 END`).join(' + ');
    if (campaigns.length > 52) throw new Error(`config/6B/campaign_policy.yaml: ${campaigns.length} campaigns, at most 52`);
    await con.run(`create table candidates as
      select flow_id, account_id, merchant_id, ts_utc, day_index, mask from (select fx.*, (${bits || '0'})::BIGINT as mask from fx) where mask <> 0`);
    await con.run(`create table picks (flow_id UBIGINT, campaign_id UBIGINT)`);
    await con.run(`create table catalogue (campaign_id UBIGINT, campaign_key VARCHAR, campaign_type VARCHAR, priority INTEGER, rate DOUBLE,
      active_days INTEGER, eligible_flows BIGINT, target_flows BIGINT, realised_flows BIGINT, shortfall_flows BIGINT)`);
  });

  await step('select', async () => {
    for (const [i, c] of campaigns.entries()) {
      const cid = i + 1;
      const ck = `prf2(getvariable('stream_key'), ${lane('rank')}, key_of(${sql(c.id)}))`;
      await con.run(`create or replace table elig as
        select fx.flow_id, fx.day_index from candidates fx, horizon h
        where (fx.mask & ${2 ** i}) <> 0
          and fx.day_index >= floor(${c.active.from} * h.horizon_days) and fx.day_index < ceil(${c.active.to} * h.horizon_days)
          and fx.flow_id not in (select flow_id from picks)`);
      await con.run(`create or replace table targets as
        select d.day_index, round(${c.rate} * d.n)::BIGINT as target, count(e.flow_id) as eligible
        from (select d.*, h.horizon_days from day_flows d cross join horizon h) d left join elig e on e.day_index = d.day_index
        where d.day_index >= floor(${c.active.from} * d.horizon_days) and d.day_index < ceil(${c.active.to} * d.horizon_days)
        group by d.day_index, d.n`);
      await con.run(`insert into picks
        select flow_id, ${cid} from (
          select e.flow_id, e.day_index, row_number() over (partition by e.day_index order by mix64(${ck}, e.flow_id), e.flow_id) as r from elig e
        ) r join targets t using (day_index) where r.r <= t.target`);
      await con.run(`insert into catalogue
        select ${cid}, ${sql(c.id)}, ${sql(c.type)}, ${c.priority}, ${c.rate}, count(*)::INTEGER, sum(eligible)::BIGINT, sum(target)::BIGINT,
               (select count(*) from picks where campaign_id = ${cid}), sum(greatest(0, target - eligible))::BIGINT
        from targets`);
    }
  });

  await step('victims', async () => {
    // A campaign with victims is a fraudster's: its flows (the filter picks the arrivals it uses)
    // are paid with cards of 6A's risky accounts (victims.where over the card, its account and
    // the owner), a card for each burst of victims.burst consecutive flows of a campaign day (in
    // merchant and time order), so one stolen card is tried again and again: card testing is a
    // burst of small amounts (ENGINE.md 6B). The flow then carries the victim's party, account and
    // card; its device and IP are the tactic's. With after_takeover a card is used only from its
    // account's takeover day on (the day the takeover_day column of a filter gives): a burst of day
    // d picks among the cards taken over by then, and a pick on a day before any takeover is dropped.
    await con.run(`create table victim_cards as
      select 0::UBIGINT as campaign_id, 0::BIGINT as ord, 0::UBIGINT as party_id, 0::UBIGINT as account_id, 0::UBIGINT as instrument_id, 0::INTEGER as takeover_day where false`);
    await con.run(`create table reattached (flow_id UBIGINT, party_id UBIGINT, account_id UBIGINT, instrument_id UBIGINT)`);
    for (const [i, v] of victims.entries()) {
      if (!v) continue;
      const cid = i + 1;
      await con.run(`insert into victim_cards
        select ${cid}, (row_number() over (order by ${v.afterTakeover ? 'takeover_day, ' : ''}instrument_id) - 1)::BIGINT, party_id, account_id, instrument_id, takeover_day from (
          select i.instrument_id, i.account_id, a.party_id, i.instrument_type, a.opened_months_ago as account_age_months,
                 coalesce(pr.raw_role, 'clean') as party_role, coalesce(ar.raw_role, 'clean') as account_role,
                 floor(u01(prf2(getvariable('stream_key'), ${lane('takeover')}, i.account_id)) * h.horizon_days * 0.8)::INTEGER as takeover_day
          from s3_instrument_base_6A i join s2_account_base_6A a using (account_id) cross join horizon h
          left join s5_party_roles_6A pr on pr.entity_id = a.party_id left join s5_account_roles_6A ar on ar.entity_id = i.account_id
          where i.instrument_type IN ('DEBIT_CARD', 'CREDIT_CARD', 'VIRTUAL_CARD')) v
        where (${v.where})`);
      const n = Number((await con.runAndReadAll(`select count(*) as n from victim_cards where campaign_id = ${cid}`)).getRowObjectsJS()[0]!.n);
      if (n === 0) throw new Error(`config/6B/campaign_policy.yaml: campaign ${campaigns[i]!.id}: victims.where matches no card of 6A`);
      await con.run(`insert into reattached
        with b as (
          select k.flow_id, s.day_index,
                 (row_number() over (partition by s.day_index order by s.merchant_id, s.ts_utc, k.flow_id) - 1) // ${v.burst} as burst
          from picks k join candidates s using (flow_id) where k.campaign_id = ${cid}
        )
        , pool as (
          select d.day_index, ${v.afterTakeover ? `(select count(*) from victim_cards c where c.campaign_id = ${cid} and c.takeover_day <= d.day_index)` : String(n)} as n
          from (select distinct day_index from b) d
        )
        select b.flow_id, c.party_id, c.account_id, c.instrument_id from b join pool p using (day_index) join victim_cards c
          on c.campaign_id = ${cid} and c.ord = floor(u01(mix64(prf3(getvariable('stream_key'), ${lane('victim_card')}, key_of(${sql(campaigns[i]!.id)}), b.day_index::UBIGINT), b.burst::UBIGINT)) * p.n)::BIGINT
        where p.n > 0`);
      // a pick left without a card is no fraud of this campaign's
      await con.run(`delete from picks where campaign_id = ${cid} and flow_id not in (select flow_id from reattached)`);
      await con.run(`update catalogue set realised_flows = (select count(*) from picks where campaign_id = ${cid}) where campaign_id = ${cid}`);
    }
  });

  await step('tactics', async () => {
    // Attack infrastructure: IPs a fraudster brings (6A's risky IPs, hosting and proxy addresses),
    // devices a takeover brings (6A's fraud and farm devices), each numbered for an index pick.
    await con.run(`create table attack_ips as
      select ip_id, (row_number() over (order by ip_id) - 1)::BIGINT as ord from s4_ip_base_6A i left join s5_ip_roles_6A r on r.entity_id = i.ip_id
      where r.raw_role = 'risky_ip' or i.ip_type in ('DATACENTER', 'VPN_PROXY')`);
    await con.run(`create table attack_devices as
      select entity_id as device_id, (row_number() over (order by entity_id) - 1)::BIGINT as ord from s5_device_roles_6A where raw_role in ('fraud_device', 'farm_device')`);
    const kinds = campaigns.map((c, i) => `(${i + 1}::UBIGINT, ${sql(c.tactic.kind)}, ${c.tactic.min_usd ?? 'NULL'}::DOUBLE, ${c.tactic.max_usd ?? 'NULL'}::DOUBLE, ${c.tactic.lo ?? 1}::DOUBLE, ${c.tactic.hi ?? 1}::DOUBLE, ${c.tactic.round ?? false}, ${c.tactic.ip_swap_probability ?? 0}::DOUBLE)`);
    await con.run(`create table tactic (campaign_id UBIGINT, kind VARCHAR, min_usd DOUBLE, max_usd DOUBLE, lo DOUBLE, hi DOUBLE, round_units BOOLEAN, ip_swap DOUBLE)`);
    await con.run(`insert into tactic values ${kinds.join(', ')}`);
    await con.run(`create table changed as
      with p as (
        select f.flow_id, f.amount_minor, f.device_id, f.ip_id, c.minor_exponent, c.units_per_usd, t.*,
               prf2(getvariable('stream_key'), ${lane('tactic')}, f.flow_id) as tk
        from picks k join s2_flow_anchor_baseline_6B f using (flow_id) join tactic t using (campaign_id) join currencies_6B c using (currency)
      ), m as (
        select *, CASE kind
                    WHEN 'card_testing' THEN round((min_usd + u01(mix64(tk, 1)) * (max_usd - min_usd)) * units_per_usd * pow(10e0, minor_exponent))
                    ELSE amount_minor * (lo + u01(mix64(tk, 1)) * (hi - lo)) END as raw_minor,
                  floor(u01(mix64(tk, 2)) * (select count(*) from attack_devices))::BIGINT as device_ord,
                  floor(u01(mix64(tk, 4)) * (select count(*) from attack_ips))::BIGINT as ip_ord
        from p
      )
      -- the attack device and IP by index, as equi-joins (a correlated lookup per flow became a
      -- nested loop over every pick and every attack device at full scale)
      select m.flow_id, m.campaign_id,
             greatest(1, CASE WHEN round_units THEN round(raw_minor / pow(10e0, minor_exponent)) * pow(10e0, minor_exponent) ELSE round(raw_minor) END)::BIGINT as amount_minor,
             CASE WHEN kind IN ('takeover', 'card_testing') AND m.device_id IS NOT NULL THEN d.device_id ELSE m.device_id END as device_id,
             CASE WHEN m.ip_id IS NOT NULL AND u01(mix64(tk, 3)) < ip_swap THEN a.ip_id ELSE m.ip_id END as ip_id
      from m left join attack_devices d on d.ord = m.device_ord left join attack_ips a on a.ord = m.ip_ord`);
    // The overlay: S3 publishes the flows a campaign took (as the tactic left them) and their
    // events, keyed as in S2; every other flow and event is S2's, unchanged. 6B's world with fraud
    // is S2's baseline with these rows in place of S2's (see the with_fraud_6B recipe in README).
    await con.run(`create table s3_flow_anchor_with_fraud_6B as
      select f.* replace (c.amount_minor as amount_minor, c.amount_minor / pow(10e0, x.minor_exponent) as amount,
                          c.device_id as device_id, c.ip_id as ip_id,
                          coalesce(r.party_id, f.party_id) as party_id, coalesce(r.account_id, f.account_id) as account_id,
                          coalesce(r.instrument_id, f.instrument_id) as instrument_id),
             c.campaign_id, true as fraud_flag
      from s2_flow_anchor_baseline_6B f join changed c using (flow_id) join currencies_6B x using (currency) left join reattached r using (flow_id)`);
    // events take their flow's amount and campaign: one source, joined
    await con.run(`create table s3_event_stream_with_fraud_6B as
      select e.* replace (c.amount_minor as amount_minor), c.campaign_id
      from s2_event_stream_baseline_6B e join changed c using (flow_id)`);
    await con.run(`create table s3_campaign_catalogue_6B as
      select campaign_id, campaign_key, campaign_type, priority, rate, active_days, coalesce(eligible_flows, 0) as eligible_flows,
             coalesce(target_flows, 0) as target_flows, realised_flows, coalesce(shortfall_flows, 0) as shortfall_flows from catalogue`);
  });
}

const sql = (s: string): string => "'" + s.replace(/'/g, "''") + "'";
