-- step: sealed
create table sealed_check as from assert_sealed('sealed_inputs_1A');

-- step: measure
create macro ref(path) as getvariable('realism_reference')->>path;
create table per_merchant as
select m.merchant_id, m.mcc, m.demand_class, m.virtual_mode,
       coalesce(o.n, 0) as n_outlets, coalesce(o.countries, 0) as n_countries, coalesce(e.n, 0) as n_edges
from merchants_1A m
left join (select merchant_id, count(*) as n, count(distinct country_iso) as countries from outlets_1A group by all) o using (merchant_id)
left join (select merchant_id, count(*) as n from virtual_edges_1A group by all) e using (merchant_id);

create table issue_entities as
select 'every_merchant_served' as check_id, 'merchant' as entity_type, merchant_id as entity_id, 'no outlet and no edge' as detail
from per_merchant where n_outlets = 0 and n_edges = 0
union all
select 'mode_consistent', 'merchant', merchant_id, virtual_mode || ' with ' || n_outlets || ' outlets, ' || n_edges || ' edges'
from per_merchant where (virtual_mode = 'PHYSICAL' and n_edges > 0) or (virtual_mode = 'VIRTUAL_ONLY' and n_outlets > 0)
union all
select 'outlet_zone_in_country', 'outlet', o.site_id, o.tzid || ' is not a populated zone of ' || o.country_iso
from outlets_1A o anti join (select * from country_zones_1A where population_share > 0) z on z.country_iso = o.country_iso and z.tzid = o.tzid
union all
select 'edge_zone_in_country', 'edge', e.edge_id, e.tzid || ' is not a zone of ' || e.settlement_country_iso
from virtual_edges_1A e anti join country_zones_1A z on z.country_iso = e.settlement_country_iso and z.tzid = e.tzid;

-- MCC concentration: merchants in the most frequent codes (ties at the cut do not change the sum).
create table mcc_counts as
select mcc, count(*) as n, row_number() over (order by count(*) desc, mcc) as rk from per_merchant group by mcc;

-- Demand-class mix against the reference mix: Jensen-Shannon divergence, log base 2, terms summed
-- as DECIMAL (exact, so the order of a parallel sum cannot change the value); pln is portable.
create table class_mix as
with ref_mix as (
  select c as demand_class, (getvariable('realism_reference')->'mcc_class_mix'->>c)::DOUBLE as w
  from (select unnest(json_keys(getvariable('realism_reference')->'mcc_class_mix')) as c)
), realised as (
  select demand_class, count(*) as n from per_merchant group by all
), joined as (
  select demand_class, coalesce(r.n, 0)::DOUBLE / (select count(*) from per_merchant) as p, coalesce(q.w, 0) / (select sum(w) from ref_mix) as q
  from realised r full join ref_mix q using (demand_class)
)
select demand_class, p, q, (p + q) / 2 as m from joined;
create table class_jsd as
select sum(((CASE WHEN p > 0 THEN 0.5e0 * p * pln(p / m) ELSE 0e0 END
           + CASE WHEN q > 0 THEN 0.5e0 * q * pln(q / m) ELSE 0e0 END) / pln(2e0))::DECIMAL(38, 15))::DOUBLE as jsd
from class_mix;

-- Outlet tail: Hill estimator of the survival exponent over the top k merchants (k a share of the
-- physical and hybrid ones), threshold the (k+1)-th count; for discrete counts the continuous
-- approximation with threshold - 1/2 (Clauset, Shalizi and Newman 2009, SIAM Review 51:661).
create table tail_index as
with physical as (select n_outlets, row_number() over (order by n_outlets desc, merchant_id) as rk from per_merchant where virtual_mode <> 'VIRTUAL_ONLY'),
k as (select greatest(1, ceil(count(*) * ref('$.tail_index_top_share')::DOUBLE))::BIGINT as k from physical),
threshold as (select p.n_outlets - 0.5e0 as x0 from physical p, k where p.rk = k.k + 1)
select k.k as n_tail, k.k / sum(pln(p.n_outlets / t.x0)::DECIMAL(38, 12))::DOUBLE as alpha
from physical p, k, threshold t where p.rk <= k.k group by k.k;

-- Zones: realised outlet share per zone against the population share, in the reference countries
-- with enough outlets; a realised zone the reference lacks counts against a share of 0.
create table zone_errors as
with ref_zones as (
  select c as country_iso, z as tzid, (getvariable('realism_reference')->'zone_population_shares'->'countries'->c->>z)::DOUBLE as share
  from (select unnest(json_keys(getvariable('realism_reference')->'zone_population_shares'->'countries')) as c),
       (select unnest(json_keys(getvariable('realism_reference')->'zone_population_shares'->'countries'->c)) as z)
), per_country as (
  select country_iso, count(*) as n from outlets_1A
  where country_iso in (select country_iso from ref_zones) group by all
  having count(*) >= ref('$.zone_population_shares.min_outlets')::BIGINT
), realised as (
  select o.country_iso, o.tzid, count(*)::DOUBLE / c.n as share from outlets_1A o join per_country c using (country_iso) group by o.country_iso, o.tzid, c.n
)
select country_iso, tzid, coalesce(r.share, 0) as realised, coalesce(f.share, 0) as reference, abs(coalesce(r.share, 0) - coalesce(f.share, 0)) as abs_error
from realised r full join (select * from ref_zones where country_iso in (select country_iso from per_country)) f using (country_iso, tzid);

-- step: checks
create table checks as
with physical as (select * from per_merchant where virtual_mode <> 'VIRTUAL_ONLY'),
ranked as (select n_outlets, row_number() over (order by n_outlets desc, merchant_id) as rk from physical),
totals as (
  select (select count(*) from merchants_1A) as merchants,
         (select count(*) from merchants_1A where virtual_mode <> 'PHYSICAL') as online,
         (select count(*) from physical) as physical,
         (select count(*) from physical where n_outlets = 1) as single,
         (select count(*) from physical where n_countries >= 2) as cross_border,
         (select quantile_disc(n_outlets, 0.99) from physical) as p99,
         (select max(n_outlets) from physical) as max_outlets,
         (select sum(n_outlets) from ranked where rk <= ceil((select count(*) from physical) / 100)) as top1_outlets,
         (select count(*) from outlets_1A) as outlets,
         (select count(*) from virtual_edges_1A) as edges,
         (select sum(n) from mcc_counts where rk <= ref('$.mcc_top_codes')::BIGINT) as top_mcc_merchants,
         (select count(*) from mcc_counts) as mccs_used,
         (select jsd from class_jsd) as jsd,
         (select alpha from tail_index) as tail_alpha,
         (select n_tail from tail_index) as n_tail,
         (select max(abs_error) from zone_errors) as zone_error,
         (select count(distinct country_iso) from zone_errors) as zone_countries
), pol as (select getvariable('validation_policy') as p)
select unnest([
  invariant('every_merchant_served', (select count(*) from issue_entities where check_id = 'every_merchant_served'), 0),
  invariant('mode_consistent', (select count(*) from issue_entities where check_id = 'mode_consistent'), 0),
  invariant('outlet_zone_in_country', (select count(*) from issue_entities where check_id = 'outlet_zone_in_country'), 0),
  invariant('edge_zone_in_country', (select count(*) from issue_entities where check_id = 'edge_zone_in_country'), 0),
  realism(p, 'virtual_share', online / merchants),
  realism(p, 'cross_border_share', cross_border / physical),
  realism(p, 'single_outlet_share', single / physical),
  realism(p, 'outlets_p99', p99),
  realism(p, 'top1pct_outlet_share', top1_outlets / outlets),
  realism(p, 'outlets_tail_index', tail_alpha),
  realism(p, 'mcc_top10_share', top_mcc_merchants / merchants),
  realism(p, 'mcc_class_jsd', jsd),
  realism(p, 'zone_share_max_error', zone_error),
  metric('merchants', merchants),
  metric('physical_merchants', physical),
  metric('outlets', outlets),
  metric('virtual_edges', edges),
  metric('sites', outlets + edges),
  metric('outlets_max', max_outlets),
  metric('outlets_max_share', max_outlets / outlets),
  metric('outlets_tail_merchants', n_tail),
  metric('mccs_used', mccs_used),
  metric('zone_countries_measured', zone_countries)
], recursive := true)
from totals, pol;

-- step: report
create table validation_report_1A as from validation_report('1A', 'checks');
create table validation_issue_table_1A as from validation_issues('checks', 'issue_entities');
create table gate_verdict as from gate_verdict_of('checks');
