-- Largest-remainder apportionment (ENGINE.md "Laws"): every group's total is conserved exactly.
-- lr_apportion('src', stream): src is a table or view with columns
--   grp (any type), cell (UBIGINT, unique within grp), weight (DOUBLE >= 0), total (BIGINT, same per grp).
-- Each cell gets floor(quota); the units left over go to the largest fractions, ties broken by a
-- PRF draw of the cell under `stream`. Weights are summed as DECIMAL: an exact sum does not depend
-- on thread count or order, so neither do the quotas.
create or replace macro lr_apportion(src, stream) as table
with cells as (
  select grp, cell, weight::DECIMAL(38, 12) as w, total from query_table(src)
), quotas as (
  select grp, cell, total,
         CASE WHEN sum(w) over (partition by grp) > 0 THEN (w / sum(w) over (partition by grp))::DOUBLE * total
              WHEN total = 0 THEN 0e0
              -- a positive total cannot be conserved over cells that all weigh 0
              ELSE error('lr_apportion: group ' || grp::VARCHAR || ' has total ' || total || ' but every weight is 0') END as quota
  from cells
), floors as (
  select grp, cell, total, floor(quota)::BIGINT as base, quota - floor(quota) as frac from quotas
), ranked as (
  select grp, cell, base,
         total - sum(base) over (partition by grp) as left_over,
         row_number() over (partition by grp order by frac desc, mix64(stream, cell) desc, cell) as rank_in_grp
  from floors
)
select grp, cell, base + CASE WHEN rank_in_grp <= left_over THEN 1 ELSE 0 END as n
from ranked;

-- Categorical mixes for pick_index: mixes is a JSON object group -> {category: weight}; one row per
-- group with its categories in alphabetical order and their cumulative weights (summed exactly).
create or replace macro cumulative_mixes(mixes) as table
select grp, list(cat order by cat) as categories, list(cum order by cat) as cumw
from (
  select a.grp, c as cat,
         (sum(((a.m->a.grp->>c)::DOUBLE)::DECIMAL(38, 12)) over (partition by a.grp order by c rows between unbounded preceding and current row))::DOUBLE as cum
  from (select m, unnest(json_keys(m)) as grp from (select mixes::JSON as m)) a, (select unnest(json_keys(a.m->a.grp)) as c)
) group by grp;
