-- step: targets
create macro ap(path) as getvariable('account_priors')->>path;
-- PRF lanes (states/_lib/lanes.md): named; a party's id is mixed in after its lane, never beside one.
create macro lane(name) as key_of('6A.S2/' || name);
-- 1 + Poisson(lam) conditioned on <= kmax extra units: the inverse CDF of the truncated law, from
-- the same terms as poisson_inv (p_k = p_{k-1} lam / k), so no mass piles up at the cap.
-- The truncated CDF of 1 + Poisson(lam) extra units conditioned on <= kmax: the terms of
-- poisson_inv (p_k = p_{k-1} lam / k) up to kmax, divided by their sum, so no mass piles up at a cap.
create macro poisson_trunc_cdf(lam, kmax) as list_transform([list_reduce(
    list_transform(range(1, kmax::BIGINT + 1), j -> {'p': j::DOUBLE, 'f': [0e0]}),
    (acc, x) -> {'p': acc.p * lam::DOUBLE / x.p, 'f': list_append(acc.f, acc.f[-1] + acc.p * lam::DOUBLE / x.p)},
    {'p': pexp(-lam::DOUBLE), 'f': [pexp(-lam::DOUBLE)]}).f], f -> list_transform(f, c -> c / f[-1]))[1];
-- Account types per party type come from K_max; lambdas per segment.
create table type_caps as
select pt as party_type, acct as account_type, (getvariable('account_priors')->'K_max'->pt->>acct)::BIGINT as k_max,
       coalesce((getvariable('account_priors')->'zero_gate'->>acct)::DOUBLE, 0e0) as zero_gate,
       acct = (getvariable('account_priors')->'primary'->>pt) as is_primary
from (select unnest(json_keys(getvariable('account_priors')->'K_max')) as pt) p,
     (select unnest(json_keys(getvariable('account_priors')->'K_max'->p.pt)) as acct);
-- Each (cell, account type), a cell being a (country, party type, segment), gets a number of its
-- own, grp_no (a row number: distinct whatever the count of types): the big tables below group by
-- it, not by strings, which keeps millions of rows cheap to sort and hash.
create table cell_types as
select c.country_iso, c.party_type, c.segment, c.n_parties, t.account_type,
       row_number() over (order by c.country_iso, c.party_type, c.segment, t.account_type)::BIGINT as grp_no
from (select country_iso, party_type, segment, count(*) as n_parties from s1_party_base_6A group by all) c
join type_caps t using (party_type);
-- Per (party type, account type): one total, round(sum of n x lambda) over all cells, apportioned
-- to the cells by largest remainder (so no cell is rounded on its own).
create table cell_weights as
select grp_no, party_type, segment, account_type,
       n_parties * coalesce((getvariable('account_priors')->'lambda'->segment->>account_type)::DOUBLE, 0e0) as weight
from cell_types;
create view cell_quota_src as
select w.party_type || '|' || w.account_type as grp, w.grp_no::UBIGINT as cell, w.weight,
       (select round(sum(x.weight::DECIMAL(38, 12)))::BIGINT from cell_weights x where x.party_type = w.party_type and x.account_type = w.account_type) as total
from cell_weights w;
create table cell_targets as
select a.cell::BIGINT as grp_no, split_part(a.grp, '|', 1) as party_type, split_part(a.grp, '|', 2) as account_type, a.n as target
from lr_apportion('cell_quota_src', mix64(getvariable('stream_key'), lane('cell_targets'))) a;
-- Per segment and account type: the share of parties holding it (every party holds its primary
-- product; other types min(1 - zero_gate, lambda)), and the Poisson mean of the extra accounts,
-- so that holders average lambda / share.
create table type_law as
select s.segment, t.party_type, t.account_type, key_of(t.account_type) as type_key, t.k_max, t.is_primary,
       CASE WHEN t.is_primary THEN 1e0 ELSE least(1e0 - t.zero_gate, s.lam) END as p_hold,
       CASE WHEN s.lam > 0 THEN greatest(0e0, s.lam / CASE WHEN t.is_primary THEN 1e0 ELSE least(1e0 - t.zero_gate, s.lam) END - 1e0) ELSE 0e0 END as mu
from type_caps t join (
  select seg as segment, acct as account_type, (getvariable('account_priors')->'lambda'->seg->>acct)::DOUBLE as lam
  from (select unnest(json_keys(getvariable('account_priors')->'lambda')) as seg) a,
       (select unnest(json_keys(getvariable('account_priors')->'lambda'->a.seg)) as acct)
) s using (account_type);

-- step: draw
-- Per segment and type, the law of a holder's count: 1 + Poisson(mu x w) <= K_max, mixed over
-- w lognormal with mean 1 (256 PRF draws of w, the truncated CDFs averaged as exact DECIMAL sums).
-- Each party then draws from that law: a Poisson-lognormal count without a CDF per row.
create table type_cdf as
with ws as (
  select l.segment, l.account_type, l.mu, l.k_max, q.q,
         draw_lognormal(prf3(getvariable('stream_key'), key_of(l.segment || '/' || l.account_type), key_of('mix_weight'), q.q),
                        -0.5e0 * pow((getvariable('account_priors')->>'weight_sigma')::DOUBLE, 2), (getvariable('account_priors')->>'weight_sigma')::DOUBLE) as w
  from type_law l, (select unnest(range(256)) as q) q
), cdfs as (
  select segment, account_type, q, unnest(poisson_trunc_cdf(mu * w, k_max - 1)) as f, generate_subscripts(poisson_trunc_cdf(mu * w, k_max - 1), 1) as k
  from ws
)
select segment, account_type, list((f_sum / 256)::DOUBLE order by k) as cumw
from (select segment, account_type, k, sum(f::DECIMAL(38, 18)) as f_sum from cdfs group by segment, account_type, k)
group by segment, account_type;
-- Each party and type: held with p_hold, then its count from the type's law. One key per
-- (party, type), k; its lanes: k itself the gate, 1 the count, 2 the conservation order, 3 account ages.
create table gated as
with keyed as (
  select p.party_id, p.segment, g.grp_no, p.party_type, l.account_type, l.k_max, l.is_primary, l.p_hold,
         prf3(getvariable('stream_key'), lane('holding'), p.party_id, l.type_key) as k
  from s1_party_base_6A p join cell_types g using (country_iso, party_type, segment) join type_law l using (party_type, segment, account_type)
)
select *, p_hold > 0 AND u01(k) < p_hold as gated_in from keyed;
create table party_draws as
select h.party_id, h.grp_no, h.party_type, h.account_type, h.k_max, h.is_primary, h.k, h.gated_in as holds,
       CASE WHEN h.gated_in THEN pick_index(c.cumw, u01(mix64(h.k, 1))) ELSE 0 END as n
from gated h join type_cdf c using (segment, account_type);

-- step: conserve
-- Bring each cell's drawn total to its exact target, one account per party: a cell short of its
-- target adds to holders with room (then to non-holders), a cell above it takes back from the
-- largest holders first (never below one account). What cannot be placed is counted, never hidden.
create table cell_gap as
select d.grp_no, t.target, sum(d.n) as drawn, t.target - sum(d.n) as gap
from party_draws d join cell_targets t using (grp_no) group by d.grp_no, t.target;
-- Units a party can give or take: one per round, as many rounds as the gap needs (usually one).
create table adjusted as
with cand as (
  select d.*, g.gap, d.k_max - d.n as room,
         -- every party keeps one account of its primary product
         CASE WHEN d.is_primary THEN d.n - 1 ELSE d.n END as spare
  from party_draws d join cell_gap g using (grp_no) where g.gap <> 0
), movable as (
  select *, CASE WHEN gap > 0 THEN room ELSE spare END as movable from cand
  where (gap > 0 AND room > 0) OR (gap < 0 AND spare > 0)
), hist as (
  select grp_no, any_value(gap) as gap, movable, count(*) as cnt from movable group by grp_no, movable
), caps as (
  select h.grp_no, r.r, any_value(h.gap) as gap, sum(h.cnt * least(h.movable, r.r)) as cap
  from hist h, (select unnest(range(1, 1 + (select max(movable) from movable))) as r) r
  group by h.grp_no, r.r
), rounds as (
  -- per cell, the fewest rounds r with sum(min(movable, r)) >= |gap|, from a histogram
  select grp_no, coalesce(min(r) filter (where cap >= abs(gap)), max(r)) as r from caps group by grp_no
), units as (
  select m.party_id, m.grp_no, m.account_type, m.k, m.n, m.gap, unnest(range(least(m.movable, r.r))) as round
  from movable m join rounds r using (grp_no)
), ranked as (
  select u.*, row_number() over (partition by u.grp_no
                                 order by u.round, CASE WHEN u.gap > 0 THEN (CASE WHEN u.n > 0 THEN 0 ELSE 1 END) ELSE -u.n END,
                                          mix64(u.k, 2), u.party_id) as rk
  from units u
), taken as (
  select party_id, grp_no, sum(CASE WHEN gap > 0 THEN 1 ELSE -1 END) as adj from ranked where rk <= abs(gap) group by all
)
select d.party_id, d.grp_no, d.party_type, d.account_type, d.k_max, d.k, d.n, coalesce(t.adj, 0) as adj
from party_draws d left join taken t using (party_id, grp_no);

-- step: accounts
create table holdings as
select party_id, account_type, k, (n + adj)::BIGINT as n_accounts from adjusted where n + adj > 0;
create table s2_party_holdings_6A as select party_id, account_type, n_accounts from holdings;
-- Account age: the first primary account was opened when the party joined; every other account
-- at a uniform time since then.
create table s2_account_base_6A as
with seqs as (select party_id, account_type, k, unnest(range(n_accounts)) as i from holdings)
select row_number() over (order by s.party_id, s.account_type, s.i)::UBIGINT as account_id,
       s.party_id, p.party_type, s.account_type, (s.i + 1)::INTEGER as account_seq,
       CASE WHEN s.i = 0 AND s.account_type = (getvariable('account_priors')->'primary'->>p.party_type) THEN p.tenure_months
            ELSE floor(u01(mix64(mix64(s.k, 3), s.i)) * (p.tenure_months + 1))::INTEGER
       END as opened_months_ago
from seqs s join s1_party_base_6A p using (party_id);
create table s2_allocation_counters_6A as
with agg as (
  select a.party_type, a.account_type, any_value(a.k_max)::BIGINT as k_max,
         sum(a.n)::BIGINT as drawn, sum(a.adj) filter (where a.adj > 0)::BIGINT as added,
         sum(-a.adj) filter (where a.adj < 0)::BIGINT as removed, sum(a.n + a.adj)::BIGINT as allocated
  from adjusted a group by all
), gaps as (
  select t.party_type, t.account_type, sum(t.target)::BIGINT as target
  from cell_targets t group by all
), misses as (
  select t.party_type, t.account_type,
         sum(greatest(0, g.target - a.allocated))::BIGINT as dropped, sum(greatest(0, a.allocated - g.target))::BIGINT as excess
  from cell_gap g join cell_targets t using (grp_no)
  join (select grp_no, sum(n + adj) as allocated from adjusted group by all) a using (grp_no)
  group by all
)
select a.party_type, a.account_type, a.k_max, coalesce(g.target, 0) as target, a.drawn,
       coalesce(a.added, 0) as added, coalesce(a.removed, 0) as removed,
       coalesce(m.dropped, 0) as dropped, coalesce(m.excess, 0) as excess, a.allocated
from agg a left join gaps g using (party_type, account_type) left join misses m using (party_type, account_type);
