-- step: sealed
create table sealed_check as from assert_sealed('sealed_inputs_1A');

-- step: measure
create table per_merchant as
select m.merchant_id, m.virtual_mode,
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
select 'outlet_zone_in_country', 'outlet', o.site_id, o.tzid || ' is not a zone of ' || o.country_iso
from outlets_1A o join countries_1A c using (country_iso)
where o.tzid <> c.tz_primary and o.tzid IS DISTINCT FROM c.tz_secondary;

-- step: checks
create table checks as
with physical as (select * from per_merchant where virtual_mode <> 'VIRTUAL_ONLY'),
totals as (
  select (select count(*) from merchants_1A) as merchants,
         (select count(*) from merchants_1A where virtual_mode <> 'PHYSICAL') as online,
         (select count(*) from physical) as physical,
         (select count(*) from physical where n_outlets = 1) as single,
         (select count(*) from physical where n_countries >= 2) as cross_border,
         (select quantile_disc(n_outlets, 0.99) from physical) as p99,
         (select max(n_outlets) from physical) as max_outlets,
         (select count(*) from outlets_1A) as outlets
), pol as (select getvariable('validation_policy') as p)
select unnest([
  invariant('every_merchant_served', (select count(*) from issue_entities where check_id = 'every_merchant_served'), 0),
  invariant('mode_consistent', (select count(*) from issue_entities where check_id = 'mode_consistent'), 0),
  invariant('outlet_zone_in_country', (select count(*) from issue_entities where check_id = 'outlet_zone_in_country'), 0),
  realism(p, 'virtual_share', online / merchants),
  realism(p, 'single_outlet_share', single / physical),
  realism(p, 'outlets_p99', p99),
  realism(p, 'outlets_max_share', max_outlets / outlets),
  realism(p, 'cross_border_share', cross_border / physical)
], recursive := true)
from totals, pol;

-- step: report
create table validation_report_1A as from validation_report('1A', 'checks');
create table validation_issue_table_1A as from validation_issues('checks', 'issue_entities');
create table gate_verdict as from gate_verdict_of('checks');
