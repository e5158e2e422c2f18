-- step: checks
create table checks as
select 'total_conserved' as id, count(*)::DOUBLE as value,
       count(*) = json_extract(getvariable('params'), '$.merchants')::BIGINT as ok
from merchants_ex
union all
select 'countries_served', count(distinct country_id)::DOUBLE, count(distinct country_id) = (select count(*) from countries_ex)
from merchants_ex;

-- step: report
create table validation_report_ex as
select json_object('passed', bool_and(ok),
                   'checks', list(json_object('id', id, 'status', case when ok then 'PASS' else 'FAIL' end, 'value', value) order by id)) as doc
from checks;
create table gate_verdict as select bool_and(ok) as passed from checks;
