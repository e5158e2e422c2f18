-- step: devices
create macro dp(path) as getvariable('device_priors')->>path;
create table device_type_cum as
select grp as party_type, categories as types, cumw from cumulative_mixes(getvariable('device_priors')->'devices'->'type_mix');
create table s4_device_base_6A as
with lam as (
  select pt as party_type, (getvariable('device_priors')->'devices'->'extra_mean'->>pt)::DOUBLE as extra_mean,
         poisson_table((getvariable('device_priors')->'devices'->'extra_mean'->>pt)::DOUBLE) as cdf
  from (select unnest(json_keys(getvariable('device_priors')->'devices'->'extra_mean')) as pt)
), counts as (
  select p.party_id, p.party_type, p.region, 1 + draw_poisson_cdf(prf2(getvariable('stream_key'), p.party_id, 1), l.extra_mean, l.cdf) as n
  from s1_party_base_6A p join lam l using (party_type)
), seqs as (
  select party_id, party_type, region, unnest(range(n)) as i from counts
)
select row_number() over (order by s.party_id, s.i)::UBIGINT as device_id, s.party_id,
       d.types[pick_index(d.cumw, u01(prf3(getvariable('stream_key'), s.party_id, 2, s.i)))] as device_type, s.region
from seqs s join device_type_cum d using (party_type);

-- step: device_links
-- Owners, and a share of retail devices also used by another party of the owner's country
-- (party ids are contiguous per country, so a uniform pick is an offset into that range).
create table country_range as
select country_iso, min(party_id) as lo, max(party_id) as hi from s1_party_base_6A group by all;
create table s4_device_links_6A as
with shared as (
  select d.device_id, d.party_id as owner, r.lo, r.hi,
         r.lo + floor(u01(prf2(getvariable('stream_key'), d.device_id, 4)) * (r.hi - r.lo + 1))::UBIGINT as pick
  from s4_device_base_6A d join s1_party_base_6A p using (party_id) join country_range r using (country_iso)
  where p.party_type = 'RETAIL' and r.hi > r.lo and u01(prf2(getvariable('stream_key'), d.device_id, 3)) < dp('$.devices.shared_share')::DOUBLE
)
select device_id, party_id, 'OWNER' as link_role from s4_device_base_6A
union all
select device_id, CASE WHEN pick <> owner THEN pick WHEN owner = hi THEN lo ELSE owner + 1 END, 'SHARED' from shared;

-- step: ip_pool
-- Links: a linked device uses 1 + Poisson(extra_links_mean) IPs.
create table links as
with lam as (select dp('$.ips.extra_links_mean')::DOUBLE as extra, poisson_table(dp('$.ips.extra_links_mean')::DOUBLE) as cdf),
counts as (
  select d.device_id, d.region,
         CASE WHEN u01(prf2(getvariable('stream_key'), d.device_id, 41)) < dp('$.ips.coverage')::DOUBLE
              THEN 1 + draw_poisson_cdf(prf2(getvariable('stream_key'), d.device_id, 42), lam.extra, lam.cdf) ELSE 0 END as n
  from s4_device_base_6A d, lam
)
select device_id, region, unnest(range(n)) as link_seq from counts where n > 0;
create table ip_types as
select a.r as region, t as ip_type, (getvariable('device_priors')->'ips'->'type_mix'->a.r->>t)::DOUBLE as share,
       row_number() over (partition by a.r order by t)::UBIGINT as cell,
       (getvariable('device_priors')->'ips'->'capacity'->t->>'mu')::DOUBLE as mu,
       (getvariable('device_priors')->'ips'->'capacity'->t->>'sigma')::DOUBLE as sigma,
       (getvariable('device_priors')->'ips'->'capacity'->t->>'max')::BIGINT as cap_max
from (select unnest(json_keys(getvariable('device_priors')->'ips'->'type_mix')) as r) a,
     (select unnest(json_keys(getvariable('device_priors')->'ips'->'type_mix'->a.r)) as t);
-- Pool size per region: links x (1 + slack) / mean capacity, where a capacity of
-- 1 + floor(lognormal(mu, sigma)) has mean about exp(mu + sigma^2 / 2) + 1/2.
create view pool_cells as
with need as (select region, count(*) as n_links from links group by all),
mean_cap as (
  select region, sum(share * least(cap_max::DOUBLE, pexp(mu + sigma * sigma / 2e0) + 0.5e0)) as c
  from ip_types group by all
)
select t.region as grp, t.cell, t.share as weight,
       ceil(n.n_links * (1e0 + dp('$.ips.slack')::DOUBLE) / m.c)::BIGINT as total
from ip_types t join need n using (region) join mean_cap m using (region);
create table ip_counts as
select c.grp as region, t.ip_type, a.n
from lr_apportion('pool_cells', mix64(getvariable('stream_key'), 5)) a
join pool_cells c using (grp, cell) join ip_types t on t.region = c.grp and t.cell = c.cell;
create table asn_cum as
select grp as ip_type, categories as classes, cumw from cumulative_mixes(getvariable('device_priors')->'ips'->'asn_class');
create table s4_ip_base_6A as
with slots as (
  select c.region, c.ip_type, r.i as slot from ip_counts c, range(c.n) r(i)
), numbered as (
  select row_number() over (order by region, ip_type, slot)::UBIGINT as ip_id, region, ip_type from slots
)
select n.ip_id, n.region, n.ip_type,
       a.classes[pick_index(a.cumw, u01(prf2(getvariable('stream_key'), n.ip_id, 51)))] as asn_class,
       least(t.cap_max, 1 + floor(draw_lognormal(prf2(getvariable('stream_key'), n.ip_id, 52), t.mu, t.sigma))::BIGINT) as capacity
from numbered n join ip_types t using (region, ip_type) join asn_cum a using (ip_type);

-- step: ip_links
-- Deal each region's links to its IPs' capacity slots, both in PRF order: an IP never serves more
-- links than its capacity. A link beyond the region's slots (never expected: the pool has slack)
-- wraps around and is counted by 6A.S5's invariant.
create table ip_slots as
with seqs as (select ip_id, region, unnest(range(capacity)) as j from s4_ip_base_6A)
select ip_id, region, row_number() over (partition by region order by prf2(getvariable('stream_key'), ip_id, 1000 + j), ip_id, j) as slot_rank
from seqs;
create table slot_counts as select region, count(*) as n_slots from ip_slots group by all;
create table s4_ip_links_6A as
with ranked as (
  select l.device_id, l.region,
         row_number() over (partition by l.region order by prf2(getvariable('stream_key'), l.device_id, 2000 + l.link_seq), l.device_id, l.link_seq) as link_rank
  from links l
)
select distinct r.device_id, s.ip_id
from ranked r join slot_counts c using (region)
join ip_slots s on s.region = r.region and s.slot_rank = ((r.link_rank - 1) % c.n_slots) + 1;
