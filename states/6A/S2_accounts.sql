-- step: targets
-- Account types per party type come from K_max; lambdas per segment.
create table type_caps as
select pt as party_type, acct as account_type, (getvariable('account_priors')->'K_max'->pt->>acct)::BIGINT as k_max,
       coalesce((getvariable('account_priors')->'zero_gate'->>acct)::DOUBLE, 0e0) as zero_gate,
       row_number() over (order by pt, acct)::BIGINT as type_no
from (select unnest(json_keys(getvariable('account_priors')->'K_max')) as pt) p,
     (select unnest(json_keys(getvariable('account_priors')->'K_max'->p.pt)) as acct);
-- Cells (country, party type, segment) get numbers: the big tables below group by a number
-- (cell_no * 64 + type_no), not by a string, which keeps millions of rows cheap to sort and hash.
create table cells as
select *, row_number() over (order by country_iso, party_type, segment)::BIGINT as cell_no
from (select country_iso, party_type, segment, count(*) as n_parties from s1_party_base_6A group by all);
-- Per (party type, account type): one total, round(sum of n x lambda) over all cells, apportioned
-- to the cells by largest remainder (so no cell is rounded on its own).
create table cell_weights as
select c.cell_no * 64 + t.type_no as grp_no, c.party_type, t.account_type,
       c.n_parties * coalesce((getvariable('account_priors')->'lambda'->c.segment->>t.account_type)::DOUBLE, 0e0) as weight
from cells c join type_caps t using (party_type);
create view cell_quota_src as
select w.party_type || '|' || w.account_type as grp, w.grp_no::UBIGINT as cell, w.weight,
       (select round(sum(x.weight::DECIMAL(38, 12)))::BIGINT from cell_weights x where x.party_type = w.party_type and x.account_type = w.account_type) as total
from cell_weights w;
create table cell_targets as
select a.cell::BIGINT as grp_no, split_part(a.grp, '|', 1) as party_type, split_part(a.grp, '|', 2) as account_type, a.n as target
from lr_apportion('cell_quota_src', mix64(getvariable('stream_key'), 1)) a;

-- step: allocate
-- Each party: eligible for a type unless zero-gated, with a lognormal weight; if a cell has no
-- eligible party for a type, every party of the cell is eligible.
create table party_draws as
with gated as (
  select p.party_id, c.cell_no * 64 + t.type_no as grp_no, p.party_type, t.account_type, t.k_max,
         u01(prf2(getvariable('stream_key'), p.party_id, key_of(t.account_type))) >= t.zero_gate as gated_in
  from s1_party_base_6A p join cells c using (country_iso, party_type, segment) join type_caps t using (party_type)
)
-- the lognormal weight is drawn only for parties gated in (CASE evaluates it for those rows only)
select *, CASE WHEN gated_in THEN draw_lognormal(prf3(getvariable('stream_key'), party_id, key_of(account_type), 2), 0e0, (getvariable('account_priors')->>'weight_sigma')::DOUBLE) END as w
from gated;
create table eligible as
select d.*, d.gated_in OR NOT bool_or(d.gated_in) over (partition by d.grp_no) as is_eligible
from party_draws d;
-- In a cell where nobody was gated in, everyone is eligible with equal weight.
create view first_pass_src as
select e.grp_no as grp, e.party_id as cell,
       CASE WHEN NOT e.is_eligible THEN 0e0 WHEN e.gated_in THEN e.w ELSE 1e0 END as weight, t.target as total
from eligible e join cell_targets t using (grp_no);
create table first_pass as
select e.party_id, e.grp_no, e.party_type, e.account_type, e.k_max, e.w, a.n
from lr_apportion('first_pass_src', mix64(getvariable('stream_key'), 2)) a
join eligible e on e.party_id = a.cell and e.grp_no = a.grp;

-- The hard cap, then the overflow goes to parties of the same cell with headroom, weighted by
-- headroom (so no share exceeds a party's room), capped again; what finds no room is counted as dropped.
create table capped as
select *, least(n, k_max) as n_cap, n - least(n, k_max) as overflow, k_max - least(n, k_max) as headroom from first_pass;
-- Only cells that overflowed take part (most do not).
create table overflowing as
select grp_no, sum(overflow) as total from capped group by all having sum(overflow) > 0;
create view second_pass_src as
select c.grp_no as grp, c.party_id as cell, c.headroom::DOUBLE as weight, o.total
from capped c join overflowing o using (grp_no);
create table second_pass as
select c.*, CASE WHEN a.n IS NULL THEN 0 ELSE least(a.n, c.headroom) END as extra,  -- least() skips NULLs
       CASE WHEN a.n IS NULL THEN 0 ELSE a.n - least(a.n, c.headroom) END as unplaced
from capped c left join lr_apportion('second_pass_src', mix64(getvariable('stream_key'), 3)) a
  on a.cell = c.party_id and a.grp = c.grp_no;

-- The last few units (largest-remainder rounding can hand a party one more than its headroom)
-- go one each to the parties of the cell with the most headroom left, PRF order among equals.
create table third_pass as
with left_over as (
  select grp_no, sum(unplaced) as u from second_pass group by all having sum(unplaced) > 0
), room as (
  select s.party_id, s.grp_no,
         row_number() over (partition by s.grp_no
                            order by s.headroom - s.extra desc, prf3(getvariable('stream_key'), s.party_id, key_of(s.account_type), 4), s.party_id) as rk
  from second_pass s semi join left_over l using (grp_no)
  where s.headroom - s.extra > 0
)
select s.*, CASE WHEN r.rk <= l.u THEN 1 ELSE 0 END as last
from second_pass s
left join left_over l using (grp_no)
left join room r using (party_id, grp_no);

-- step: accounts
create table s2_party_holdings_6A as
select party_id, account_type, (n_cap + extra + last)::BIGINT as n_accounts from third_pass where n_cap + extra + last > 0;
create table s2_account_base_6A as
with seqs as (select party_id, account_type, unnest(range(n_accounts)) as i from s2_party_holdings_6A)
select row_number() over (order by s.party_id, s.account_type, s.i)::UBIGINT as account_id,
       s.party_id, p.party_type, s.account_type, (s.i + 1)::INTEGER as account_seq
from seqs s join s1_party_base_6A p using (party_id);
create table s2_allocation_counters_6A as
with agg as (
  select party_type, account_type, any_value(k_max)::BIGINT as k_max, sum(overflow)::BIGINT as overflow,
         sum(extra + last)::BIGINT as redistributed, sum(n_cap + extra + last)::BIGINT as allocated
  from third_pass group by all
), tgt as (select party_type, account_type, sum(target)::BIGINT as target from cell_targets group by all)
select a.party_type, a.account_type, a.k_max, coalesce(t.target, 0) as target, a.overflow, a.redistributed,
       coalesce(t.target, 0) - a.allocated as dropped, a.allocated
from agg a left join tgt t using (party_type, account_type);
