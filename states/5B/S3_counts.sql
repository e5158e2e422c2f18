-- step: intensity
-- A group's realised intensity per bucket, per unit of weekly volume: the zone's share of a week in
-- that bucket (5A) times the group's latent factor. Cumulative sums per group (exact DECIMAL), so
-- a uniform on [0, total) finds its bucket by an as-of join.
create macro cp(path) as (getvariable('count_policy')->>path)::DOUBLE;
create table group_keys as
select distinct group_id, demand_class, channel_group, tzid from s1_grouping_5B;
-- (two joins in two statements: as one three-way join DuckDB's plan was 20x slower)
create table group_share as
select g.group_id, s.bucket_index, s.share
from group_keys g
join class_zone_scenario_utc_5A s on s.demand_class = g.demand_class and s.channel_group = g.channel_group and s.tzid = g.tzid;
create table group_intensity as
select g.group_id, g.bucket_index, g.share * f.factor as q
from group_share g join s2_latent_field_5B f using (group_id, bucket_index);
-- Intensities in units of 2^-40 of a week (integers: exact sums in any order; a bucket's share of
-- a week is at most ~0.05 and the factor at most clip.hi, so a horizon's sum stays below 2^62).
create table group_cum as
with scaled as (select group_id, bucket_index, round(q * 1099511627776e0)::BIGINT as qi from group_intensity)
select group_id, bucket_index, qi,
       sum(qi) over (partition by group_id order by bucket_index rows between unbounded preceding and current row) - qi as cum_lo,
       sum(qi) over (partition by group_id) as total
from scaled where qi > 0;  -- only buckets with intensity: cum_lo is then strictly increasing
create table group_total as select group_id, any_value(total) as total from group_cum group by all;

-- step: totals
-- One Poisson total per key over the horizon (its realised intensity summed), drawn from the key's
-- own PRF key; a total at or below lambda_zero_eps is 0 with no draw.
create table key_totals as
select k.merchant_id, k.tzid, k.channel_group, k.group_id, p.weekly_arrivals * (t.total / 1099511627776e0) as lambda_total,
       prf3(getvariable('stream_key'), k.merchant_id, key_of(k.tzid), key_of(k.channel_group)) as kk
from s1_grouping_5B k join merchant_zone_profile_5A p using (merchant_id, tzid, channel_group) join group_total t using (group_id);
create table key_counts as
select *, CASE WHEN lambda_total <= cp('$.lambda_zero_eps') THEN 0
               ELSE draw_poisson(mix64(kk, 0), lambda_total, lam_normal := cp('$.poisson_exact_lambda_max')) END as n_total
from key_totals;

-- step: deal
-- Each of a key's arrivals j = 1..n picks its bucket with probability q_t / total (Poisson
-- splitting: bucket counts are then independent Poisson(weekly x q_t), exactly).
create table dealt as
with arrivals as (
  select merchant_id, tzid, channel_group, group_id, mix64(kk, key_of('deal')) as kd, unnest(range(n_total)) as j
  from key_counts where n_total > 0
)
select a.merchant_id, a.tzid, a.channel_group, c.bucket_index
from (select a.*, floor(u01(mix64(a.kd, a.j)) * t.total)::BIGINT as x from arrivals a join group_total t using (group_id)) a
asof join group_cum c on c.group_id = a.group_id and a.x >= c.cum_lo;
create table s3_bucket_counts_5B as
select d.merchant_id, d.tzid, d.channel_group, d.bucket_index, count(*)::INTEGER as count_n
from dealt d group by all;
create table s3_key_totals_5B as
select merchant_id, tzid, channel_group, group_id, lambda_total, n_total::BIGINT as n_total from key_counts;
