-- step: amounts
-- A flow's amount: a price point (a charm price: the point times the currency's price unit, less
-- one minor unit) with the class's point_share, else lognormal(median, sigma) dollars, clipped,
-- converted at the currency's rate and rounded to its minor unit. The currency is the merchant's
-- country's (1A); a currency missing from the reference is an error.
-- the currency reference, typed (6B.S3-S5 read it from here)
create table currencies_6B as
select currency::VARCHAR as currency, minor_exponent::INTEGER as minor_exponent, units_per_usd::DOUBLE as units_per_usd from currencies_csv;
create macro fp(path) as getvariable('flow_policy')->>path;
create macro fpd(path) as (getvariable('flow_policy')->>path)::DOUBLE;
-- a lognormal delay (seconds) of policy entry d from uniform u, within [min, cap]
create macro delay_s(d, u) as least(coalesce(fpd('$.' || d || '.cap'), 1e12), greatest(coalesce(fpd('$.' || d || '.min'), 0e0),
  fpd('$.' || d || '.median') * pexp(fpd('$.' || d || '.sigma') * norm_inv(u))));
-- (a policy value looked up by a path built per row costs a JSON parse a row: the class's values
-- are read once a merchant here, the others by constant paths)
create table merchant_money as
select m.merchant_id, m.mcc::VARCHAR as mcc, m.demand_class, k.currency, x.minor_exponent, x.units_per_usd,
       pow(10e0, round(log10(x.units_per_usd))) as price_unit,
       fpd('$.amounts.' || m.demand_class || '.point_share') as point_share, fpd('$.amounts.' || m.demand_class || '.median') as class_median,
       fpd('$.amounts.' || m.demand_class || '.sigma') as class_sigma, fpd('$.refund_rate.' || m.demand_class) as refund_rate,
       CASE WHEN x.currency IS NULL THEN error('6B.S2: currency ' || k.currency || ' of country ' || m.legal_country_iso || ' is not in config/reference/currencies.csv') END as guard
from merchants_1A m join countries_1A k on k.country_iso = m.legal_country_iso
left join currencies_6B x using (currency);
create table points as select unnest((fp('$.price_points'))::DOUBLE[]) as point, generate_subscripts((fp('$.price_points'))::DOUBLE[], 1) - 1 as idx;
create view flows0 as
select e.*, m.mcc, m.demand_class, m.currency, m.minor_exponent, m.units_per_usd, m.price_unit, m.point_share, m.class_median, m.class_sigma, m.refund_rate, i.instrument_type,
       mix64(getvariable('stream_key'), e.flow_id) as fk
from s1_arrival_entities_6B e join merchant_money m using (merchant_id) join s3_instrument_base_6A i using (instrument_id);
create view flows1 as
with u as (
  select f.*, u01(mix64(fk, 1)) < point_share as at_point,
         floor(u01(mix64(fk, 2)) * (select count(*) from points))::BIGINT as point_idx,
         least(fpd('$.max_amount_usd'), greatest(fpd('$.min_amount_usd'), class_median * pexp(class_sigma * norm_inv(u01(mix64(fk, 3)))))) as usd
  from flows0 f
)
select u.* exclude (point_idx, point_share, class_median, class_sigma),
       greatest(1, CASE WHEN at_point THEN round(p.point * price_unit * pow(10e0, minor_exponent)) - CASE WHEN minor_exponent >= 2 THEN 1 ELSE 0 END
                        ELSE round(usd * units_per_usd * pow(10e0, minor_exponent)) END)::BIGINT as amount_minor
from u join points p on p.idx = u.point_idx;

-- step: events
-- AUTH_REQUEST at the arrival, AUTH_RESPONSE after a lognormal latency, DECLINED with the
-- channel's probability; a declined flow is retried with retry_probability (a second pair after a
-- delay, approved with retry_approval_probability); an approved flow is cleared when its card's
-- network is dual-message (clearing_share) and refunded with its class's refund rate.
-- (a delay is drawn only for the flows whose events use it: the same value where it is used)
create view outcome as
select f.*,
       f.ts_utc + to_microseconds(round(delay_s('latency', u01(mix64(f.fk, 10))) * 1e6)::BIGINT) as t_resp1,
       u01(mix64(f.fk, 11)) < CASE f.channel_group WHEN 'CP' THEN fpd('$.decline_probability.CP') ELSE fpd('$.decline_probability.CNP') END as declined1,
       u01(mix64(f.fk, 12)) < fpd('$.retry_probability') as retry_draw,
       u01(mix64(f.fk, 15)) < fpd('$.retry_approval_probability') as retry_ok,
       u01(mix64(f.fk, 16)) < CASE f.instrument_type WHEN 'CREDIT_CARD' THEN fpd('$.clearing_share.CREDIT_CARD') WHEN 'DEBIT_CARD' THEN fpd('$.clearing_share.DEBIT_CARD')
                                   WHEN 'VIRTUAL_CARD' THEN fpd('$.clearing_share.VIRTUAL_CARD') END as clears,
       u01(mix64(f.fk, 18)) < f.refund_rate as refunds
from flows1 f;
create view outcome2 as
select *, declined1 and retry_draw as retried, (not declined1) or (declined1 and retry_draw and retry_ok) as approved from outcome;
-- one narrow row a flow: the flow's columns and what its events need, nothing drawn twice
create table outcome3 as
with o as (
  select *, CASE WHEN retried THEN delay_s('retry_delay', u01(mix64(fk, 13))) END as retry_s,
         CASE WHEN retried THEN delay_s('latency', u01(mix64(fk, 14))) END as latency2_s,
         CASE WHEN approved and clears THEN delay_s('clearing_delay', u01(mix64(fk, 17))) END as clearing_s,
         CASE WHEN approved and refunds THEN delay_s('refund_delay', u01(mix64(fk, 19))) END as refund_s
  from outcome2
), t as (
  select *, t_resp1 + to_microseconds(round(retry_s * 1e6)::BIGINT) as t_req2,
         t_resp1 + to_microseconds(round((retry_s + latency2_s) * 1e6)::BIGINT) as t_resp2
  from o
)
select flow_id, merchant_id, arrival_seq, session_id, ts_utc, ts_local, tzid, channel_group, mcc, demand_class,
       party_id, account_id, instrument_id, device_id, ip_id, site_id, edge_id, currency, amount_minor, minor_exponent::TINYINT as minor_exponent,
       declined1, retried, retry_ok, approved, clears, refunds, t_resp1, t_req2, t_resp2,
       CASE WHEN approved and clears THEN (CASE WHEN retried THEN t_resp2 ELSE t_resp1 END) + to_microseconds(round(clearing_s * 1e6)::BIGINT) END as t_clearing,
       CASE WHEN approved and refunds THEN (CASE WHEN retried THEN t_resp2 ELSE t_resp1 END) + to_microseconds(round(((CASE WHEN clears THEN clearing_s ELSE 0 END) + refund_s) * 1e6)::BIGINT) END as t_refund
from t;
-- event_seq by arithmetic (request and response 0, 1; a retry's pair 2, 3; then clearing, then
-- refund), so no window over the events is needed; a view (its rows are made as they are written,
-- never held beside the flows)
create view s2_event_stream_baseline_6B as
with o as (select *, CASE WHEN retried THEN 4 ELSE 2 END as after_auth, CASE WHEN t_clearing IS NOT NULL THEN 1 ELSE 0 END as cleared from outcome3)
select flow_id, 0::INTEGER as event_seq, 'AUTH_REQUEST' as event_type, ts_utc, amount_minor, NULL::VARCHAR as auth_result from o
union all select flow_id, 1, 'AUTH_RESPONSE', t_resp1, amount_minor, CASE WHEN declined1 THEN 'DECLINED' ELSE 'APPROVED' END from o
union all select flow_id, 2, 'AUTH_REQUEST', t_req2, amount_minor, NULL from o where retried
union all select flow_id, 3, 'AUTH_RESPONSE', t_resp2, amount_minor, CASE WHEN retry_ok THEN 'APPROVED' ELSE 'DECLINED' END from o where retried
union all select flow_id, after_auth, 'CLEARING', t_clearing, amount_minor, NULL from o where t_clearing IS NOT NULL
union all select flow_id, after_auth + cleared, 'REFUND', t_refund, amount_minor, NULL from o where t_refund IS NOT NULL;
-- (a view: each flow's row is read from its outcome, no join of the flows back)
create view s2_flow_anchor_baseline_6B as
select o.flow_id, o.merchant_id, o.arrival_seq, o.session_id, o.ts_utc, o.ts_local, o.tzid, o.channel_group, o.mcc, o.demand_class,
       o.party_id, o.account_id, o.instrument_id, o.device_id, o.ip_id, o.site_id, o.edge_id, o.currency, o.amount_minor,
       o.amount_minor / pow(10e0, o.minor_exponent) as amount,
       CASE WHEN o.approved THEN 'APPROVED' ELSE 'DECLINED' END as auth_result,
       (2 + CASE WHEN o.retried THEN 2 ELSE 0 END + CASE WHEN o.t_clearing IS NOT NULL THEN 1 ELSE 0 END + CASE WHEN o.t_refund IS NOT NULL THEN 1 ELSE 0 END)::INTEGER as n_events
from outcome3 o;
