-- step: size
create macro prior(path) as getvariable('party_priors')->>path;
-- PRF lanes (states/_lib/lanes.md): the apportionments' streams and the parties' keys each behind a
-- named lane, so that no party id stands where a lane constant does.
create macro lane(name) as key_of('6A.S1/' || name);
-- arrivals_based_v1: N = 5A's expected weekly arrivals / (arrivals per active party per week x
-- active fraction), clamped; exact DECIMAL sums per legal country of the merchants.
create table arrivals as
select legal_country_iso as country_iso, sum(weekly_arrivals::DECIMAL(38, 12)) as weekly
from merchant_zone_profile_5A group by all;
create table world_size as
select CASE WHEN prior('$.sizing.method') <> 'arrivals_based_v1' THEN error('party_priors: sizing.method must be arrivals_based_v1')
            ELSE greatest(prior('$.sizing.min_parties')::BIGINT, least(prior('$.sizing.max_parties')::BIGINT,
                   floor(sum(weekly)::DOUBLE / (prior('$.sizing.arrivals_per_active_party_week')::DOUBLE * prior('$.sizing.active_fraction')::DOUBLE))::BIGINT)) END as n_parties
from arrivals;

-- step: apportion
-- Countries: a blend of each country's share of expected arrivals (by the merchants' legal country)
-- and of size weight (exact sums).
create view country_cells as
with w as (
  select c.country_iso,
         (coalesce(a.weekly, 0) / (select sum(weekly) from arrivals))::DOUBLE as arrivals_share,
         (c.size_weight::DECIMAL(38, 12) / (select sum(size_weight::DECIMAL(38, 12)) from countries_1A))::DOUBLE as size_share
  from countries_1A c left join arrivals a using (country_iso)
)
select 'world' as grp, row_number() over (order by country_iso)::UBIGINT as cell,
       prior('$.sizing.arrivals_weight')::DOUBLE * arrivals_share + (1e0 - prior('$.sizing.arrivals_weight')::DOUBLE) * size_share as weight,
       (select n_parties from world_size) as total, country_iso
from w;
create table per_country as
select c.country_iso, a.n from lr_apportion('country_cells', mix64(getvariable('stream_key'), lane('country_cells'))) a join country_cells c using (cell);

-- Party types within each country, then segments within each (country, type); alphabetical cells.
create table type_mix as
select t as party_type, (getvariable('party_priors')->'party_types'->t->>'share')::DOUBLE as share,
       row_number() over (order by t)::UBIGINT as cell
from (select unnest(json_keys(getvariable('party_priors')->'party_types')) as t);
create view type_cells as
select p.country_iso as grp, t.cell, t.share as weight, p.n as total from per_country p, type_mix t;
create table per_type as
select a.grp as country_iso, t.party_type, a.n from lr_apportion('type_cells', mix64(getvariable('stream_key'), lane('type_cells'))) a join type_mix t using (cell);

create table segment_mix as
select t.party_type, s as segment, (getvariable('party_priors')->'party_types'->t.party_type->'segments'->>s)::DOUBLE as share,
       row_number() over (partition by t.party_type order by s)::UBIGINT as cell
from type_mix t, (select unnest(json_keys(getvariable('party_priors')->'party_types'->t.party_type->'segments')) as s);
create view segment_cells as
select p.country_iso || '|' || p.party_type as grp, s.cell, s.share as weight, p.n as total
from per_type p join segment_mix s using (party_type);
create table per_segment as
select split_part(a.grp, '|', 1) as country_iso, split_part(a.grp, '|', 2) as party_type, s.segment, a.n
from lr_apportion('segment_cells', mix64(getvariable('stream_key'), lane('segment_cells'))) a
join segment_mix s on s.party_type = split_part(a.grp, '|', 2) and s.cell = a.cell;

-- step: parties
-- Observable attributes: age (retail) uniform in its segment's band; tenure exponential by segment,
-- capped at the adult lifetime. Per segment the policy is read once, and the exponential's
-- quantiles are tabulated once (4 096 of them), so a party's draw is a lookup, not a logarithm.
create table segment_law as
select s as segment, (getvariable('party_priors')->'age_years'->s->>0)::INTEGER as age_lo,
       (getvariable('party_priors')->'age_years'->s->>1)::INTEGER as age_hi,
       list_transform(range(4096), i -> floor(-(getvariable('party_priors')->'tenure_mean_months'->>s)::DOUBLE * pln((i + 0.5e0) / 4096e0))::INTEGER) as tenure_q
from (select unnest(json_keys(getvariable('party_priors')->'tenure_mean_months')) as s);
create table s1_party_base_6A as
with numbered as (
  select row_number() over (order by p.country_iso, p.party_type, p.segment, r.i)::UBIGINT as party_id,
         p.country_iso, c.region, p.party_type, p.segment
  from per_segment p join countries_1A c using (country_iso), range(p.n) r(i)
), keyed as (
  select n.*, prf2(getvariable('stream_key'), lane('party'), n.party_id) as k from numbered n
), aged as (
  select k.*, CASE WHEN l.segment IS NULL THEN error('party_priors: segment ' || k.segment || ' has no tenure_mean_months') ELSE l.tenure_q END as tenure_q,
         CASE WHEN k.party_type <> 'RETAIL' THEN NULL
              WHEN l.age_lo IS NULL THEN error('party_priors: retail segment ' || k.segment || ' has no age_years')
              ELSE (l.age_lo + floor(u01(mix64(k.k, 1)) * (l.age_hi - l.age_lo + 1)))::INTEGER END as age_years
  from keyed k left join segment_law l using (segment)
)
select party_id, country_iso, region, party_type, segment, age_years,
       least(CASE WHEN age_years IS NULL THEN 600 ELSE (age_years - 18) * 12 END, tenure_q[1 + floor(u01(mix64(k, 2)) * 4096)::BIGINT])::INTEGER as tenure_months
from aged;
