-- step: seal
create table s0_gate_receipt_1A as from s0_gate_receipt('1A');
create table sealed_inputs_1A as from sealed_files();

-- step: zones
-- The zone table must cover every country, use zones ICU knows (5B converts local times through
-- them) and give each country shares summing to 1; a bad row is an error naming it.
create table zone_problems as
select 'country ' || c.country_iso || ' has no zone in country_zones.csv' as problem from countries_csv c anti join zones_csv z using (country_iso)
union all
select 'country_zones.csv names ' || z.country_iso || ', which is not in countries.csv' from zones_csv z anti join countries_csv c using (country_iso)
union all
select 'country_zones.csv: ' || z.tzid || ' (' || z.country_iso || ') is not an IANA zone known to ICU' from zones_csv z anti join pg_timezone_names() t on t.name = z.tzid
union all
select 'country_zones.csv: the shares of ' || country_iso || ' sum to ' || s || ', not 1'
from (select country_iso, sum(population_share::DECIMAL(38, 12)) as s from zones_csv group by all) where abs(s - 1) > 0.0005;
create table zone_check as
select CASE WHEN count(*) > 0 THEN error(string_agg(problem, '; ' order by problem)) END as ok from zone_problems;

-- step: reference
create table country_zones_1A as
select country_iso, tzid, population_share from zones_csv;
-- The settlement zone of a country: its most populous zone.
create table countries_1A as
select c.country_iso, c.region, c.currency, z.tzid as tz_primary, c.size_weight
from countries_csv c
join (select country_iso, arg_max(tzid, (population_share, tzid)) as tzid from zones_csv group by all) z using (country_iso);
create table mcc_1A as
select mcc, demand_class, cnp_share, virtual_propensity, weight from mcc_csv;
