-- step: truth
-- PRF lanes (states/_lib/lanes.md): a flow's key and a case's behind lanes of their own (a case's id
-- is its first flow's id: without them a case's stage draws were that flow's bank draws).
create macro lane(name) as key_of('6B.S4/' || name);
-- Ordered rules on the flow's campaign type (null: no campaign); a flow takes its first matching
-- rule. A flow matching no rule stops the state (two rules for one type are refused earlier, by
-- the policy's contract).
create macro lpd(path) as (getvariable('label_policy')->>path)::DOUBLE;
create table rules as
with l as (select from_json(getvariable('label_policy')->'truth_rules', '[{"campaign_type":"VARCHAR","label":"VARCHAR","subtype":"VARCHAR"}]') as rs)
select generate_subscripts(rs, 1)::INTEGER as rule_index, unnest(rs, recursive := true) from l;
-- A flow's campaign type: the overlay's flows (6B.S3) have one, every other flow (6B.S2's) none;
-- the overlay's amount and card are the flow's. The rule of each campaign type is found once.
create view flow_type as
select f.flow_id, coalesce(o.instrument_id, f.instrument_id) as instrument_id, f.ts_utc, f.demand_class,
       coalesce(o.amount_minor, f.amount_minor) as amount_minor, f.currency, c.campaign_type
from s2_flow_anchor_baseline_6B f left join s3_flow_anchor_with_fraud_6B o using (flow_id)
left join s3_campaign_catalogue_6B c on c.campaign_id = o.campaign_id;
create table type_rule as
with t as (select campaign_type from s3_campaign_catalogue_6B union select NULL::VARCHAR)
select t.campaign_type, min(r.rule_index) as rule_index from t left join rules r on r.campaign_type IS NOT DISTINCT FROM t.campaign_type group by all;
create view flow_truth as
select f.*, r.label as truth_label, r.subtype as truth_subtype, r.label <> 'LEGIT' as is_fraud_truth,
       CASE WHEN k.rule_index IS NULL THEN error('6B.S4: flow ' || f.flow_id || ' matches no truth rule (config/6B/label_policy.yaml)') ELSE k.rule_index END as rule_index
from flow_type f left join type_rule k on k.campaign_type IS NOT DISTINCT FROM f.campaign_type left join rules r on r.rule_index = k.rule_index;
create view s4_flow_truth_labels_6B as select flow_id, truth_label, truth_subtype, is_fraud_truth, rule_index from flow_truth;

-- step: bank_view
-- Detection: log-odds of the subtype's rate, plus amount_slope x ln(amount in dollars / 50), plus
-- the merchant class's shift; LEGIT flows are false positives by the same law. An undetected flow
-- is disputed, a dispute goes to chargeback and is written off, with the truth label's rates.
create macro logit(p) as pln(p / (1e0 - p));
-- (the policy's values per label, subtype and class are read once into small tables: a path
-- built per row would cost a JSON parse a row)
create table label_rates as
select label as truth_label, subtype as truth_subtype, logit(lpd('$.detection.by_subtype.' || subtype)) as base_logit,
       lpd('$.dispute.' || label) as dispute, lpd('$.chargeback.' || label) as chargeback, lpd('$.written_off.' || label) as written_off
from (select distinct label, subtype from rules);
create table class_shift as
select demand_class, coalesce(lpd('$.detection.class_shift.' || demand_class), 0e0) as shift from (select distinct demand_class from s2_flow_anchor_baseline_6B);
create view scored as
select f.flow_id, f.instrument_id, f.ts_utc, f.truth_label, f.truth_subtype, f.is_fraud_truth,
       f.amount_minor / pow(10e0, x.minor_exponent) / x.units_per_usd as amount_usd,
       prf2(getvariable('stream_key'), lane('flow'), f.flow_id) as bk,
       r.base_logit + lpd('$.detection.amount_slope') * pln(greatest(f.amount_minor / pow(10e0, x.minor_exponent) / x.units_per_usd, 0.01) / 50e0) + k.shift as detect_logit,
       r.dispute, r.chargeback, r.written_off
from flow_truth f join currencies_6B x using (currency)
left join label_rates r using (truth_label, truth_subtype) left join class_shift k on k.demand_class IS NOT DISTINCT FROM f.demand_class;
create view decided as
select * exclude (dispute, chargeback, written_off), u01(mix64(bk, 1)) < 1e0 / (1e0 + pexp(-detect_logit)) as detected,
       u01(mix64(bk, 2)) < dispute as dispute_draw,
       u01(mix64(bk, 3)) < chargeback as chargeback_draw,
       u01(mix64(bk, 4)) < written_off as written_off_draw
from scored;
-- (held narrow: what the cases and the published views read)
create table bank as
select flow_id, instrument_id, ts_utc, is_fraud_truth, bk, detected, not detected and dispute_draw as disputed, not detected and dispute_draw and chargeback_draw as chargeback,
       not detected and dispute_draw and chargeback_draw and written_off_draw as written_off
from decided;

-- step: cases
-- A flow with an alert opens its case after the review delay, a disputed flow after the dispute
-- delay; cases group one instrument's flows whose triggers fall in one window of case_window_days.
-- A case's events follow one another by lognormal stage delays (in order by construction).
create macro delay_us(stage, u) as round(lpd('$.delays.' || stage || '.median') * pexp(lpd('$.delays.' || stage || '.sigma') * norm_inv(u)) * 1e6)::BIGINT;
create table triggers as
select flow_id, instrument_id, detected, disputed, chargeback, written_off,
       ts_utc + to_microseconds(CASE WHEN detected THEN delay_us('detect', u01(mix64(bk, 5))) ELSE delay_us('dispute', u01(mix64(bk, 6))) END) as t_trigger
from bank where detected or disputed;
create table case_members as
select *, min(flow_id) over (partition by instrument_id, epoch_us(t_trigger) // (lpd('$.case_window_days')::BIGINT * 86400000000)) as case_id from triggers;
create table cases as
select case_id, any_value(instrument_id) as instrument_id, count(*)::INTEGER as n_flows, min(t_trigger) as t_open,
       bool_or(detected) as any_alert, bool_or(disputed) as any_dispute, bool_or(chargeback) as any_chargeback,
       prf2(getvariable('stream_key'), lane('case'), case_id) as ck
from case_members group by case_id;
create table case_steps as
select c.*, s.k, s.event_type, s.stage,
       CASE s.k WHEN 0 THEN true WHEN 1 THEN c.any_alert WHEN 2 THEN c.any_dispute WHEN 3 THEN c.any_chargeback WHEN 4 THEN c.any_chargeback ELSE true END as present
from cases c, (values (0, 'CASE_OPENED', NULL), (1, 'FRAUD_ALERT_REVIEWED', 'detect'), (2, 'DISPUTE_OPENED', NULL),
                      (3, 'CHARGEBACK_FILED', 'chargeback'), (4, 'CHARGEBACK_DECIDED', 'decision'), (5, 'CASE_CLOSED', 'close')) s(k, event_type, stage);
create table s4_case_timeline_6B as
with p as (
  select *, CASE WHEN stage IS NULL THEN 0 ELSE delay_us(stage, u01(mix64(ck, k))) END as d from case_steps where present
)
select case_id, (row_number() over (partition by case_id order by k) - 1)::INTEGER as case_event_seq, event_type as case_event_type,
       t_open + to_microseconds((sum(d) over (partition by case_id order by k rows between unbounded preceding and current row))::BIGINT) as ts_utc,
       instrument_id, n_flows
from p;
create view s4_flow_bank_view_6B as
select b.flow_id, b.detected, b.disputed, b.chargeback,
       CASE WHEN b.detected AND b.is_fraud_truth THEN 'BANK_CONFIRMED_FRAUD'
            WHEN b.detected THEN 'BANK_CONFIRMED_LEGIT'
            WHEN b.written_off THEN 'CHARGEBACK_WRITTEN_OFF'
            WHEN b.disputed THEN 'CUSTOMER_DISPUTE_REJECTED'
            ELSE 'NO_CASE_OPENED' END as bank_label,
       (b.detected AND b.is_fraud_truth) OR (NOT b.detected AND b.written_off) as is_fraud_bank_view,
       m.case_id
from bank b left join case_members m using (flow_id);

-- step: events
-- Event labels are the flow labels joined (one source): every event of 6B.S2 (the overlay keeps
-- S2's event keys), its flow's labels from the flows either view calls fraud, else false.
create table flagged as
select flow_id, is_fraud_truth, (detected AND is_fraud_truth) OR (NOT detected AND written_off) as is_fraud_bank_view
from bank where is_fraud_truth or written_off or detected;
create view s4_event_labels_6B as
select e.flow_id, e.event_seq, coalesce(g.is_fraud_truth, false) as is_fraud_truth, coalesce(g.is_fraud_bank_view, false) as is_fraud_bank_view
from s2_event_stream_baseline_6B e left join flagged g using (flow_id);
