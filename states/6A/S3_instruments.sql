-- step: draw
-- PRF lanes (states/_lib/lanes.md): per (account, instrument type) one key, the gate's draw; lane 2
-- its extra count; lane('scheme') then the instrument's seq its scheme (the seq is mixed, not added).
create macro lane(name) as key_of('6A.S3/' || name);
create table inst_prior as
select a.acct as account_type, i as instrument_type,
       (getvariable('instrument_priors')->'per_account_type'->a.acct->i->>'p_first')::DOUBLE as p_first,
       (getvariable('instrument_priors')->'per_account_type'->a.acct->i->>'extra_mean')::DOUBLE as extra_mean,
       poisson_table((getvariable('instrument_priors')->'per_account_type'->a.acct->i->>'extra_mean')::DOUBLE) as cdf
from (select unnest(json_keys(getvariable('instrument_priors')->'per_account_type')) as acct) a,
     (select unnest(json_keys(getvariable('instrument_priors')->'per_account_type'->a.acct)) as i);
-- Per account and instrument type: a first instrument with p_first, then Poisson(extra_mean) more;
-- types in alphabetical order fill the account up to max_per_account.
create table counts as
with drawn as (
  select a.account_id, a.party_id, p.instrument_type,
         CASE WHEN u01(prf2(getvariable('stream_key'), a.account_id, key_of(p.instrument_type))) < p.p_first
              THEN 1 + draw_poisson_cdf(prf3(getvariable('stream_key'), a.account_id, key_of(p.instrument_type), 2), p.extra_mean, p.cdf) ELSE 0 END as n
  from s2_account_base_6A a join inst_prior p using (account_type)
)
select *, sum(n) over (partition by account_id order by instrument_type rows between unbounded preceding and current row) as cum
from drawn;
create table capped as
select account_id, party_id, instrument_type,
       greatest(0, least(n, (getvariable('instrument_priors')->>'max_per_account')::BIGINT - (cum - n)))::BIGINT as n
from counts;

-- step: instruments
create table scheme_cum as
select grp as region, categories as schemes, cumw from cumulative_mixes(getvariable('instrument_priors')->'scheme_mix');
create table s3_instrument_base_6A as
with expanded as (
  select c.account_id, c.party_id, c.instrument_type, unnest(range(c.n)) + 1 as instrument_seq
  from capped c where c.n > 0
)
select row_number() over (order by e.account_id, e.instrument_type, e.instrument_seq)::UBIGINT as instrument_id,
       e.account_id, e.party_id, e.instrument_type,
       CASE WHEN e.instrument_type = 'BANK_TRANSFER' THEN 'RAIL'
            ELSE sc.schemes[pick_index(sc.cumw, u01(mix64(prf3(getvariable('stream_key'), e.account_id, key_of(e.instrument_type), lane('scheme')), e.instrument_seq)))] END as scheme,
       e.instrument_type = 'VIRTUAL_CARD' as is_virtual
from expanded e join s1_party_base_6A p using (party_id) join scheme_cum sc on sc.region = p.region;
create table s3_account_instrument_links_6A as
select account_id, instrument_id from s3_instrument_base_6A;
