-- step: apportion
-- Largest remainder: floor shares, then hand out the remaining units by largest fraction.
create table per_country as
with target as (select json_extract(getvariable('params'), '$.merchants')::BIGINT as n),
quota as (select country_id, weight / sum(weight) over () * (select n from target) as q from countries_ex),
base as (select country_id, floor(q)::BIGINT as k, q - floor(q) as frac from quota),
ranked as (select *, row_number() over (order by frac desc, u01(prf(getvariable('stream_key'), country_id)) desc) as r from base)
select country_id, k + case when r <= (select n from target) - (select sum(k) from base) then 1 else 0 end as k from ranked;

-- step: draw
create table merchants_ex as
select row_number() over (order by p.country_id, s.i)::UBIGINT as merchant_id,
       p.country_id,
       case when u01(prf(getvariable('stream_key'), p.country_id * 1000003 + s.i::UBIGINT))
                 < json_extract(getvariable('params'), '$.online_share')::DOUBLE then 'ONLINE' else 'PHYSICAL' end as channel
from per_country p, range(p.k) s(i);
