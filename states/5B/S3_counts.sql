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
select group_id::INTEGER as gid, bucket_index, qi,
       sum(qi) over (partition by group_id order by bucket_index rows between unbounded preceding and current row) - qi as cum_lo,
       sum(qi) over (partition by group_id) as total
from scaled where qi > 0;  -- only buckets with intensity: cum_lo is then strictly increasing
create table group_total as select gid, any_value(total) as total from group_cum group by all;

-- step: totals
-- One total per key over the horizon (its realised intensity summed), drawn from the key's own PRF
-- key: Poisson, or (law negative_binomial) Poisson with the intensity times the key's gamma factor G
-- ~ Gamma(kappa, mean 1), a gamma-Poisson mixture: the total is NB2 (Var = mu + mu^2 / kappa), and so
-- is each bucket count, the cells of a key sharing its G. G is Gamma(kappa + 1) by Wilson-Hilferty
-- (a normal cubed: close for shapes >= 1) times U^(1/kappa) (Gamma(k) = Gamma(k + 1) U^(1/k), exact),
-- over kappa: lanes `frailty_z` and `frailty_u` of the key. Under Poisson G is 1 and nothing is drawn.
-- A total at or below lambda_zero_eps is 0 with no draw.
create table key_totals as
select k.key_id, k.merchant_id, k.tzid, k.channel_group, k.group_id, p.weekly_arrivals * (t.total / 1099511627776e0) as lambda_total, t.total,
       prf3(getvariable('stream_key'), k.merchant_id, key_of(k.tzid), key_of(k.channel_group)) as kk
from s1_grouping_5B k join merchant_zone_profile_5A p using (merchant_id, tzid, channel_group) join group_total t on t.gid = k.group_id;
create table key_law as
select *, CASE WHEN getvariable('count_policy')->>'law' = 'negative_binomial' THEN cp('$.kappa') END as kappa from key_totals;
create table key_frailty as
with wh as (
  select *, kappa + 1e0 as a, draw_normal(mix64(kk, key_of('frailty_z'))) as z, u01(mix64(kk, key_of('frailty_u'))) as u
  from key_law where kappa IS NOT NULL
), cubed as (
  select key_id, a, u, kappa, greatest(0e0, 1e0 - 1e0 / (9e0 * a) + z / (3e0 * sqrt(a))) as c from wh
)
select key_id, a * c * c * c * pexp(pln(u) / kappa) / kappa as g from cubed;
create table key_counts as
with mixed as (select t.*, t.lambda_total * coalesce(f.g, 1e0) as lambda_drawn from key_law t left join key_frailty f using (key_id))
select *, CASE WHEN lambda_total <= cp('$.lambda_zero_eps') OR lambda_drawn <= cp('$.lambda_zero_eps') THEN 0
               ELSE draw_poisson(mix64(kk, 0), lambda_drawn, lam_normal := cp('$.poisson_exact_lambda_max')) END as n_total
from mixed;

-- step: deal
-- Each of a key's arrivals j = 0..n-1 picks its bucket with probability q_t / total (Poisson
-- splitting: bucket counts are then independent Poisson(weekly x q_t), exactly): the draw
-- draw_at(key's deal key, j) scaled to [0, total) finds its bucket by an as-of join on the group's
-- cumulative intensities. Only integer ids travel with the hundred million draws.
create table deal_keys as
select key_id, group_id::INTEGER as gid, total, mix64(kk, key_of('deal')) as draw_key, n_total::BIGINT as draw_n from key_counts;
create table bucket_counts as
with drawn as (select key_id, gid, floor(u01(draw_x) * total)::BIGINT as x from counter_draws(deal_keys))
select d.key_id, c.bucket_index, count(*)::INTEGER as count_n
from drawn d asof join group_cum c on c.gid = d.gid and d.x >= c.cum_lo
group by all;
-- zones and channels as ENUMs (one byte a row through the table, the sort and the writer, which
-- writes them as strings)
create type zone_t as enum (select distinct tzid from s1_grouping_5B order by tzid);
create type channel_t as enum ('CP', 'CNP');
create table count_keys as select key_id, merchant_id, tzid::zone_t as tzid, channel_group::channel_t as channel_group from key_counts;
create table s3_bucket_counts_5B as
select c.key_id, k.merchant_id, k.tzid, k.channel_group, c.bucket_index, c.count_n
from bucket_counts c join count_keys k using (key_id);
create table s3_key_totals_5B as
select key_id, merchant_id, tzid, channel_group, group_id, lambda_total, kappa, n_total::BIGINT as n_total from key_counts;
-- only the outputs stay: publishing sorts them within the memory limit
drop table bucket_counts; drop table deal_keys; drop table key_counts; drop table key_frailty; drop table key_law; drop table key_totals; drop table count_keys;
drop table group_cum; drop table group_total; drop table group_intensity; drop table group_share;
