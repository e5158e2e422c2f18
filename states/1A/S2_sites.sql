-- step: sealed
create table sealed_check as from assert_sealed('sealed_inputs_1A');

-- step: outlets
create macro pol(path) as getvariable('merchant_policy')->>path;
create table keyed as
select m.*, c.region, mix64(getvariable('stream_key'), m.merchant_id) as k
from merchants_1A m join countries_1A c on c.country_iso = m.legal_country_iso;

-- Outlet counts: 1 + floor(lognormal), capped; cross-border merchants put a share abroad.
create table outlet_counts as
select merchant_id, legal_country_iso, region, k,
       least(pol('$.outlets.max')::BIGINT,
             1 + floor(draw_lognormal(mix64(k, 11), pol('$.outlets.lognormal_mu')::DOUBLE, pol('$.outlets.lognormal_sigma')::DOUBLE))::BIGINT) as n_out
from keyed where virtual_mode <> 'VIRTUAL_ONLY';

-- A second country in the same region, drawn by size weight (cumulative sums are exact).
create table foreign_pick as
with cb as (
  select o.*, greatest(1, floor(o.n_out * pol('$.cross_border.outlet_share')::DOUBLE))::BIGINT as n_foreign
  from outlet_counts o
  where o.n_out >= 2 and u01(mix64(o.k, 12)) < pol('$.cross_border.merchant_share')::DOUBLE
), candidates as (
  select cb.merchant_id, cb.k, cb.n_foreign, c.country_iso,
         (sum(c.size_weight::DECIMAL(38, 12)) over w)::DOUBLE as cum,
         (sum(c.size_weight::DECIMAL(38, 12)) over (partition by cb.merchant_id))::DOUBLE as total
  from cb join countries_1A c on c.region = cb.region and c.country_iso <> cb.legal_country_iso
  window w as (partition by cb.merchant_id order by c.country_iso rows between unbounded preceding and current row)
)
select merchant_id, n_foreign, min(country_iso) filter (where cum > u01(mix64(k, 13)) * total) as foreign_iso
from candidates group by merchant_id, n_foreign;

create table outlets_1A as
with seqs as (
  -- unnest(range(n)), not a lateral range(n) per row: many times faster on millions of rows
  select o.merchant_id, o.k, o.legal_country_iso, unnest(range(o.n_out)) + 1 as outlet_seq, o.n_out, f.n_foreign, f.foreign_iso
  from outlet_counts o left join foreign_pick f using (merchant_id)
), placed as (
  select merchant_id, outlet_seq,
         CASE WHEN foreign_iso IS NOT NULL AND outlet_seq > n_out - n_foreign THEN foreign_iso ELSE legal_country_iso END as country_iso,
         mix64(k, 1000 + outlet_seq) as site_key
  from seqs
)
select row_number() over (order by p.merchant_id, p.outlet_seq)::UBIGINT as site_id,
       p.merchant_id, p.outlet_seq::INTEGER as outlet_seq, p.country_iso,
       CASE WHEN c.tz_secondary IS NOT NULL AND u01(mix64(p.site_key, 21)) < pol('$.secondary_zone_share')::DOUBLE
            THEN c.tz_secondary ELSE c.tz_primary END as tzid
from placed p join countries_1A c using (country_iso);

-- step: edges
-- Online sellers settle through 1 + Poisson(extra_mean) edges; a share settle abroad (by global weight).
create table country_cum as
select list(country_iso order by country_iso) as isos,
       list(cum order by country_iso) as cumw
from (select country_iso, (sum(size_weight::DECIMAL(38, 12)) over (order by country_iso rows between unbounded preceding and current row))::DOUBLE as cum from countries_1A);

create table virtual_edges_1A as
with lam as (select pol('$.virtual_edges.extra_mean')::DOUBLE as extra, poisson_table(pol('$.virtual_edges.extra_mean')::DOUBLE) as cdf),
counts as (
  select merchant_id, legal_country_iso, k,
         least(pol('$.virtual_edges.max')::BIGINT, 1 + draw_poisson_cdf(mix64(k, 31), lam.extra, lam.cdf)) as n_edges
  from keyed, lam where virtual_mode <> 'PHYSICAL'
), seqs as (
  select merchant_id, legal_country_iso, k, unnest(range(n_edges)) as i from counts
), edges as (
  select s.merchant_id, s.i + 1 as edge_seq,
         CASE WHEN u01(mix64(s.k, 2000 + s.i)) < pol('$.virtual_edges.foreign_share')::DOUBLE
              THEN cc.isos[pick_index(cc.cumw, u01(mix64(s.k, 3000 + s.i)))] ELSE s.legal_country_iso END as settlement_country_iso
  from seqs s, country_cum cc
)
select row_number() over (order by e.merchant_id, e.edge_seq)::UBIGINT as edge_id,
       e.merchant_id, e.edge_seq::INTEGER as edge_seq, e.settlement_country_iso, c.tz_primary as tzid
from edges e join countries_1A c on c.country_iso = e.settlement_country_iso;
