-- step: grid
-- Every UTC bucket of the horizon, and per zone its local wall time through ICU (DST-correct):
-- timezone('UTC', ts) reads the bucket start as UTC, timezone(tzid, .) gives the local time there.
create table grid as
select b::INTEGER as bucket_index, h.horizon_start_utc + to_seconds(b * h.bucket_seconds) as bucket_start_utc
from (select * from scenario_manifest_5A limit 1) h, range(h.n_buckets) r(b);
create table zone_hours as
with local as (
  select z.tzid, g.bucket_index, g.bucket_start_utc, timezone(z.tzid, timezone('UTC', g.bucket_start_utc)) as local_ts
  from (select distinct tzid from merchant_zone_profile_5A) z, grid g
)
select tzid, bucket_index, bucket_start_utc, local_ts::DATE as local_date,
       ((isodow(local_ts) - 1) * 24 + hour(local_ts))::INTEGER as local_hour_of_week
from local;

-- step: baseline
-- Dense keys: every (class, channel, zone) of a profile, every bucket. A key's share of one week's
-- volume in a bucket is the shape at the bucket's local hour of week, scaled so that the horizon
-- holds exactly n_buckets / 168 weeks of it. DST: the spring-forward hour (local 02:00-03:00) has
-- no UTC bucket and a fall-back hour would have two; the per-key scale returns the missing hour's
-- weight to the key's other hours in proportion (and would scale a doubled hour back), so a key's
-- total never depends on its zone's clock changes. Totals are DECIMAL sums: exact.
create table keys as select distinct demand_class, channel_group, tzid from merchant_zone_profile_5A;
create table raw_surface as
select k.demand_class, k.channel_group, k.tzid, z.bucket_index, z.bucket_start_utc, z.local_date, s.shape
from keys k join zone_hours z using (tzid)
join class_zone_shape_5A s on s.demand_class = k.demand_class and s.channel_group = k.channel_group and s.local_hour_of_week = z.local_hour_of_week;
create table key_scale as
select demand_class, channel_group, tzid,
       ((select n_buckets from scenario_manifest_5A limit 1)::DECIMAL(38, 18) / 168 / sum(shape::DECIMAL(38, 18)))::DOUBLE as scale
from raw_surface group by all;

-- step: scenarios
-- A scenario multiplies a bucket's baseline share by its class's factor when the bucket's local
-- date is inside a window of the scenario (windows that overlap multiply).
create table windows as
select s as scenario_id, (w->>'from')::DATE as date_from, (w->>'to')::DATE as date_to, w->'factors' as factors
from (select s, unnest(from_json(getvariable('scenario_policy')->'scenarios'->s->'windows', '["JSON"]')) as w
      from (select unnest(json_keys(getvariable('scenario_policy')->'scenarios')) as s));
create table class_zone_surface_5A as
with factors as (
  select w.scenario_id, r.demand_class, r.tzid, r.local_date, product((w.factors->>r.demand_class)::DOUBLE order by w.date_from, w.date_to) as factor
  from windows w join (select distinct demand_class, tzid, local_date from raw_surface) r on r.local_date between w.date_from and w.date_to
  group by all
)
select m.scenario_id, r.demand_class, r.channel_group, r.tzid, r.bucket_index, r.bucket_start_utc,
       r.shape * k.scale * coalesce(f.factor, 1e0) as share
from scenario_manifest_5A m cross join raw_surface r
join key_scale k using (demand_class, channel_group, tzid)
left join factors f on f.scenario_id = m.scenario_id and f.demand_class = r.demand_class and f.tzid = r.tzid and f.local_date = r.local_date;
