-- step: sealed
create table sealed_check as from assert_sealed('sealed_inputs_6B');

-- step: structure
-- 6B's world with fraud: S2's flows and events with S3's overlay in place of S2's rows of the
-- same keys (the overlay carries the campaign; every other flow has none). The overlay changes
-- amounts, entities and campaigns, never a flow's or an event's key or time, so the passes over
-- events in time and key order below read S2's published events.
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
-- One streaming pass compares each event with the one before it in the published order (the
-- manifest's order_by: flow_id, event_seq). Where that order holds (order_breaks 0) a flow's events
-- are contiguous and in sequence: the event before is the flow's previous one, and an AUTH_RESPONSE
-- right after its flow's AUTH_REQUEST one sequence number earlier is that request's response.
create table event_order as
select count(*) filter (where prev_flow IS NOT NULL and (flow_id < prev_flow or (flow_id = prev_flow and event_seq <= prev_seq))) as order_breaks,
       count(*) filter (where flow_id = prev_flow and ts_utc < prev_ts) as out_of_order,
       -- one quantile state for the median and the 99th percentile (it holds every latency)
       quantile_cont(s, [0.5, 0.99]) filter (where pair) as latency_q, avg((s = 0)::INTEGER) filter (where pair) as zero_share
from (
  select flow_id, event_seq, ts_utc, prev_flow, prev_seq, prev_ts, pair,
         CASE WHEN pair THEN date_diff('microsecond', prev_ts, ts_utc) / 1e6 END as s
  from (select *, flow_id = prev_flow and event_seq = prev_seq + 1 and prev_type = 'AUTH_REQUEST' and event_type = 'AUTH_RESPONSE' as pair from (
    select flow_id, event_seq, event_type, ts_utc, lag(flow_id) over () as prev_flow, lag(event_seq) over () as prev_seq,
           lag(event_type) over () as prev_type, lag(ts_utc) over () as prev_ts
    from s2_event_stream_baseline_6B
  ))
);
-- Labels against what they label, position by position (both are published in key order): where
-- every position holds the same key, nothing is unlabelled.
create table label_alignment as
select (select count(*) filter (where f.flow_id IS DISTINCT FROM t.flow_id)
        from (select flow_id from s2_flow_anchor_baseline_6B) f positional join (select flow_id from s4_flow_truth_labels_6B) t) as flows_misaligned,
       (select count(*) filter (where e.flow_id IS DISTINCT FROM l.flow_id or e.event_seq IS DISTINCT FROM l.event_seq)
        from (select flow_id, event_seq from s2_event_stream_baseline_6B) e positional join (select flow_id, event_seq from s4_event_labels_6B) l) as events_misaligned;
-- Where an order or an alignment does not hold, the exact joins and windows below measure instead:
-- their inputs are semi-joined with this table, so they read nothing while everything holds.
create table fallback as
select 'events' as k from event_order where order_breaks > 0
union all select 'flow_labels' from label_alignment where flows_misaligned > 0
union all select 'event_labels' from label_alignment where events_misaligned > 0;
create view events_unordered as
select e.* exclude (k) from (select *, 'events' as k from events_6B) e semi join fallback using (k);
-- each flow's events counted once, against its n_events (S2's: the overlay keeps a flow's events);
-- an overlay event's campaign against its overlay flow's
create table flow_events as
select (select count(*) filter (where e.n <> f.n_events)
        from (select flow_id, count(*) as n from s2_event_stream_baseline_6B group by flow_id) e join s2_flow_anchor_baseline_6B f using (flow_id)) as count_off,
       (select count(*) from s3_event_stream_with_fraud_6B e left join s3_flow_anchor_with_fraud_6B f using (flow_id) where e.campaign_id IS DISTINCT FROM f.campaign_id) as campaign_mismatch;
create table structure as
with o as (from event_order), a as (from label_alignment)
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
       CASE WHEN (select flows_misaligned from a) = 0 THEN 0 ELSE
         (select count(*) from (select *, 'flow_labels' as k from flows_6B) f semi join fallback using (k) anti join s4_flow_truth_labels_6B t using (flow_id)) END as flows_unlabelled,
       CASE WHEN (select events_misaligned from a) = 0 THEN 0 ELSE
         (select count(*) from (select *, 'event_labels' as k from events_6B) e semi join fallback using (k) anti join s4_event_labels_6B l using (flow_id, event_seq)) END as events_unlabelled,
       (select campaign_mismatch from flow_events) as event_campaign_mismatch,
       (select count(*) from s4_event_labels_6B l join s4_flow_truth_labels_6B t using (flow_id) where l.is_fraud_truth <> t.is_fraud_truth) as event_label_mismatch,
       CASE WHEN (select order_breaks = 0 from o) THEN (select out_of_order from o) ELSE
         (select count(*) from (select ts_utc < lag(ts_utc) over (partition by flow_id order by event_seq) as back from events_unordered) where back) END as events_out_of_order,
       (select count_off from flow_events) as flows_event_count_off;

-- step: truth
-- T2 non-LEGIT share; T3 flows without campaign labelled LEGIT; T22 flows whose label is not the
-- policy's one rule for their campaign type (none, or several, or another).
create table rules as
with l as (select from_json(getvariable('label_policy')->'truth_rules', '[{"campaign_type":"VARCHAR","label":"VARCHAR","subtype":"VARCHAR"}]') as rs)
select generate_subscripts(rs, 1)::INTEGER as rule_index, unnest(rs, recursive := true) from l;
-- only the columns the gates below read
create table labelled as
select f.flow_id, f.campaign_id, c.campaign_type, f.demand_class, f.tzid, f.amount_minor, f.currency,
       t.truth_label, t.truth_subtype, t.is_fraud_truth, b.bank_label, b.is_fraud_bank_view
from flows_6B f left join s3_campaign_catalogue_6B c using (campaign_id)
join s4_flow_truth_labels_6B t using (flow_id) join s4_flow_bank_view_6B b using (flow_id);
-- a flow's rule depends only on its campaign type: resolve the rules per type, count flows per
-- (type, label) once
create table type_rule as
select campaign_type, count(*) as n_rules, arg_min(label, rule_index) as want_label, arg_min(subtype, rule_index) as want_subtype
from rules group by campaign_type;
create table truth as
with by_type as (select campaign_type, truth_label, truth_subtype, count(*) as flows from labelled group by all)
select (select count(*) filter (where truth_label <> 'LEGIT') / count(*) from labelled) as non_legit,
       (select count(*) filter (where truth_label = 'LEGIT') / nullif(count(*), 0) from labelled where campaign_id IS NULL) as no_campaign_legit,
       (select coalesce(sum(l.flows), 0)::BIGINT from by_type l left join type_rule r on r.campaign_type IS NOT DISTINCT FROM l.campaign_type
        where coalesce(r.n_rules, 0) <> 1 or l.truth_label IS DISTINCT FROM r.want_label or l.truth_subtype IS DISTINCT FROM r.want_subtype) as collisions;

-- step: bank
-- T5 Cramer's V of bank outcome against merchant class over all flows; T6 the bank-fraud rate of
-- the top amount quintile minus the bottom one, among truth-fraud flows; T17 Cramer's V of
-- campaign against merchant class among fraud flows; T18 the median number of time zones a
-- campaign's flows fall in.
-- Cramer's V with Bergsma's (2013) bias correction, so that a few hundred flows with no association
-- read near 0 rather than the small-sample noise of the plain statistic.
-- tbl holds the flows n of each pair (a, b); the chi-square terms are added in (a, b) order, so
-- the value does not depend on the threads
create macro cramers_v(tbl) as table
with t as (select a, b, sum(n)::DOUBLE as n from query_table(tbl) group by all),
ra as (select a, sum(n) as na from t group by a), rb as (select b, sum(n) as nb from t group by b),
tot as (select sum(n) as n, (select count(*) from ra)::DOUBLE as ka, (select count(*) from rb)::DOUBLE as kb from t),
cells as (select ra.a, rb.b, ra.na * rb.nb / tot.n as e, coalesce(t.n, 0) as o from ra cross join rb cross join tot left join t on t.a = ra.a and t.b = rb.b),
c as (
  select tot.*, greatest(0e0, (select list_sum(list((o - e) * (o - e) / e order by a, b)) from cells) / tot.n - (tot.ka - 1) * (tot.kb - 1) / (tot.n - 1)) as phi2,
         tot.ka - (tot.ka - 1) * (tot.ka - 1) / (tot.n - 1) as ka_c, tot.kb - (tot.kb - 1) * (tot.kb - 1) / (tot.n - 1) as kb_c
  from tot
)
select CASE WHEN least(ka, kb) < 2 OR least(ka_c, kb_c) <= 1 THEN 0e0 ELSE sqrt(phi2 / (least(ka_c, kb_c) - 1)) END as v from c;
create table outcome_class as select bank_label as a, demand_class as b, count(*) as n from labelled group by all;
create table campaign_class as select campaign_type as a, demand_class as b, count(*) as n from labelled where campaign_id IS NOT NULL group by all;
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
cur as (select currency, count(*) as distinct_amounts, max(n) as top, sum(n) as flows from per group by all)
select min(distinct_amounts) filter (where flows >= 1000) as min_distinct, max(top / flows) filter (where flows >= 1000) as top_share from cur;
-- the latencies are the structure step's pass over the events (event_order); the self-join reads
-- events only where the published order does not hold
create table latency as
with unordered as (
  select median(s) as median_s, quantile_cont(s, 0.99) as p99_s, avg((s = 0)::INTEGER) as zero_share
  from (
    select date_diff('microsecond', q.ts_utc, r.ts_utc) / 1e6 as s
    from events_unordered q join events_unordered r on r.flow_id = q.flow_id and r.event_seq = q.event_seq + 1
    where q.event_type = 'AUTH_REQUEST' and r.event_type = 'AUTH_RESPONSE'
  )
)
select CASE WHEN o.order_breaks = 0 THEN o.latency_q[1] ELSE u.median_s END as median_s, CASE WHEN o.order_breaks = 0 THEN o.latency_q[2] ELSE u.p99_s END as p99_s,
       CASE WHEN o.order_breaks = 0 THEN o.zero_share ELSE u.zero_share END as zero_share
from event_order o, unordered u;

-- step: sessions
-- T19 card-not-present arrivals per session, sessions per active party-week; T20 parties per
-- device and per IP among those the flows used; 6A's T10 every card-not-present arrival on a full
-- chain, each link as 6A published it (the account is the party's, the card the account's, the
-- device the party's, the IP one the device uses).
create table sessions as
with s as (select s.*, date_diff('week', (select min(start_utc) from s1_session_index_6B), s.start_utc) as week from s1_session_index_6B s)
select (select sum(arrival_count) / count(*) from s where channel_group = 'CNP') as cnp_per_session,
       (select count(*) / count(distinct (party_id, week)) from s) as per_party_week;
-- distinct (device, party) pairs first: a group by over two ids, then a count per device
create table sharing as
select (select avg(n) from (select device_id, count(party_id) as n from (select distinct device_id, party_id from flows_6B where device_id IS NOT NULL) group by all)) as per_device,
       (select avg(n) from (select ip_id, count(party_id) as n from (select distinct ip_id, party_id from flows_6B where ip_id IS NOT NULL) group by all)) as per_ip;
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
-- Every flow of a cell (one combination of feature values, truth and half) has the same score, so
-- the model is trained and scored on the cells, never on a row per flow and feature.
-- velocity on a narrow projection (the window's sort carries only the flow id), over the flows
-- the model sees: those with a currency, a party, an account and a truth label (every flow has
-- one where the labels align with the flows, label_alignment)
create table velocity as
select flow_id, least(8, count(*) over (partition by party_id order by ts_utc range between INTERVAL 24 HOURS preceding and current row) - 1)::UTINYINT as velocity
from (
  select f.flow_id, f.party_id, f.ts_utc
  from flows_6B f semi join currencies_6B using (currency) semi join s1_party_base_6A using (party_id) semi join s2_account_base_6A using (account_id)
  where (select flows_misaligned = 0 from label_alignment) or f.flow_id in (select flow_id from (select *, 'flow_labels' as k from s4_flow_truth_labels_6B) t semi join fallback using (k))
);
create table train_cells as
with f as (
  select f.party_id, f.mcc, f.channel_group, f.amount_minor / pow(10e0, x.minor_exponent) / x.units_per_usd as usd,
         hour(f.ts_local) as local_hour, coalesce(d.device_type, 'NONE') as device_type, coalesce(i.ip_type, 'NONE') as ip_type,
         CASE WHEN i.ip_id IS NULL THEN 'NONE' WHEN i.country_iso = p.country_iso THEN 'SAME' ELSE 'OTHER' END as ip_country,
         a.opened_months_ago, t.is_fraud_truth, v.velocity
  from flows_6B f join currencies_6B x using (currency) join s4_flow_truth_labels_6B t using (flow_id)
  join velocity v using (flow_id) join s1_party_base_6A p using (party_id) join s2_account_base_6A a using (account_id)
  left join s4_device_base_6A d on d.device_id = f.device_id left join s4_ip_base_6A i on i.ip_id = f.ip_id
)
select least(12, greatest(-4, floor(2 * ln(usd))))::VARCHAR as amount, mcc, channel_group as channel, local_hour::VARCHAR as hour,
       device_type as device, ip_type as ip, ip_country, velocity::VARCHAR as velocity,
       CASE WHEN opened_months_ago < 3 THEN '0-3' WHEN opened_months_ago < 6 THEN '3-6' WHEN opened_months_ago < 12 THEN '6-12' WHEN opened_months_ago < 36 THEN '12-36' ELSE '36+' END as account_age,
       is_fraud_truth, u01(mix64(getvariable('stream_key'), party_id)) < 0.5 as train, count(*) as flows
from f group by all;
-- The flows of every combination of feature values, by truth: published, so that a model trained
-- on one seed scores another seed's flows (dag report --group runs states/6B/T23_cross_seed.sql).
create table s5_feature_cells_6B as
select * exclude (train, flows), sum(flows)::BIGINT as flows from train_cells group by all;
-- the flows of each value of each feature, by truth, in one grouping-sets pass over the cells
create macro feature_values(cells) as table
select CASE WHEN grouping(amount) = 0 THEN 'amount' WHEN grouping(mcc) = 0 THEN 'mcc' WHEN grouping(channel) = 0 THEN 'channel'
            WHEN grouping(hour) = 0 THEN 'hour' WHEN grouping(device) = 0 THEN 'device' WHEN grouping(ip) = 0 THEN 'ip'
            WHEN grouping(ip_country) = 0 THEN 'ip_country' WHEN grouping(velocity) = 0 THEN 'velocity' ELSE 'account_age' END as feature,
       CASE WHEN grouping(amount) = 0 THEN amount WHEN grouping(mcc) = 0 THEN mcc WHEN grouping(channel) = 0 THEN channel
            WHEN grouping(hour) = 0 THEN hour WHEN grouping(device) = 0 THEN device WHEN grouping(ip) = 0 THEN ip
            WHEN grouping(ip_country) = 0 THEN ip_country WHEN grouping(velocity) = 0 THEN velocity ELSE account_age END as value,
       coalesce(sum(flows) filter (where is_fraud_truth), 0)::BIGINT as pos, coalesce(sum(flows) filter (where not is_fraud_truth), 0)::BIGINT as neg
from query_table(cells)
group by grouping sets ((amount), (mcc), (channel), (hour), (device), (ip), (ip_country), (velocity), (account_age));
create table train_half as from train_cells where train;
create table test_half as from train_cells where not train;
-- weights of evidence from the training half (Laplace-smoothed): ln P(value | fraud) - ln P(value | legit)
create table woe as
with c as (from feature_values(train_half)), tot as (select feature, sum(pos) as p, sum(neg) as n, count(*) as k from c group by all)
select c.feature, c.value, ln((c.pos + 1) / (t.p + t.k)) - ln((c.neg + 1) / (t.n + t.k)) as w
from c join tot t using (feature);
-- the score of a held-out cell: its values' weights added in the features' order (a value never
-- seen in training weighs 0); each feature alone: its value's weight
create table scores as
select '*' as feature,
       round(coalesce(w1.w, 0e0) + coalesce(w2.w, 0e0) + coalesce(w3.w, 0e0) + coalesce(w4.w, 0e0) + coalesce(w5.w, 0e0)
             + coalesce(w6.w, 0e0) + coalesce(w7.w, 0e0) + coalesce(w8.w, 0e0) + coalesce(w9.w, 0e0), 9) as score,
       CASE WHEN c.is_fraud_truth THEN c.flows ELSE 0 END as pos, CASE WHEN NOT c.is_fraud_truth THEN c.flows ELSE 0 END as neg
from test_half c
left join woe w1 on w1.feature = 'amount' and w1.value = c.amount
left join woe w2 on w2.feature = 'mcc' and w2.value = c.mcc
left join woe w3 on w3.feature = 'channel' and w3.value = c.channel
left join woe w4 on w4.feature = 'hour' and w4.value = c.hour
left join woe w5 on w5.feature = 'device' and w5.value = c.device
left join woe w6 on w6.feature = 'ip' and w6.value = c.ip
left join woe w7 on w7.feature = 'ip_country' and w7.value = c.ip_country
left join woe w8 on w8.feature = 'velocity' and w8.value = c.velocity
left join woe w9 on w9.feature = 'account_age' and w9.value = c.account_age
union all
select v.feature, round(coalesce(w.w, 0e0), 9), v.pos, v.neg from feature_values(test_half) v left join woe w using (feature, value);
-- AUC of each score over the held-out flows: every (fraud, legit) pair, ties count half (counts
-- of flows are whole numbers, so every sum below is exact whatever its order)
create table auc as
with g as (select feature, score, sum(pos)::DOUBLE as pos, sum(neg)::DOUBLE as neg from scores group by all),
c as (select *, coalesce(sum(neg) over (partition by feature order by score rows between unbounded preceding and 1 preceding), 0) as neg_below from g)
select feature, (sum(pos * neg_below) + 0.5 * sum(pos * neg)) / nullif(sum(pos) * sum(neg), 0) as auc, sum(pos) as positives, sum(neg) as negatives
from c group by feature;
create table model_auc as select auc, positives, negatives from auc where feature = '*';
create table feature_auc as select feature, auc from auc where feature <> '*';

-- step: checks
create table issue_entities as
select 'T22_rule_collisions' as check_id, 'flow' as entity_type, l.flow_id as entity_id,
       'labelled ' || l.truth_label || '/' || l.truth_subtype || ' for campaign type ' || coalesce(l.campaign_type, 'none') as detail
from labelled l left join rules r on r.campaign_type IS NOT DISTINCT FROM l.campaign_type
where r.label IS DISTINCT FROM l.truth_label or r.subtype IS DISTINCT FROM l.truth_subtype
order by entity_id, detail limit 100;
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
