-- step: grid
-- The scenario's hourly UTC grid, and for every active zone its local wall clock at each bucket's
-- start and end (DuckDB ICU: DST-correct in any year). A bucket whose UTC offset changes inside it
-- (a transition at a half hour, e.g. Australia/Adelaide) is flagged: 5B.S4 converts its arrivals one
-- by one.
create table scenario as
select * from scenario_manifest_5A where scenario_id = getvariable('scenario_id');
create table check_scenario as
select CASE WHEN count(*) = 1 THEN true ELSE error('5B.S1: scenario ' || getvariable('scenario_id') || ' is not in scenario_manifest_5A') END as ok from scenario;
create table s1_time_grid_5B as
with b as (
  select (unnest(range(n_buckets)))::INTEGER as bucket_index, horizon_start_utc, bucket_seconds, is_baseline, is_stress from scenario
), z as (select distinct tzid from merchant_zone_profile_5A), g as (
  select z.tzid, b.bucket_index, b.horizon_start_utc + to_seconds(b.bucket_index::BIGINT * b.bucket_seconds) as bucket_start_utc,
         b.horizon_start_utc + to_seconds((b.bucket_index + 1)::BIGINT * b.bucket_seconds) as bucket_end_utc, b.horizon_start_utc, b.is_baseline, b.is_stress
  from z, b
), l as (
  select *, timezone(tzid, bucket_start_utc AT TIME ZONE 'UTC') as local_start, timezone(tzid, bucket_end_utc AT TIME ZONE 'UTC') as local_end from g
)
select tzid, bucket_index, bucket_start_utc, bucket_end_utc, local_start,
       isodow(local_start)::INTEGER as local_day_of_week, (hour(local_start) * 60 + minute(local_start))::INTEGER as local_minute,
       isodow(local_start) >= 6 as is_weekend,
       (date_diff('minute', bucket_start_utc, local_start))::INTEGER as utc_offset_minutes,
       date_diff('minute', bucket_start_utc, local_start) <> date_diff('minute', bucket_end_utc, local_end) as offset_changes,
       is_baseline, is_stress
from l;

-- step: grouping
-- Strata: scenario band x demand class x channel x virtual mode x zone; inside a stratum, keys
-- are hashed into buckets_per_stratum buckets. The zone is the key's own tzid (the prior hashed
-- tzids into 16 zone groups; one zone per group keeps one intensity path per group, see README).
-- key_id numbers the keys 1..n in (merchant_id, tzid, channel_group) order: 5B.S3 and S4 carry it
-- instead of the three columns, and the bucket counts are sorted by (key_id, bucket_index).
create table s1_grouping_5B as
with keyed as (
  select p.merchant_id, p.tzid, p.channel_group, p.demand_class, p.virtual_mode,
         CASE WHEN (select is_stress from scenario) THEN 'stress' ELSE 'baseline' END as scenario_band,
         (mix64(getvariable('stream_key'), p.merchant_id) % (getvariable('grouping_policy')->>'buckets_per_stratum')::UBIGINT)::INTEGER as stratum_bucket
  from merchant_zone_profile_5A p
)
select row_number() over (order by merchant_id, tzid, channel_group)::UBIGINT as key_id,
       merchant_id, tzid, channel_group, demand_class, virtual_mode, scenario_band, stratum_bucket,
       dense_rank() over (order by scenario_band, demand_class, channel_group, virtual_mode, tzid, stratum_bucket)::UBIGINT as group_id
from keyed;
