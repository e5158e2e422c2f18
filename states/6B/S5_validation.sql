-- step: sealed
create table sealed_check as from assert_sealed('sealed_inputs_6B');

-- step: structure
-- 6B's world with fraud: S2's flows and events with S3's overlay in place of S2's rows of the
-- same keys (the overlay carries the campaign; every other flow has none).
create view flows_6B as
select * from s3_flow_anchor_with_fraud_6B
union all by name
select f.*, NULL::UBIGINT as campaign_id, false as fraud_flag from s2_flow_anchor_baseline_6B f anti join s3_flow_anchor_with_fraud_6B o using (flow_id);
create view events_6B as
select * from s3_event_stream_with_fraud_6B
union all by name
select e.*, NULL::UBIGINT as campaign_id from s2_event_stream_baseline_6B e anti join s3_flow_anchor_with_fraud_6B o using (flow_id);
-- Parity of flows and events across S2-S4, label coverage, one campaign per event and flow, and
-- events in time order within each flow: exact, over every row.
create table structure as
select (select count(*) from s2_flow_anchor_baseline_6B) as flows_s2,
       (select count(*) from s3_flow_anchor_with_fraud_6B o anti join s2_flow_anchor_baseline_6B f using (flow_id)) as overlay_flows_not_in_s2,
       (select count(*) from s3_flow_anchor_with_fraud_6B) - (select sum(realised_flows) from s3_campaign_catalogue_6B) as overlay_flows_off_catalogue,
       (select count(*) from s3_event_stream_with_fraud_6B o anti join s2_event_stream_baseline_6B e using (flow_id, event_seq)) as overlay_events_not_in_s2,
       (select count(*) from s2_event_stream_baseline_6B e semi join s3_flow_anchor_with_fraud_6B o using (flow_id)) - (select count(*) from s3_event_stream_with_fraud_6B) as overlay_events_missing,
       (select count(*) from flows_6B) as flows_s3,
       (select count(*) from s4_flow_truth_labels_6B) as flows_truth,
       (select count(*) from s4_flow_bank_view_6B) as flows_bank,
       (select count(*) from s1_arrival_entities_6B) as arrivals,
       (select count(*) from s2_event_stream_baseline_6B) as events_s2,
       (select count(*) from events_6B) as events_s3,
       (select count(*) from s4_event_labels_6B) as events_labelled,
       (select count(*) from flows_6B f anti join s4_flow_truth_labels_6B t using (flow_id)) as flows_unlabelled,
       (select count(*) from events_6B e anti join s4_event_labels_6B l using (flow_id, event_seq)) as events_unlabelled,
       (select count(*) from s3_event_stream_with_fraud_6B e join s3_flow_anchor_with_fraud_6B f using (flow_id) where e.campaign_id IS DISTINCT FROM f.campaign_id) as event_campaign_mismatch,
       (select count(*) from s4_event_labels_6B l join s4_flow_truth_labels_6B t using (flow_id) where l.is_fraud_truth <> t.is_fraud_truth) as event_label_mismatch,
       (select count(*) from (select ts_utc < lag(ts_utc) over (partition by flow_id order by event_seq) as back from events_6B) where back) as events_out_of_order,
       (select count(*) from (select flow_id, count(*) as n from events_6B group by all) e join flows_6B f using (flow_id) where e.n <> f.n_events) as flows_event_count_off;

-- step: truth
-- T2 non-LEGIT share; T3 flows without campaign labelled LEGIT; T22 flows whose label is not the
-- policy's one rule for their campaign type (none, or several, or another).
create table rules as
with l as (select from_json(getvariable('label_policy')->'truth_rules', '[{"campaign_type":"VARCHAR","label":"VARCHAR","subtype":"VARCHAR"}]') as rs)
select generate_subscripts(rs, 1)::INTEGER as rule_index, unnest(rs, recursive := true) from l;
create table labelled as
select f.flow_id, f.campaign_id, c.campaign_type, f.demand_class, f.channel_group, f.tzid, f.party_id, f.ts_utc,
       t.truth_label, t.truth_subtype, t.is_fraud_truth, b.bank_label, b.is_fraud_bank_view, f.amount_minor, f.currency
from flows_6B f left join s3_campaign_catalogue_6B c using (campaign_id)
join s4_flow_truth_labels_6B t using (flow_id) join s4_flow_bank_view_6B b using (flow_id);
create table truth as
with m as (
  select l.flow_id, l.truth_label, l.truth_subtype, count(r.rule_index) as n_rules, arg_min(r.label, r.rule_index) as want_label, arg_min(r.subtype, r.rule_index) as want_subtype
  from labelled l left join rules r on r.campaign_type IS NOT DISTINCT FROM l.campaign_type group by l.flow_id, l.truth_label, l.truth_subtype
)
select (select count(*) filter (where truth_label <> 'LEGIT') / count(*) from labelled) as non_legit,
       (select count(*) filter (where truth_label = 'LEGIT') / nullif(count(*), 0) from labelled where campaign_id IS NULL) as no_campaign_legit,
       (select count(*) from m where n_rules <> 1 or truth_label IS DISTINCT FROM want_label or truth_subtype IS DISTINCT FROM want_subtype) as collisions;

-- step: bank
-- T5 Cramer's V of bank outcome against merchant class over all flows; T6 the bank-fraud rate of
-- the top amount quintile minus the bottom one, among truth-fraud flows; T17 Cramer's V of
-- campaign against merchant class among fraud flows; T18 the median number of time zones a
-- campaign's flows fall in.
-- Cramer's V with Bergsma's (2013) bias correction, so that a few hundred flows with no association
-- read near 0 rather than the small-sample noise of the plain statistic.
create macro cramers_v(tbl) as table
with t as (select a, b, count(*)::DOUBLE as n from query_table(tbl) group by all),
ra as (select a, sum(n) as na from t group by a), rb as (select b, sum(n) as nb from t group by b),
tot as (select sum(n) as n, (select count(*) from ra)::DOUBLE as ka, (select count(*) from rb)::DOUBLE as kb from t),
cells as (select ra.a, rb.b, ra.na * rb.nb / tot.n as e, coalesce(t.n, 0) as o from ra cross join rb cross join tot left join t on t.a = ra.a and t.b = rb.b),
c as (
  select tot.*, greatest(0e0, (select sum((o - e) * (o - e) / e) from cells) / tot.n - (tot.ka - 1) * (tot.kb - 1) / (tot.n - 1)) as phi2,
         tot.ka - (tot.ka - 1) * (tot.ka - 1) / (tot.n - 1) as ka_c, tot.kb - (tot.kb - 1) * (tot.kb - 1) / (tot.n - 1) as kb_c
  from tot
)
select CASE WHEN least(ka, kb) < 2 OR least(ka_c, kb_c) <= 1 THEN 0e0 ELSE sqrt(phi2 / (least(ka_c, kb_c) - 1)) END as v from c;
create table outcome_class as select bank_label as a, demand_class as b from labelled;
create table campaign_class as select campaign_type as a, demand_class as b from labelled where campaign_id IS NOT NULL;
-- T6 within each fraud subtype (the bank-fraud rate of its top amount quintile minus its bottom
-- one), averaged over the subtypes by their flows: the amount's own effect, not the subtype mix's
-- (card testing is small and caught most, so across subtypes the cheapest frauds are caught most)
create table amount_effect as
with f as (
  select l.truth_subtype, l.is_fraud_bank_view,
         ntile(5) over (partition by l.truth_subtype order by l.amount_minor / pow(10e0, x.minor_exponent) / x.units_per_usd, l.flow_id) as q
  from labelled l join currencies_6B x using (currency) where l.is_fraud_truth
), by_subtype as (
  select truth_subtype, count(*) as n,
         avg(is_fraud_bank_view::INTEGER) filter (where q = 5) - avg(is_fraud_bank_view::INTEGER) filter (where q = 1) as effect
  from f group by all having count(*) >= 10
)
select sum(effect * n) / sum(n) as effect from by_subtype;
create table campaign_zones as
select median(nz) as median_zones from (select campaign_id, count(distinct tzid) as nz from labelled where campaign_id IS NOT NULL group by all);

-- step: cases
-- T8 the share of cases whose events are in time order; T10 the median days from opening to closing.
create table case_order as
select count(*) filter (where not back) / nullif(count(*), 0) as monotone_share,
       median(days) as median_days
from (
  select case_id, bool_or(coalesce(ts_utc < prev, false)) as back,
         date_diff('second', min(ts_utc), max(ts_utc)) / 86400e0 as days
  from (select *, lag(ts_utc) over (partition by case_id order by case_event_seq) as prev from s4_case_timeline_6B) group by case_id
);

-- step: amounts
-- T11 the fewest distinct amounts of any currency with at least 1 000 flows; T13 the largest
-- share of a currency's flows (with at least 1 000) at its single most frequent amount; T14-T16
-- authorisation latency.
create table amounts as
with per as (select currency, amount_minor, count(*) as n from flows_6B group by all),
cur as (select currency, count(*) as distinct_amounts, sum(n) as flows from per group by all)
select (select min(distinct_amounts) from cur where flows >= 1000) as min_distinct,
       (select max(top / flows) from (select currency, max(n) as top, sum(n) as flows from per group by all) where flows >= 1000) as top_share;
create table latency as
select median(s) as median_s, quantile_cont(s, 0.99) as p99_s, avg((s = 0)::INTEGER) as zero_share
from (
  select date_diff('microsecond', q.ts_utc, r.ts_utc) / 1e6 as s
  from events_6B q join events_6B r on r.flow_id = q.flow_id and r.event_seq = q.event_seq + 1
  where q.event_type = 'AUTH_REQUEST' and r.event_type = 'AUTH_RESPONSE'
);

-- step: sessions
-- T19 card-not-present arrivals per session, sessions per active party-week; T20 parties per
-- device and per IP among those the flows used; 6A's T10 every card-not-present arrival on a full
-- chain, each link as 6A published it (the account is the party's, the card the account's, the
-- device the party's, the IP one the device uses).
create table sessions as
with s as (select s.*, date_diff('week', (select min(start_utc) from s1_session_index_6B), s.start_utc) as week from s1_session_index_6B s)
select (select sum(arrival_count) / count(*) from s where channel_group = 'CNP') as cnp_per_session,
       (select count(*) / count(distinct (party_id, week)) from s) as per_party_week;
create table sharing as
select (select avg(n) from (select device_id, count(distinct party_id) as n from flows_6B where device_id IS NOT NULL group by all)) as per_device,
       (select avg(n) from (select ip_id, count(distinct party_id) as n from flows_6B where ip_id IS NOT NULL group by all)) as per_ip;
create table chains as
select count(*) filter (where a.party_id IS NOT NULL and acc.account_id IS NOT NULL and lnk.instrument_id IS NOT NULL and dl.device_id IS NOT NULL and il.ip_id IS NOT NULL) / nullif(count(*), 0) as full_share
from s1_arrival_entities_6B a
left join s2_account_base_6A acc on acc.account_id = a.account_id and acc.party_id = a.party_id
left join s3_account_instrument_links_6A lnk on lnk.account_id = a.account_id and lnk.instrument_id = a.instrument_id
left join s4_device_links_6A dl on dl.device_id = a.device_id and dl.party_id = a.party_id
left join s4_ip_links_6A il on il.device_id = a.device_id and il.ip_id = a.ip_id
where a.channel_group = 'CNP';

-- step: learnability
-- T23: a naive-Bayes model over observable features only (amount band, MCC, channel, local hour,
-- device type, IP type, IP country against the party's country, the party's flows in the 24 hours
-- before, account age band), trained on the flows of one half of the parties (a PRF split) and
-- scored on the other half: ROC AUC of is_fraud_truth, exact with ties, and each feature alone.
create table features as
with f as (
  select f.flow_id, f.party_id, f.ts_utc, f.mcc, f.channel_group, f.amount_minor / pow(10e0, x.minor_exponent) / x.units_per_usd as usd,
         hour(f.ts_local) as local_hour, coalesce(d.device_type, 'NONE') as device_type, coalesce(i.ip_type, 'NONE') as ip_type,
         CASE WHEN i.ip_id IS NULL THEN 'NONE' WHEN i.country_iso = p.country_iso THEN 'SAME' ELSE 'OTHER' END as ip_country,
         a.opened_months_ago, t.is_fraud_truth
  from flows_6B f join currencies_6B x using (currency) join s4_flow_truth_labels_6B t using (flow_id)
  join s1_party_base_6A p using (party_id) join s2_account_base_6A a using (account_id)
  left join s4_device_base_6A d on d.device_id = f.device_id left join s4_ip_base_6A i on i.ip_id = f.ip_id
)
select flow_id, is_fraud_truth, u01(mix64(getvariable('stream_key'), party_id)) < 0.5 as train,
       [{'f': 'amount', 'v': least(12, greatest(-4, floor(2 * ln(usd))))::VARCHAR}, {'f': 'mcc', 'v': mcc}, {'f': 'channel', 'v': channel_group},
        {'f': 'hour', 'v': local_hour::VARCHAR}, {'f': 'device', 'v': device_type}, {'f': 'ip', 'v': ip_type}, {'f': 'ip_country', 'v': ip_country},
        {'f': 'velocity', 'v': least(8, (count(*) over (partition by party_id order by ts_utc range between INTERVAL 24 HOURS preceding and current row) - 1))::VARCHAR},
        {'f': 'account_age', 'v': CASE WHEN opened_months_ago < 3 THEN '0-3' WHEN opened_months_ago < 6 THEN '3-6' WHEN opened_months_ago < 12 THEN '6-12' WHEN opened_months_ago < 36 THEN '12-36' ELSE '36+' END}] as fv
from f;
-- The flows of every combination of feature values, by truth: published, so that a model trained
-- on one seed scores another seed's flows (dag report --group runs states/6B/T23_cross_seed.sql).
create table s5_feature_cells_6B as
select fv[1].v as amount, fv[2].v as mcc, fv[3].v as channel, fv[4].v as hour, fv[5].v as device, fv[6].v as ip,
       fv[7].v as ip_country, fv[8].v as velocity, fv[9].v as account_age, is_fraud_truth, count(*) as flows
from features group by all;
create table feature_long as
select flow_id, is_fraud_truth, train, x.f as feature, x.v as value from (select flow_id, is_fraud_truth, train, unnest(fv) as x from features);
-- weights of evidence from the training half (Laplace-smoothed): ln P(value | fraud) - ln P(value | legit)
create table woe as
with c as (
  select feature, value, count(*) filter (where is_fraud_truth) as pos, count(*) filter (where not is_fraud_truth) as neg
  from feature_long where train group by all
), tot as (select feature, sum(pos) as p, sum(neg) as n, count(*) as k from c group by all)
select c.feature, c.value, ln((c.pos + 1) / (t.p + t.k)) - ln((c.neg + 1) / (t.n + t.k)) as w
from c join tot t using (feature);
-- a value never seen in training weighs 0
create table scored as
select l.flow_id, l.is_fraud_truth, l.feature, coalesce(w.w, 0e0) as w
from feature_long l left join woe w using (feature, value) where not l.train;
-- AUC of a score column over the held-out flows: every (fraud, legit) pair, ties count half
create macro auc_of(tbl) as table
with g as (select score, count(*) filter (where is_fraud_truth)::DOUBLE as pos, count(*) filter (where not is_fraud_truth)::DOUBLE as neg from query_table(tbl) group by score),
c as (select *, coalesce(sum(neg) over (order by score rows between unbounded preceding and 1 preceding), 0) as neg_below from g)
select (sum(pos * neg_below) + 0.5 * sum(pos * neg)) / nullif(sum(pos) * sum(neg), 0) as auc, sum(pos) as positives, sum(neg) as negatives from c;
create table model_scores as select flow_id, any_value(is_fraud_truth) as is_fraud_truth, round(sum(w), 9) as score from scored group by flow_id;
create table model_auc as from auc_of(model_scores);
create table feature_auc as
with g as (select feature, round(w, 9) as score, count(*) filter (where is_fraud_truth)::DOUBLE as pos, count(*) filter (where not is_fraud_truth)::DOUBLE as neg from scored group by all),
c as (select *, coalesce(sum(neg) over (partition by feature order by score rows between unbounded preceding and 1 preceding), 0) as neg_below from g)
select feature, (sum(pos * neg_below) + 0.5 * sum(pos * neg)) / nullif(sum(pos) * sum(neg), 0) as auc from c group by feature;

-- step: checks
create table issue_entities as
select 'T22_rule_collisions' as check_id, 'flow' as entity_type, l.flow_id as entity_id,
       'labelled ' || l.truth_label || '/' || l.truth_subtype || ' for campaign type ' || coalesce(l.campaign_type, 'none') as detail
from labelled l left join rules r on r.campaign_type IS NOT DISTINCT FROM l.campaign_type
where r.label IS DISTINCT FROM l.truth_label or r.subtype IS DISTINCT FROM l.truth_subtype
limit 100;
create table checks as
with pol as (select getvariable('validation_policy') as p), st as (from structure)
select unnest([
  invariant('overlay_flows_in_s2', (select overlay_flows_not_in_s2 from st), 0),
  invariant('overlay_flows_are_the_catalogue', (select overlay_flows_off_catalogue from st), 0),
  invariant('overlay_events_in_s2', (select overlay_events_not_in_s2 from st), 0),
  invariant('overlay_events_are_their_flows', (select overlay_events_missing from st), 0),
  invariant('flows_s2_equal_arrivals', (select flows_s2 - arrivals from st), 0),
  invariant('truth_labels_equal_flows', (select flows_truth - flows_s3 from st), 0),
  invariant('bank_view_equal_flows', (select flows_bank - flows_s3 from st), 0),
  invariant('event_labels_equal_events', (select events_labelled - events_s3 from st), 0),
  invariant('flows_unlabelled', (select flows_unlabelled from st), 0),
  invariant('events_unlabelled', (select events_unlabelled from st), 0),
  invariant('event_campaign_is_flow_campaign', (select event_campaign_mismatch from st), 0),
  invariant('event_label_is_flow_label', (select event_label_mismatch from st), 0),
  invariant('events_in_time_order', (select events_out_of_order from st), 0),
  invariant('flow_event_counts', (select flows_event_count_off from st), 0),
  realism(p, 'T2_non_legit_share', (select non_legit from truth)),
  realism(p, 'T3_no_campaign_legit_share', (select no_campaign_legit from truth)),
  realism(p, 'T5_bank_outcome_class_v', (select v from cramers_v(outcome_class))),
  realism(p, 'T6_amount_effect', (select effect from amount_effect)),
  realism(p, 'T8_case_timeline_monotone_share', (select monotone_share from case_order)),
  realism(p, 'T10_case_median_days', (select median_days from case_order)),
  realism(p, 'T11_min_distinct_amounts', (select min_distinct from amounts)),
  realism(p, 'T13_top_amount_share', (select top_share from amounts)),
  realism(p, 'T14_median_auth_latency_s', (select median_s from latency)),
  realism(p, 'T15_p99_auth_latency_s', (select p99_s from latency)),
  realism(p, 'T16_zero_latency_share', (select zero_share from latency)),
  realism(p, 'T17_campaign_class_v', (select v from cramers_v(campaign_class))),
  realism(p, 'T18_median_zones_per_campaign', (select median_zones from campaign_zones)),
  realism(p, 'T19_cnp_arrivals_per_session', (select cnp_per_session from sessions)),
  realism(p, 'T19_sessions_per_active_party_week', (select per_party_week from sessions)),
  realism(p, 'T20_parties_per_device', (select per_device from sharing)),
  realism(p, 'T20_parties_per_ip', (select per_ip from sharing)),
  realism(p, 'T22_rule_collisions', (select collisions from truth)),
  realism(p, 'T23_model_auc', (select auc from model_auc)),
  realism(p, 'T23_best_single_feature_auc', (select max(auc) from feature_auc)),
  pending_gate(p, 'T24_cross_seed_cv'),
  pending_gate(p, 'T23_cross_seed_model_auc'),
  pending_gate(p, 'T23_cross_seed_best_single_feature_auc'),
  realism_resolving(p, 'T10_6A_cnp_full_chain_share', (select full_share from chains), '6A:T10_cnp_full_chain'),
  metric('flows', (select flows_s3 from st)),
  metric('events', (select events_s3 from st)),
  metric('events_per_flow', (select events_s3 / flows_s3 from st)),
  metric('cases', (select count(distinct case_id) from s4_case_timeline_6B)),
  metric('case_share_of_flows', (select count(*) filter (where case_id IS NOT NULL) / count(*) from s4_flow_bank_view_6B)),
  metric('bank_fraud_share', (select avg(is_fraud_bank_view::INTEGER) from labelled)),
  metric('campaign_shortfall_flows', (select sum(shortfall_flows) from s3_campaign_catalogue_6B)),
  metric('T23_test_positives', (select positives from model_auc)),
  metric('T23_test_negatives', (select negatives from model_auc)),
  metric('T23_auc_amount', (select auc from feature_auc where feature = 'amount')),
  metric('T23_auc_mcc', (select auc from feature_auc where feature = 'mcc')),
  metric('T23_auc_channel', (select auc from feature_auc where feature = 'channel')),
  metric('T23_auc_hour', (select auc from feature_auc where feature = 'hour')),
  metric('T23_auc_device', (select auc from feature_auc where feature = 'device')),
  metric('T23_auc_ip', (select auc from feature_auc where feature = 'ip')),
  metric('T23_auc_ip_country', (select auc from feature_auc where feature = 'ip_country')),
  metric('T23_auc_velocity', (select auc from feature_auc where feature = 'velocity')),
  metric('T23_auc_account_age', (select auc from feature_auc where feature = 'account_age'))
], recursive := true)
from pol;

-- step: report
create table validation_report_6B as from validation_report('6B', 'checks', policy := getvariable('validation_policy'));
create table validation_issue_table_6B as from validation_issues('checks', 'issue_entities');
create table gate_verdict as from gate_verdict_of('checks');
