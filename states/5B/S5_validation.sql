-- step: sealed
create table sealed_check as from assert_sealed('sealed_inputs_5B');

-- step: civil_time
-- One pass over every arrival, per zone: T1 and T2 (its local time against ICU's conversion of its
-- UTC time in its zone), T12 (a naive TIMESTAMP that survives a text round trip), T5 (its site or
-- edge belongs to its merchant and zone: full joins, not a sample) and the mix of T6-T8.
-- ICU per bucket, not per arrival: a zone's UTC offset is ICU's at the bucket's first and last
-- microsecond; when the two agree the offset held all through the bucket (no zone changes its
-- offset twice within an hour), otherwise the arrival is converted by ICU on its own. Exact for
-- every arrival, and a hundred times cheaper than a conversion each.
create table zone_clock as
select tzid, bucket_index, bucket_start_utc, bucket_end_utc,
       date_diff('microsecond', bucket_start_utc, timezone(tzid, bucket_start_utc AT TIME ZONE 'UTC')) as off_first,
       date_diff('microsecond', bucket_end_utc - INTERVAL 1 microsecond, timezone(tzid, (bucket_end_utc - INTERVAL 1 microsecond) AT TIME ZONE 'UTC')) as off_last
from s1_time_grid_5B;
create table zone_pass as
with a as (
  select a.*, c.bucket_start_utc, c.bucket_end_utc,
         CASE WHEN c.off_first = c.off_last THEN a.ts_utc + to_microseconds(c.off_first) ELSE timezone(a.tzid, a.ts_utc AT TIME ZONE 'UTC') END as icu_local
  from arrival_events_5B a join zone_clock c using (tzid, bucket_index)
)
select a.tzid, count(*) as n,
       count(*) filter (where a.ts_local IS DISTINCT FROM a.icu_local) as mismatched,
       count(*) filter (where abs(date_diff('second', a.icu_local, a.ts_local)) = 3600) as one_hour_off,
       count(*) filter (where typeof(a.ts_local) = 'TIMESTAMP' and a.ts_local::VARCHAR::TIMESTAMP = a.ts_local) as local_round_trip,
       count(*) filter (where a.ts_utc < a.bucket_start_utc or a.ts_utc >= a.bucket_end_utc) as outside_bucket,
       count(*) filter (where a.channel_group = 'CP' and (a.site_id IS NULL or a.edge_id IS NOT NULL or o.site_id IS NULL)) +
       count(*) filter (where a.channel_group = 'CNP' and (a.edge_id IS NULL or a.site_id IS NOT NULL or e.edge_id IS NULL)) as violations,
       count(*) filter (where a.is_virtual) as virtual_n,
       count(*) filter (where isodow(a.ts_local) >= 6) as weekend_n,
       sum(hash(a.merchant_id, a.bucket_index, a.channel_group = 'CNP')::HUGEINT) as fp1
from a
left join outlets_1A o on o.site_id = a.site_id and o.merchant_id = a.merchant_id and o.tzid = a.tzid
left join virtual_edges_1A e on e.edge_id = a.edge_id and e.merchant_id = a.merchant_id and e.tzid = a.tzid
group by a.tzid;
create table civil as
select sum(n) as arrivals, sum(mismatched) as mismatched, sum(one_hour_off) as one_hour_off,
       sum(local_round_trip) as local_round_trip, sum(outside_bucket) as outside_bucket
from zone_pass;

-- step: conservation
-- T4: arrivals per (merchant, zone, channel, bucket) against 5B.S3's counts, every cell. First
-- per zone, as a fingerprint of the multiset of its cells: the sum over its arrivals of a 64-bit
-- hash of (merchant, bucket, channel) against the sum over S3's cells of count x hash (exact
-- HUGEINT sums over every row; a wrong multiset agrees by chance about once in 2^64). When every
-- zone agrees the residual is 0; when one does not, the cell-by-cell comparison runs (the join
-- with the one-row `recount` table is empty otherwise, and DuckDB then skips its probe side) and
-- gives the residual and the cells off.
create table fingerprints as
with expected as (
  select tzid, sum(count_n) as n, sum(count_n::HUGEINT * hash(merchant_id, bucket_index, channel_group = 'CNP')::HUGEINT) as fp1
  from s3_bucket_counts_5B group by tzid
)
select count(*) filter (where z.n IS DISTINCT FROM e.n or z.fp1 IS DISTINCT FROM e.fp1) as zones_off
from zone_pass z full join expected e using (tzid);
create table recount as select 1 as one from fingerprints where zones_off > 0;
create table cell_check as
with realised as (
  select merchant_id, tzid, channel_group, bucket_index, count(*) as n
  from arrival_events_5B a join recount r on r.one = (a.bucket_index >= 0)::INTEGER group by all
), expected as (
  select c.* from s3_bucket_counts_5B c join recount r on r.one = (c.bucket_index >= 0)::INTEGER
)
select coalesce(sum(abs(coalesce(r.n, 0) - coalesce(c.count_n, 0))), 0) as residual,
       count(*) filter (where r.n IS DISTINCT FROM c.count_n) as cells_off
from realised r full join expected c using (merchant_id, tzid, channel_group, bucket_index);
create table conservation as
select CASE WHEN exists (select 1 from recount) THEN (select residual from cell_check) ELSE 0 END as residual,
       CASE WHEN exists (select 1 from recount) THEN (select cells_off from cell_check) ELSE 0 END as cells_off,
       exists (select 1 from recount) as recounted
from (select 1);
-- arrival_seq runs 1..n per merchant
create table seq_check as
select count(*) filter (where n <> mx or mn <> 1) as merchants_off
from (select merchant_id, count(*) as n, min(arrival_seq) as mn, max(arrival_seq) as mx from arrival_events_5B group by all);

-- step: mix
-- T5 routing violations; T6 top-10 zones' share of arrivals; T7 virtual share; T8 weekend share
-- (local) realised vs expected from 5A's surface (the target intensity, without the latent field).
create table routing as select coalesce(sum(violations), 0) as violations from zone_pass;
create table zone_counts as select tzid, n from zone_pass;
create table mix as
select (select sum(n) from (select n from zone_counts order by n desc, tzid limit 10)) / (select sum(n) from zone_counts) as top10,
       (select sum(virtual_n) / sum(n) from zone_pass) as virtual_share,
       (select sum(weekend_n) / sum(n) from zone_pass) as weekend_realised;
create table expected_cells as
with w as (select demand_class, channel_group, tzid, sum(weekly_arrivals::DECIMAL(38, 12)) as weekly from merchant_zone_profile_5A group by all)
select s.tzid, s.bucket_index, sum((w.weekly::DOUBLE * s.share)::DECIMAL(38, 12))::DOUBLE as mu
from class_zone_scenario_utc_5A s join w using (demand_class, channel_group, tzid) group by all;
create table weekend_expected as
select (sum(e.mu::DECIMAL(38, 12)) filter (where g.is_weekend) / sum(e.mu::DECIMAL(38, 12)))::DOUBLE as weekend_expected
from expected_cells e join s1_time_grid_5B g using (tzid, bucket_index);

-- step: dst
-- T3: inside each DST-transition window (a zone's local days from the day before a transition to
-- the day after), the hour-of-day distribution of arrivals against the expected one; a window is
-- material with at least min_window_arrivals arrivals; the value is the arrival-weighted mean of
-- the windows' mean absolute errors (pp), NULL with fewer than min_material_windows windows.
create macro vp(path) as (getvariable('validation_policy')->'params'->>path)::DOUBLE;
create table transitions as
select tzid, local_start::DATE as day
from (select *, lag(utc_offset_minutes) over (partition by tzid order by bucket_index) as prev from s1_time_grid_5B)
where prev IS NOT NULL and prev <> utc_offset_minutes;
create table windows as
select t.tzid, t.day, g.bucket_index, hour(g.local_start) as local_hour
from transitions t join s1_time_grid_5B g on g.tzid = t.tzid and g.local_start::DATE between t.day - 1 and t.day + 1;
create table window_hours as
with realised as (
  select w.tzid, w.day, hour(a.ts_local) as local_hour, count(*) as n
  from arrival_events_5B a join windows w on w.tzid = a.tzid and w.bucket_index = a.bucket_index group by all
), expected as (
  select w.tzid, w.day, w.local_hour, sum(e.mu::DECIMAL(38, 12))::DOUBLE as mu from windows w join expected_cells e using (tzid, bucket_index) group by all
), both_ as (
  select tzid, day, local_hour, coalesce(r.n, 0) as n, coalesce(x.mu, 0) as mu from realised r full join expected x using (tzid, day, local_hour)
), normed as (
  select *, sum(n) over w as support, n / nullif(sum(n) over w, 0) as p_real, mu / nullif(sum(mu) over w, 0) as p_exp
  from both_ window w as (partition by tzid, day)
)
select tzid, day, any_value(support) as support, 100 * sum(abs(p_real - p_exp)::DECIMAL(38, 15)) / count(*) as mae_pp
from normed group by tzid, day;
create table dst as
select count(*) filter (where support >= vp('$.min_window_arrivals')) as material,
       (sum(mae_pp * support) filter (where support >= vp('$.min_window_arrivals')))
         / (sum(support) filter (where support >= vp('$.min_window_arrivals'))) as mae_pp
from window_hours;

-- step: dispersion
-- T9: dispersion of the bucket counts around 5A's target intensity mu, pooled over every cell and
-- weighted by mu (zeros included: the sum over all cells of (N - mu)^2 is the sum over non-zero
-- cells of ((N - mu)^2 - mu^2) plus the sum of mu^2), against the one the configured count law and the
-- published latent field imply: given the factor f, Poisson gives E (N - mu)^2 = mu f + mu^2 (f - 1)^2,
-- and NB2 with a key's kappa (its gamma factor G of mean 1, variance 1 / kappa) adds mu^2 f^2 / kappa.
-- The law is read from what S3 published (s3_key_totals_5B.kappa, null for Poisson), not from the policy.
-- Realised = sum (N - mu)^2 / sum mu, implied = sum (mu f + mu^2 ((f - 1)^2 + f^2 / kappa)) / sum mu; the
-- gate is their relative difference: counts that ignore the field, or follow another law, move it.
create table shapes as
select *, (row_number() over (order by demand_class, channel_group, tzid))::INTEGER as shape_id
from (select demand_class, channel_group, tzid, sum(share::DECIMAL(38, 18)) as s1, sum((share * share)::DECIMAL(38, 18)) as s2
      from class_zone_scenario_utc_5A group by all);
create table shape_share as
select h.shape_id, s.bucket_index, s.share from class_zone_scenario_utc_5A s join shapes h using (demand_class, channel_group, tzid);
create table key_mu as
select g.key_id, p.merchant_id, p.tzid, p.channel_group, p.demand_class, g.group_id, h.shape_id, p.weekly_arrivals as weekly, h.s1::DOUBLE as s1, h.s2::DOUBLE as s2
from merchant_zone_profile_5A p
join s1_grouping_5B g using (merchant_id, tzid, channel_group)
join shapes h on h.demand_class = p.demand_class and h.channel_group = p.channel_group and h.tzid = p.tzid;
-- mu of every cell that has arrivals (integer keys: the key's id, its shape's id and the bucket)
create table cell_mu as
select c.key_id, c.bucket_index, c.count_n, k.weekly * s.share as mu
from s3_bucket_counts_5B c
join key_mu k using (key_id)
left join shape_share s on s.shape_id = k.shape_id and s.bucket_index = c.bucket_index;
-- per group (one class, channel and zone): sum over buckets of share x f, of share^2 (f - 1)^2 and of share^2 f^2
create table group_field as
select g.group_id, sum((s.share * f.factor)::DECIMAL(38, 18)) as a, sum((s.share * s.share * (f.factor - 1e0) * (f.factor - 1e0))::DECIMAL(38, 18)) as b,
       sum((s.share * s.share * f.factor * f.factor)::DECIMAL(38, 18)) as c
from (select distinct group_id, demand_class, channel_group, tzid from s1_grouping_5B) g
join class_zone_scenario_utc_5A s on s.demand_class = g.demand_class and s.channel_group = g.channel_group and s.tzid = g.tzid
join s2_latent_field_5B f on f.group_id = g.group_id and f.bucket_index = s.bucket_index
group by g.group_id;
create table dispersion as
with nonzero as (
  select sum((((count_n - mu) * (count_n - mu)) - mu * mu)::DECIMAL(38, 9)) as x from cell_mu where mu > 0
), unexpected as (
  -- arrivals in a cell 5A gave no intensity: no dispersion can account for them
  select count(*) as n from cell_mu where mu IS NULL or mu <= 0
), totals as (
  select sum((k.weekly * k.s1)::DECIMAL(38, 9)) as mu_sum, sum((k.weekly * k.weekly * k.s2)::DECIMAL(38, 9)) as mu2_sum,
         sum((k.weekly * g.a::DOUBLE + k.weekly * k.weekly * (g.b::DOUBLE + coalesce(g.c::DOUBLE / t.kappa, 0e0)))::DECIMAL(38, 9)) as implied_sum
  from key_mu k join group_field g using (group_id) left join s3_key_totals_5B t using (key_id)
)
select (select n from unexpected) as unexpected_cells,
       ((select x from nonzero) + mu2_sum)::DOUBLE / mu_sum::DOUBLE as realised,
       implied_sum::DOUBLE / mu_sum::DOUBLE as implied
from totals;

-- step: checks
-- the routing violations' arrivals, looked up only when T5 found some (the join with an empty
-- one-row table skips the scan otherwise)
create table issue_entities as
select 'T5_routing_violations' as check_id, 'merchant' as entity_type, a.merchant_id as entity_id,
       'arrival ' || a.arrival_seq || ' routed to ' || coalesce('site ' || a.site_id, 'edge ' || a.edge_id, 'nothing') || ' outside ' || a.tzid as detail
from arrival_events_5B a
join (select 1 as one from routing where violations > 0) r on r.one = (a.bucket_index >= 0)::INTEGER
left join outlets_1A o on o.site_id = a.site_id and o.merchant_id = a.merchant_id and o.tzid = a.tzid
left join virtual_edges_1A e on e.edge_id = a.edge_id and e.merchant_id = a.merchant_id and e.tzid = a.tzid
where (a.channel_group = 'CP' and o.site_id IS NULL) or (a.channel_group = 'CNP' and e.edge_id IS NULL)
limit 100;
create table checks as
with pol as (select getvariable('validation_policy') as p)
select unnest([
  invariant('arrivals_inside_bucket', (select outside_bucket from civil), 0),
  invariant('arrival_seq_contiguous', (select merchants_off from seq_check), 0),
  invariant('arrivals_in_zero_intensity_cells', (select unexpected_cells from dispersion), 0),
  realism(p, 'T1_civil_time_mismatch_share', (select mismatched / arrivals from civil)),
  realism(p, 'T2_one_hour_dst_signature_share', (select one_hour_off / arrivals from civil)),
  realism(p, 'T3_dst_window_hour_mae_pp', (select CASE WHEN material >= vp('$.min_material_windows') THEN mae_pp END from dst)),
  realism(p, 'T4_conservation_residual', (select residual from conservation)),
  realism(p, 'T5_routing_violations', (select violations from routing)),
  realism(p, 'T6_top10_zone_share', (select top10 from mix)),
  realism(p, 'T7_virtual_share', (select virtual_share from mix)),
  realism(p, 'T8_weekend_share_error_pp', (select 100 * abs(weekend_realised - weekend_expected) from mix, weekend_expected)),
  realism(p, 'T9_dispersion_relative_error', (select abs(realised - implied) / implied from dispersion)),
  pending_gate(p, 'T10_cross_seed_cv'),
  realism(p, 'T11_zone_rules_cover_horizon', (select count(*) filter (where rows = n and off = 0)::DOUBLE / count(*)
                                              from (select tzid, count(*) as rows, count(*) filter (where local_start IS DISTINCT FROM timezone(tzid, bucket_start_utc AT TIME ZONE 'UTC')) as off
                                                    from s1_time_grid_5B group by all),
                                                   (select max(bucket_index) + 1 as n from s1_time_grid_5B))),
  realism(p, 'T12_local_time_contract_share', (select local_round_trip / arrivals from civil)),
  metric('arrivals', (select arrivals from civil)),
  metric('dst_material_windows', (select material from dst)),
  metric('weekend_share_realised', (select weekend_realised from mix)),
  metric('dispersion_realised', (select realised from dispersion)),
  metric('dispersion_implied', (select implied from dispersion)),
  metric('arrivals_per_key_week', (select arrivals from civil) / (select count(*) from merchant_zone_profile_5A)
                                    / ((select max(bucket_index) + 1 from s1_time_grid_5B) / 168e0))
], recursive := true)
from pol;

-- step: report
create table validation_report_5B as from validation_report('5B', 'checks', policy := getvariable('validation_policy'));
create table validation_issue_table_5B as from validation_issues('checks', 'issue_entities');
create table gate_verdict as from gate_verdict_of('checks');
