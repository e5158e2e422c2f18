-- step: sites
create macro pol(path) as getvariable('demand_policy')->>path;
-- A merchant's sites per zone: outlets are its card-present (CP) sites, virtual edges its
-- card-not-present (CNP) ones.
create table zone_sites as
select merchant_id, tzid, 'CP' as channel_group, count(*)::BIGINT as n_sites from outlets_1A group by all
union all
select merchant_id, tzid, 'CNP' as channel_group, count(*)::BIGINT as n_sites from virtual_edges_1A group by all;
-- The CNP share of a merchant's volume by virtual mode (HYBRID: the policy's hybrid_cnp_share); a
-- channel without sites gets none, so every merchant's volume lands on keys that exist.
create table merchant_sites as
with counts as (
  select m.merchant_id, m.legal_country_iso, m.demand_class, m.virtual_mode,
         coalesce(sum(z.n_sites) filter (where z.channel_group = 'CP'), 0)::BIGINT as n_outlets,
         coalesce(sum(z.n_sites) filter (where z.channel_group = 'CNP'), 0)::BIGINT as n_edges
  from merchants_1A m left join zone_sites z using (merchant_id)
  group by all
), split as (
  select *, CASE WHEN n_edges = 0 THEN 0e0 WHEN n_outlets = 0 THEN 1e0
                 WHEN virtual_mode = 'HYBRID' THEN pol('$.hybrid_cnp_share')::DOUBLE
                 WHEN virtual_mode = 'PHYSICAL' THEN 0e0 ELSE 1e0 END as cnp_share
  from counts
)
select *, (CASE WHEN cnp_share < 1 THEN n_outlets ELSE 0 END + CASE WHEN cnp_share > 0 THEN n_edges ELSE 0 END)::BIGINT as sites
from split;

-- step: volume
-- raw = sites x lognormal(mean 1) x class multiplier; the world's site-weighted mean of
-- lognormal x class is divided out (exact DECIMAL sums), so the world expects
-- arrivals_per_site_week x sites a week exactly (config/5A/demand_policy.yaml).
create table raw_volume as
with law as (select pol('$.merchant_sigma')::DOUBLE as sigma)
select s.*,
       s.sites * draw_lognormal(prf2(getvariable('stream_key'), key_of('volume'), s.merchant_id), -0.5e0 * law.sigma * law.sigma, law.sigma)
         * CASE WHEN (getvariable('demand_policy')->'class_multiplier'->>s.demand_class) IS NULL
                THEN error('demand_policy: class ' || s.demand_class || ' has no class_multiplier')
                ELSE (getvariable('demand_policy')->'class_multiplier'->>s.demand_class)::DOUBLE END as raw
from merchant_sites s, law
where s.sites > 0;
create table world_scale as
select (sum(sites)::DECIMAL(38, 12) / sum(raw::DECIMAL(38, 12)))::DOUBLE * pol('$.arrivals_per_site_week')::DOUBLE as scale
from raw_volume;

-- step: profiles
-- A merchant's volume split over its zones by site counts: CP by outlets, CNP by edges.
create table merchant_zone_profile_5A as
select v.merchant_id, v.legal_country_iso, z.tzid, z.channel_group, v.demand_class, v.virtual_mode, z.n_sites,
       v.raw * w.scale * CASE z.channel_group WHEN 'CP' THEN (1e0 - v.cnp_share) * z.n_sites / v.n_outlets
                                              ELSE v.cnp_share * z.n_sites / v.n_edges END as weekly_arrivals
from raw_volume v join zone_sites z using (merchant_id), world_scale w
where (z.channel_group = 'CP' and v.cnp_share < 1) or (z.channel_group = 'CNP' and v.cnp_share > 0);
-- One demand class per merchant (its MCC's): 6B conditions on it.
create table merchant_class_profile_5A as
select merchant_id, demand_class as primary_demand_class from merchants_1A;
