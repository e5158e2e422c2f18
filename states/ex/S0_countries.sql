-- step: countries
create table countries_ex as
select row_number() over (order by iso)::UBIGINT as country_id, iso, region, currency, weight::DOUBLE as weight
from countries;
