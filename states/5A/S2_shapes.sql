-- step: scenarios
-- The horizon of config/world.yaml: whole buckets, at most 5 000 (the prior's guardrail).
create table horizon as
with h as (
  select replace(getvariable('world')->'horizon'->>'start_utc', 'Z', '')::TIMESTAMP as start_utc,
         replace(getvariable('world')->'horizon'->>'end_utc', 'Z', '')::TIMESTAMP as end_utc,
         (getvariable('world')->'horizon'->>'bucket_seconds')::INTEGER as bucket_seconds
)
select start_utc, end_utc, bucket_seconds,
       CASE WHEN end_utc <= start_utc THEN error('config/world.yaml: horizon end_utc must be after start_utc')
            WHEN (epoch(end_utc) - epoch(start_utc))::BIGINT % bucket_seconds <> 0 THEN error('config/world.yaml: horizon is not a whole number of buckets')
            WHEN (epoch(end_utc) - epoch(start_utc))::BIGINT // bucket_seconds > 5000 THEN error('config/world.yaml: horizon has more than 5000 buckets')
            ELSE ((epoch(end_utc) - epoch(start_utc))::BIGINT // bucket_seconds)::INTEGER END as n_buckets
from h;
create table scenario_manifest_5A as
select s as scenario_id, h.start_utc as horizon_start_utc, h.end_utc as horizon_end_utc, h.bucket_seconds, h.n_buckets,
       (getvariable('scenario_policy')->'scenarios'->s->>'is_baseline')::BOOLEAN as is_baseline,
       CASE WHEN (getvariable('scenario_policy')->'scenarios'->s->>'is_baseline')::BOOLEAN = (getvariable('scenario_policy')->'scenarios'->s->>'is_stress')::BOOLEAN
            THEN error('scenario_policy: scenario ' || s || ' must be exactly one of baseline and stress')
            ELSE (getvariable('scenario_policy')->'scenarios'->s->>'is_stress')::BOOLEAN END as is_stress
from (select unnest(json_keys(getvariable('scenario_policy')->'scenarios')) as s), horizon h;

-- step: shapes
-- Hour weights per class and channel (config/5A/shape_policy.yaml): a day or night level, a lunch
-- and an evening bump (circular distance, so a late peak wraps past midnight); CNP's evening later.
create table class_law as
select c as demand_class, getvariable('shape_policy')->'classes'->c as j
from (select unnest(json_keys(getvariable('shape_policy')->'classes')) as c);
create table hour_weights as
with grid as (
  select l.demand_class, ch.channel_group, h.h, l.j,
         (l.j->'open'->>0)::INTEGER as open_from, (l.j->'open'->>1)::INTEGER as open_to,
         CASE ch.channel_group WHEN 'CNP' THEN (getvariable('shape_policy')->'cnp'->>'evening_shift_hours')::DOUBLE ELSE 0e0 END as shift
  from class_law l, (values ('CP'), ('CNP')) ch(channel_group), range(24) h(h)
), dist as (
  select *, abs(h + 0.5e0 - (j->'lunch'->>'hour')::DOUBLE) as dl,
            abs(h + 0.5e0 - ((j->'evening'->>'hour')::DOUBLE + shift)) as de
  from grid
), circ as (
  select *, least(dl % 24e0, 24e0 - dl % 24e0) / (j->'lunch'->>'width')::DOUBLE as zl,
            least(de % 24e0, 24e0 - de % 24e0) / (j->'evening'->>'width')::DOUBLE as ze
  from dist
)
select demand_class, channel_group, h::INTEGER as h,
       CASE WHEN (open_from <= open_to AND h >= open_from AND h < open_to) OR (open_from > open_to AND (h >= open_from OR h < open_to))
            THEN (j->>'day_level')::DOUBLE ELSE (j->>'night_level')::DOUBLE END
       + (j->'lunch'->>'height')::DOUBLE * pexp(-0.5e0 * zl * zl)
       + (j->'evening'->>'height')::DOUBLE * pexp(-0.5e0 * ze * ze) as w
from circ;
-- The week: day weight (Monday .. Sunday) x hour weight, normalised over the 168 hours (exact
-- DECIMAL sums); CNP then blended with a flat week.
create table week_weights as
select w.demand_class, w.channel_group, (d.d * 24 + w.h)::INTEGER as local_hour_of_week,
       (l.j->'day_weights'->>d.d::INTEGER)::DOUBLE * w.w as ww
from hour_weights w join class_law l using (demand_class), range(7) d(d);
create table class_zone_shape_5A as
with totals as (
  select demand_class, channel_group, sum(ww::DECIMAL(38, 12)) as total from week_weights group by all
), flat as (select (getvariable('shape_policy')->'cnp'->>'flatten')::DOUBLE as f)
select w.demand_class, w.channel_group, w.local_hour_of_week,
       CASE WHEN t.total <= 0 THEN error('shape_policy: class ' || w.demand_class || ' has a week of zero weight')
            WHEN w.channel_group = 'CNP' THEN (1e0 - flat.f) * w.ww / t.total::DOUBLE + flat.f / 168e0
            ELSE w.ww / t.total::DOUBLE END as shape
from week_weights w join totals t using (demand_class, channel_group), flat;
