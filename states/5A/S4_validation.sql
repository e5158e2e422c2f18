-- step: sealed
create table sealed_check as from assert_sealed('sealed_inputs_5A');

-- step: measure
create table horizon as select any_value(n_buckets) as n_buckets, any_value(n_buckets) / 168e0 as weeks from scenario_manifest_5A;
-- The weight of each (class, channel, zone) key: the profiles' weekly arrivals (exact sums).
create table key_weights as
select demand_class, channel_group, tzid, sum(weekly_arrivals::DECIMAL(38, 12))::DOUBLE as w, count(*) as profiles
from merchant_zone_profile_5A group by all;
-- Each (zone, bucket)'s local time through ICU, once; then expected arrivals per surface row = key
-- weight x share (DECIMAL, so sums do not depend on order).
create table zone_local as
select tzid, bucket_index, timezone(tzid, timezone('UTC', bucket_start_utc)) as local_ts
from (select distinct tzid, bucket_index, bucket_start_utc from class_zone_surface_5A);
create table expected as
select s.scenario_id, s.demand_class, s.channel_group, s.tzid, s.bucket_index, s.share,
       (k.w * s.share)::DECIMAL(38, 9) as e, z.local_ts
from class_zone_surface_5A s join key_weights k using (demand_class, channel_group, tzid) join zone_local z using (tzid, bucket_index);
create table baseline as
select e.* from expected e join scenario_manifest_5A m using (scenario_id) where m.is_baseline;

-- Conservation: per baseline key the shares sum to n_buckets / 168 within relative 1e-9.
create table key_totals as
select scenario_id, demand_class, channel_group, tzid, sum(share::DECIMAL(38, 18))::DOUBLE as total, count(*) as rows
from class_zone_surface_5A group by all;
create table issue_entities as
select 'every_merchant_profiled' as check_id, 'merchant' as entity_type, m.merchant_id as entity_id, 'no profile key' as detail
from merchants_1A m where not exists (select 1 from merchant_zone_profile_5A p where p.merchant_id = m.merchant_id)
union all
select 'class_profile_consistent', 'merchant', p.merchant_id, 'profile class ' || p.demand_class || ', class profile ' || coalesce(c.primary_demand_class, 'missing')
from (select distinct merchant_id, demand_class from merchant_zone_profile_5A) p left join merchant_class_profile_5A c using (merchant_id)
where c.primary_demand_class is distinct from p.demand_class
union all
select 'baseline_conservation', 'key', NULL, t.demand_class || '/' || t.channel_group || '/' || t.tzid || ': sum ' || t.total
from key_totals t join scenario_manifest_5A m using (scenario_id), horizon h
where m.is_baseline and abs(t.total - h.weeks) > 1e-9 * h.weeks
union all
select 'surface_dense', 'key', NULL, t.scenario_id || ' ' || t.demand_class || '/' || t.channel_group || '/' || t.tzid || ': ' || t.rows || ' rows'
from key_totals t, horizon h where t.rows <> h.n_buckets
union all
select 'profile_keys_in_surface', 'key', NULL, m.scenario_id || ' ' || k.demand_class || '/' || k.channel_group || '/' || k.tzid || ' missing'
from key_weights k cross join scenario_manifest_5A m
where not exists (select 1 from key_totals t where t.scenario_id = m.scenario_id and t.demand_class = k.demand_class and t.channel_group = k.channel_group and t.tzid = k.tzid)
union all
select 'surface_keys_profiled', 'key', NULL, t.scenario_id || ' ' || t.demand_class || '/' || t.channel_group || '/' || t.tzid || ' has no profile'
from key_totals t where not exists (select 1 from key_weights k where k.demand_class = t.demand_class and k.channel_group = t.channel_group and k.tzid = t.tzid)
union all
select 'shape_sums_to_one', 'shape', NULL, demand_class || '/' || channel_group || ': sum ' || total
from (select demand_class, channel_group, sum(shape::DECIMAL(38, 18))::DOUBLE as total from class_zone_shape_5A group by all)
where abs(total - 1) > 1e-9;

-- Realism on the expectation: weekend share per class, night share, top-10 zones (baseline); the
-- stress windows' uplift (stress scenarios over baseline, same rows, local dates of the windows).
create table weekend_by_class as
select demand_class, (sum(e) filter (where isodow(local_ts) >= 6) / sum(e))::DOUBLE as weekend_share
from baseline group by all;
create table zone_totals as
select tzid, sum(e) as e, row_number() over (order by sum(e) desc, tzid) as rk from baseline group by tzid;
create table stress_windows as
select s as scenario_id, (w->>'from')::DATE as date_from, (w->>'to')::DATE as date_to
from (select s, unnest(from_json(getvariable('scenario_policy')->'scenarios'->s->'windows', '["JSON"]')) as w
      from (select unnest(json_keys(getvariable('scenario_policy')->'scenarios')) as s))
where s in (select scenario_id from scenario_manifest_5A where is_stress);
create table stress_uplift as
with in_window as (
  select distinct x.scenario_id, b.demand_class, b.channel_group, b.tzid, b.bucket_index, b.e as e_base
  from baseline b join stress_windows x on b.local_ts::DATE between x.date_from and x.date_to
)
select (sum(s.e) / sum(w.e_base))::DOUBLE as uplift
from in_window w join expected s using (scenario_id, demand_class, channel_group, tzid, bucket_index);
create table totals as
select (select sum(weekly_arrivals::DECIMAL(38, 12)) from merchant_zone_profile_5A)::DOUBLE as weekly,
       (select sum(e) from baseline)::DOUBLE as horizon_baseline,
       (select (sum(e) filter (where hour(local_ts) < 6) / sum(e))::DOUBLE from baseline) as night,
       (select (sum(e) filter (where rk <= 10) / sum(e))::DOUBLE from zone_totals) as top10,
       (select (sum(e) filter (where channel_group = 'CNP') / sum(e))::DOUBLE from baseline) as cnp_share,
       (select (count(*) filter (where share = 0))::DOUBLE / count(*) from baseline) as zero_rows,
       (select count(*) from merchant_zone_profile_5A) as profile_rows,
       (select count(*) from key_weights) as keys,
       (select count(*) from class_zone_surface_5A) as surface_rows,
       (select count(distinct tzid) from key_weights) as zones,
       (select count(distinct merchant_id) from merchant_zone_profile_5A) as merchants_profiled,
       (select uplift from stress_uplift) as uplift;

-- step: checks
create macro weekend(c) as (select weekend_share from weekend_by_class where demand_class = c);
create table checks as
with pol as (select getvariable('validation_policy') as p)
select unnest([
  invariant('every_merchant_profiled', (select count(*) from issue_entities where check_id = 'every_merchant_profiled'), 0),
  invariant('class_profile_consistent', (select count(*) from issue_entities where check_id = 'class_profile_consistent'), 0),
  invariant('baseline_conservation', (select count(*) from issue_entities where check_id = 'baseline_conservation'), 0),
  invariant('surface_dense', (select count(*) from issue_entities where check_id = 'surface_dense'), 0),
  invariant('profile_keys_in_surface', (select count(*) from issue_entities where check_id = 'profile_keys_in_surface'), 0),
  invariant('surface_keys_profiled', (select count(*) from issue_entities where check_id = 'surface_keys_profiled'), 0),
  invariant('shape_sums_to_one', (select count(*) from issue_entities where check_id = 'shape_sums_to_one'), 0),
  invariant('one_baseline_scenario', (select count(*) from scenario_manifest_5A where is_baseline), 1),
  realism(p, 'weekend_share_grocery', weekend('grocery')),
  realism(p, 'weekend_share_dining', weekend('dining')),
  realism(p, 'weekend_share_fuel_transport', weekend('fuel_transport')),
  realism(p, 'weekend_share_travel', weekend('travel')),
  realism(p, 'weekend_share_retail_goods', weekend('retail_goods')),
  realism(p, 'weekend_share_digital', weekend('digital')),
  realism(p, 'weekend_share_services', weekend('services')),
  realism(p, 'weekend_share_bills_utilities', weekend('bills_utilities')),
  realism(p, 'night_share', night),
  realism(p, 'top10_tz_share', top10),
  realism(p, 'stress_window_uplift', uplift),
  metric('weekly_arrivals', weekly),
  metric('horizon_arrivals_baseline', horizon_baseline),
  metric('horizon_weeks', (select weeks from horizon)),
  metric('cnp_share_of_arrivals', cnp_share),
  metric('zero_share_rows', zero_rows),
  metric('profile_rows', profile_rows),
  metric('profile_keys', keys),
  metric('zones', zones),
  metric('surface_rows', surface_rows),
  metric('merchants_profiled', merchants_profiled)
], recursive := true)
from totals, pol;

-- step: report
create table validation_report_5A as from validation_report('5A', 'checks', policy := getvariable('validation_policy'));
create table validation_issue_table_5A as from validation_issues('checks', 'issue_entities');
create table gate_verdict as from gate_verdict_of('checks');
