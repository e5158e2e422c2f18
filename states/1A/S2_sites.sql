-- step: sealed
create table sealed_check as from assert_sealed('sealed_inputs_1A');

-- step: outlets
create macro pol(path) as getvariable('merchant_policy')->>path;
-- Random lanes, named: each is an independent draw from a merchant's key k (and a sequence number).
create macro lane(name) as key_of('1A.S2/' || name);
create table keyed as
select m.*, c.region, mix64(getvariable('stream_key'), m.merchant_id) as k
from merchants_1A m join countries_1A c on c.country_iso = m.legal_country_iso;

create table class_scale as
select demand_class, (getvariable('merchant_policy')->'outlets'->'class_scale'->>demand_class)::DOUBLE * pol('$.outlets.scale')::DOUBLE as scale
from (select unnest(json_keys(getvariable('merchant_policy')->'outlets'->'class_scale')) as demand_class);

-- Outlet counts: 1 + floor(Lomax quantile), capped. The n physical and hybrid merchants are dealt
-- the midpoints u = (stratum - 1/2) / n of n equal strata in PRF order (a stratified sample), and
-- each turns its u into outlets with its class's scale: x = scale (u^(-1/shape) - 1).
create table outlet_counts as
with physical as (
  select k.*, row_number() over (order by mix64(k.k, lane('outlet_stratum')), k.merchant_id) as stratum, count(*) over () as n_strata
  from keyed k where k.virtual_mode <> 'VIRTUAL_ONLY'
)
select p.merchant_id, p.legal_country_iso, p.region, p.k,
       least(pol('$.outlets.max')::DOUBLE,
             1e0 + floor(c.scale * (pexp(-pln((p.stratum - 0.5e0) / p.n_strata) / pol('$.outlets.tail_shape')::DOUBLE) - 1e0)))::BIGINT as n_out
from physical p join class_scale c using (demand_class);

-- A second country in the same region, drawn by size weight (cumulative sums are exact).
create table foreign_pick as
with cb as (
  select o.*, greatest(1, floor(o.n_out * pol('$.cross_border.outlet_share')::DOUBLE))::BIGINT as n_foreign
  from outlet_counts o
  where o.n_out >= 2 and u01(mix64(o.k, lane('cross_border'))) < pol('$.cross_border.merchant_share')::DOUBLE
), candidates as (
  select cb.merchant_id, cb.k, cb.n_foreign, c.country_iso,
         (sum(c.size_weight::DECIMAL(38, 12)) over w)::DOUBLE as cum,
         (sum(c.size_weight::DECIMAL(38, 12)) over (partition by cb.merchant_id))::DOUBLE as total
  from cb join countries_1A c on c.region = cb.region and c.country_iso <> cb.legal_country_iso
  window w as (partition by cb.merchant_id order by c.country_iso rows between unbounded preceding and current row)
)
select merchant_id, n_foreign, min(country_iso) filter (where cum > u01(mix64(k, lane('foreign_country'))) * total) as foreign_iso
from candidates group by merchant_id, n_foreign;

-- Zones of each country in tzid order with cumulative population shares (summed exactly).
create table zone_cum as
select country_iso, list(tzid order by tzid) as tzids, list(cum order by tzid) as cumw
from (select country_iso, tzid,
             (sum(population_share::DECIMAL(38, 12)) over (partition by country_iso order by tzid rows between unbounded preceding and current row))::DOUBLE as cum
      from country_zones_1A)
group by country_iso;

-- Each outlet draws its zone in its country by population share.
create table outlets_1A as
with seqs as (
  -- unnest(range(n)), not a lateral range(n) per row: many times faster on millions of rows
  select o.merchant_id, o.k, o.legal_country_iso, unnest(range(o.n_out)) + 1 as outlet_seq, o.n_out, f.n_foreign, f.foreign_iso
  from outlet_counts o left join foreign_pick f using (merchant_id)
), placed as (
  select merchant_id, outlet_seq, k,
         CASE WHEN foreign_iso IS NOT NULL AND outlet_seq > n_out - n_foreign THEN foreign_iso ELSE legal_country_iso END as country_iso
  from seqs
)
select row_number() over (order by p.merchant_id, p.outlet_seq)::UBIGINT as site_id,
       p.merchant_id, p.outlet_seq::INTEGER as outlet_seq, p.country_iso,
       z.tzids[pick_index(z.cumw, u01(prf2(p.k, lane('outlet_zone'), p.outlet_seq)))] as tzid
from placed p join zone_cum z using (country_iso);

-- step: edges
-- Online sellers settle through 1 + Poisson(extra_mean) edges; a share settle abroad (by global
-- weight). An edge sits in its settlement country's most populous zone.
create table country_cum as
select list(country_iso order by country_iso) as isos,
       list(cum order by country_iso) as cumw
from (select country_iso, (sum(size_weight::DECIMAL(38, 12)) over (order by country_iso rows between unbounded preceding and current row))::DOUBLE as cum from countries_1A);

create table virtual_edges_1A as
with lam as (select pol('$.virtual_edges.extra_mean')::DOUBLE as extra, poisson_table(pol('$.virtual_edges.extra_mean')::DOUBLE) as cdf),
counts as (
  select merchant_id, legal_country_iso, k,
         least(pol('$.virtual_edges.max')::BIGINT, 1 + draw_poisson_cdf(mix64(k, lane('edge_count')), lam.extra, lam.cdf)) as n_edges
  from keyed, lam where virtual_mode <> 'PHYSICAL'
), seqs as (
  select merchant_id, legal_country_iso, k, unnest(range(n_edges)) + 1 as edge_seq from counts
), edges as (
  select s.merchant_id, s.edge_seq,
         CASE WHEN u01(prf2(s.k, lane('edge_abroad'), s.edge_seq)) < pol('$.virtual_edges.foreign_share')::DOUBLE
              THEN cc.isos[pick_index(cc.cumw, u01(prf2(s.k, lane('edge_country'), s.edge_seq)))] ELSE s.legal_country_iso END as settlement_country_iso
  from seqs s, country_cum cc
)
select row_number() over (order by e.merchant_id, e.edge_seq)::UBIGINT as edge_id,
       e.merchant_id, e.edge_seq::INTEGER as edge_seq, e.settlement_country_iso, c.tz_primary as tzid
from edges e join countries_1A c on c.country_iso = e.settlement_country_iso;
