-- step: sealed
create table sealed_check as from assert_sealed('sealed_inputs_1A');

-- step: apportion
-- Merchants per country: largest remainder over size weights (exact total).
create view country_cells as
select 'world' as grp, row_number() over (order by country_iso)::UBIGINT as cell, size_weight as weight,
       (getvariable('world')->>'merchants')::BIGINT as total
from countries_1A;
create table per_country as
with cells as (select row_number() over (order by country_iso)::UBIGINT as cell, country_iso from countries_1A)
select c.country_iso, a.n from lr_apportion('country_cells', getvariable('stream_key')) a join cells c using (cell);

-- step: draw
-- Random lanes, named: each is an independent draw from a merchant's key.
create macro lane(name) as key_of('1A.S1/' || name);
-- MCCs in code order with their cumulative frequency weights (summed exactly).
create table mcc_cum as
select list(mcc order by mcc) as mccs,
       list(cum order by mcc) as cumw
from (select mcc, (sum(weight::DECIMAL(38, 12)) over (order by mcc rows between unbounded preceding and current row))::DOUBLE as cum from mcc_1A);

-- One key per merchant slot: (country, slot) under this state's stream.
create table slots as
select p.country_iso, s.i::UBIGINT as slot, prf2(getvariable('stream_key'), key_of(p.country_iso), s.i::UBIGINT) as k
from per_country p, range(p.n) s(i);

create table merchants_1A as
with picked as (
  select s.*, c.mccs[pick_index(c.cumw, u01(mix64(s.k, lane('mcc'))))] as mcc
  from slots s, mcc_cum c
), moded as (
  select p.*, x.demand_class, x.cnp_share as mcc_cnp,
         x.virtual_propensity * (getvariable('merchant_policy')->'virtual'->>'online_scale')::DOUBLE as p_online,
         u01(mix64(p.k, lane('virtual_mode'))) as u_mode
  from picked p join mcc_1A x using (mcc)
), classified as (
  select *, CASE
      WHEN u_mode < p_online * (getvariable('merchant_policy')->'virtual'->>'hybrid_share')::DOUBLE THEN 'HYBRID'
      WHEN u_mode < p_online THEN 'VIRTUAL_ONLY'
      ELSE 'PHYSICAL' END as virtual_mode
  from moded
)
select row_number() over (order by country_iso, slot)::UBIGINT as merchant_id,
       mcc, demand_class, country_iso as legal_country_iso, virtual_mode,
       1e0 - cnp as card_present_share, cnp as cnp_share
from (
  select *, CASE virtual_mode WHEN 'VIRTUAL_ONLY' THEN 1e0
                              WHEN 'HYBRID' THEN greatest(mcc_cnp, 0.5e0)
                              ELSE mcc_cnp * 0.3e0 END as cnp
  from classified
);
