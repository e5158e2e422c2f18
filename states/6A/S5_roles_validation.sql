-- step: sealed
create table sealed_check as from assert_sealed('sealed_inputs_6A');

-- step: party_roles
create macro fp(path) as getvariable('fraud_priors')->>path;
create table families as
select r as raw_role, getvariable('fraud_priors')->'role_families'->>r as role_family
from (select unnest(json_keys(getvariable('fraud_priors')->'role_families')) as r);
-- Raw roles apportioned exactly per country (largest remainder), dealt to parties in PRF order.
create table party_role_mix as
select r as raw_role, (getvariable('fraud_priors')->'party_roles'->>r)::DOUBLE as share, row_number() over (order by r)::UBIGINT as cell
from (select unnest(json_keys(getvariable('fraud_priors')->'party_roles')) as r);
create view party_role_cells as
select c.country_iso as grp, m.cell, m.share as weight, c.n as total
from (select country_iso, count(*) as n from s1_party_base_6A group by all) c, party_role_mix m;
create table party_role_counts as
select a.grp as country_iso, m.raw_role, a.n,
       sum(a.n) over (partition by a.grp order by m.raw_role rows between unbounded preceding and current row) as upto
from lr_apportion('party_role_cells', mix64(getvariable('stream_key'), 1)) a join party_role_mix m using (cell);
create table party_ranked as
select party_id, country_iso, row_number() over (partition by country_iso order by mix64(getvariable('stream_key'), party_id), party_id) as rk
from s1_party_base_6A;
create table s5_party_roles_6A as
select p.party_id as entity_id, c.raw_role, coalesce(f.role_family, 'UNMAPPED') as role_family, c.raw_role <> 'clean' as is_risky
from party_ranked p join party_role_counts c on c.country_iso = p.country_iso and p.rk > c.upto - c.n and p.rk <= c.upto
left join families f on f.raw_role = c.raw_role;

-- step: propagate
-- Accounts and devices of risky parties are risky far more often than those of clean parties.
create table s5_account_roles_6A as
with drawn as (
  select a.account_id, o.raw_role as owner_role, o.is_risky as owner_risky,
         u01(prf2(getvariable('stream_key'), a.account_id, 11)) < CASE WHEN o.is_risky THEN fp('$.propagation.account_risky_if_owner_risky')::DOUBLE
                                                                        ELSE fp('$.propagation.account_risky_if_owner_clean')::DOUBLE END as risky
  from s2_account_base_6A a join s5_party_roles_6A o on o.entity_id = a.party_id
), roled as (
  select account_id as entity_id, CASE WHEN NOT risky THEN 'clean'
      WHEN NOT owner_risky THEN 'compromised_account'
      WHEN owner_role = 'mule' THEN 'mule_account'
      WHEN owner_role = 'synthetic_identity' THEN 'synthetic_account'
      WHEN owner_role = 'ato_victim' THEN 'taken_over_account'
      ELSE 'first_party_account' END as raw_role, risky as is_risky
  from drawn
)
select r.entity_id, r.raw_role, coalesce(f.role_family, 'UNMAPPED') as role_family, r.is_risky
from roled r left join families f using (raw_role);
create table s5_device_roles_6A as
with drawn as (
  select d.device_id, o.is_risky as owner_risky,
         u01(prf2(getvariable('stream_key'), d.device_id, 12)) < CASE WHEN o.is_risky THEN fp('$.propagation.device_risky_if_owner_risky')::DOUBLE
                                                                       ELSE fp('$.propagation.device_risky_if_owner_clean')::DOUBLE END as risky
  from s4_device_base_6A d join s5_party_roles_6A o on o.entity_id = d.party_id
), roled as (
  select device_id as entity_id, CASE WHEN NOT risky THEN 'clean' WHEN owner_risky THEN 'fraud_device' ELSE 'compromised_device' END as raw_role, risky as is_risky
  from drawn
)
select r.entity_id, r.raw_role, coalesce(f.role_family, 'UNMAPPED') as role_family, r.is_risky
from roled r left join families f using (raw_role);
-- An IP is risky when at least ip_min_risky_device_share of the devices using it are risky.
create table s5_ip_roles_6A as
with use as (
  select i.ip_id, count(l.device_id) as devices, count(l.device_id) filter (where d.is_risky) as risky_devices
  from s4_ip_base_6A i left join s4_ip_links_6A l using (ip_id) left join s5_device_roles_6A d on d.entity_id = l.device_id
  group by i.ip_id
), roled as (
  select ip_id as entity_id,
         risky_devices > 0 AND risky_devices >= fp('$.propagation.ip_min_risky_device_share')::DOUBLE * devices as is_risky
  from use
)
select r.entity_id, CASE WHEN r.is_risky THEN 'risky_ip' ELSE 'clean' END as raw_role,
       coalesce(f.role_family, 'UNMAPPED') as role_family, r.is_risky
from roled r left join families f on f.raw_role = CASE WHEN r.is_risky THEN 'risky_ip' ELSE 'clean' END;
-- Merchants: roles apportioned exactly over all merchants, dealt in PRF order.
create table merchant_role_mix as
select r as raw_role, (getvariable('fraud_priors')->'merchant_roles'->>r)::DOUBLE as share, row_number() over (order by r)::UBIGINT as cell
from (select unnest(json_keys(getvariable('fraud_priors')->'merchant_roles')) as r);
create view merchant_role_cells as
select 'all' as grp, m.cell, m.share as weight, (select count(*) from merchants_1A) as total from merchant_role_mix m;
create table s5_merchant_roles_6A as
with counts as (
  select m.raw_role, a.n, sum(a.n) over (order by m.raw_role rows between unbounded preceding and current row) as upto
  from lr_apportion('merchant_role_cells', mix64(getvariable('stream_key'), 2)) a join merchant_role_mix m using (cell)
), ranked as (
  select merchant_id, row_number() over (order by mix64(getvariable('stream_key'), merchant_id + 1000000000000), merchant_id) as rk from merchants_1A
)
select r.merchant_id as entity_id, c.raw_role, coalesce(f.role_family, 'UNMAPPED') as role_family, c.raw_role <> 'clean' as is_risky
from ranked r join counts c on r.rk > c.upto - c.n and r.rk <= c.upto left join families f using (raw_role);

-- step: measure
create table holding_stats as
select a.party_type, h.account_type, k.k_max,
       count(*) filter (where h.n_accounts > k.k_max) as above,
       quantile_disc(h.n_accounts, 0.99) as p99, max(h.n_accounts) as mx
from s2_party_holdings_6A h join s1_party_base_6A a using (party_id)
join s2_allocation_counters_6A k on k.party_type = a.party_type and k.account_type = h.account_type
group by a.party_type, h.account_type, k.k_max;
create table ip_type_error as
with realised as (
  select region, ip_type, count(*)::DOUBLE / sum(count(*)) over (partition by region) as share from s4_ip_base_6A group by region, ip_type
), prior as (
  select a.r as region, t as ip_type, (getvariable('device_priors')->'ips'->'type_mix'->a.r->>t)::DOUBLE as share
  from (select unnest(json_keys(getvariable('device_priors')->'ips'->'type_mix')) as r) a,
       (select unnest(json_keys(getvariable('device_priors')->'ips'->'type_mix'->a.r)) as t)
)
select max(abs(coalesce(r.share, 0e0) - p.share)) * 100 as max_abs_pp
from prior p left join realised r using (region, ip_type)
where p.region in (select distinct region from s4_device_base_6A);
create table per_ip as
select ip_id, count(*) as devices from s4_ip_links_6A group by all;
-- Odds ratio of a risky entity given a risky owner (Haldane's +0.5 keeps it finite).
create macro odds_ratio(a, b, c, d) as ((a + 0.5) * (d + 0.5)) / ((b + 0.5) * (c + 0.5));
create table odds as
select
  (select odds_ratio(count(*) filter (where o.is_risky and r.is_risky), count(*) filter (where o.is_risky and not r.is_risky),
                     count(*) filter (where not o.is_risky and r.is_risky), count(*) filter (where not o.is_risky and not r.is_risky))
   from s5_account_roles_6A r join s2_account_base_6A a on a.account_id = r.entity_id join s5_party_roles_6A o on o.entity_id = a.party_id) as account_or,
  (select odds_ratio(count(*) filter (where o.is_risky and r.is_risky), count(*) filter (where o.is_risky and not r.is_risky),
                     count(*) filter (where not o.is_risky and r.is_risky), count(*) filter (where not o.is_risky and not r.is_risky))
   from s5_device_roles_6A r join s4_device_base_6A d on d.device_id = r.entity_id join s5_party_roles_6A o on o.entity_id = d.party_id) as device_or;
-- Jensen-Shannon divergence (base 2) of the realised party role mix against the prior.
create table role_jsd as
with p as (select raw_role, share as q from party_role_mix),
r as (select raw_role, count(*)::DOUBLE / (select count(*) from s5_party_roles_6A) as p from s5_party_roles_6A group by all),
m as (select p.raw_role, coalesce(r.p, 0e0) as p, p.q, (coalesce(r.p, 0e0) + p.q) / 2 as m from p left join r using (raw_role))
select 0.5 * sum(CASE WHEN p > 0 THEN p * log2(p / m) ELSE 0 END) + 0.5 * sum(CASE WHEN q > 0 THEN q * log2(q / m) ELSE 0 END) as jsd from m;
create table all_roles as
select raw_role, role_family from s5_party_roles_6A union all select raw_role, role_family from s5_account_roles_6A
union all select raw_role, role_family from s5_device_roles_6A union all select raw_role, role_family from s5_ip_roles_6A
union all select raw_role, role_family from s5_merchant_roles_6A;

create table issue_entities as
select 'accounts_dropped' as check_id, 'account_type' as entity_type, NULL::UBIGINT as entity_id,
       party_type || '/' || account_type || ': ' || dropped || ' accounts found no room under K_max' as detail
from s2_allocation_counters_6A where dropped <> 0
union all
select 'T1_accounts_above_kmax', 'party', h.party_id, h.account_type || ': ' || h.n_accounts || ' > K_max ' || k.k_max
from s2_party_holdings_6A h join s1_party_base_6A p using (party_id) join s2_allocation_counters_6A k on k.party_type = p.party_type and k.account_type = h.account_type
where h.n_accounts > k.k_max
union all
select 'ip_links_within_capacity', 'ip', i.ip_id, u.devices || ' devices > capacity ' || i.capacity
from s4_ip_base_6A i join per_ip u using (ip_id) where u.devices > i.capacity
union all
select 'instrument_account_exists', 'instrument', i.instrument_id, 'account ' || i.account_id || ' does not exist'
from s3_instrument_base_6A i anti join s2_account_base_6A a using (account_id)
union all
select 'device_link_party_exists', 'device', l.device_id, 'party ' || l.party_id || ' does not exist'
from s4_device_links_6A l anti join s1_party_base_6A p using (party_id);

-- step: checks
create table checks as
with n as (
  select (select count(*) from s1_party_base_6A) as parties, (select count(*) from s2_account_base_6A) as accounts,
         (select count(*) from s3_instrument_base_6A) as instruments, (select count(*) from s4_device_base_6A) as devices,
         (select count(distinct device_id) from s4_ip_links_6A) as linked_devices, (select count(*) from s4_ip_base_6A) as ips,
         (select count(*) filter (where is_risky) from s5_ip_roles_6A) as risky_ips,
         (select count(*) filter (where is_risky) from s5_account_roles_6A) as risky_accounts,
         (select count(*) filter (where is_risky) from s5_party_roles_6A) as risky_parties
), pol as (select getvariable('validation_policy') as p)
select unnest([
  invariant('accounts_dropped', (select coalesce(sum(dropped), 0) from s2_allocation_counters_6A), 0),
  invariant('ip_links_within_capacity', (select count(*) from issue_entities where check_id = 'ip_links_within_capacity'), 0),
  invariant('instrument_account_exists', (select count(*) from issue_entities where check_id = 'instrument_account_exists'), 0),
  invariant('device_link_party_exists', (select count(*) from issue_entities where check_id = 'device_link_party_exists'), 0),
  metric('S2_overflow_accounts', (select coalesce(sum(overflow), 0) from s2_allocation_counters_6A)),
  metric('S2_redistributed_accounts', (select coalesce(sum(redistributed), 0) from s2_allocation_counters_6A)),
  realism(p, 'T1_accounts_above_kmax', (select coalesce(sum(above), 0) from holding_stats)),
  realism(p, 'T2_p99_minus_kmax', (select max(p99 - k_max) from holding_stats)),
  realism(p, 'T2_max_minus_kmax', (select max(mx - k_max) from holding_stats)),
  realism(p, 'T3_ip_type_mix_max_abs_error_pp', (select max_abs_pp from ip_type_error)),
  realism(p, 'T4_devices_linked_share', linked_devices / devices),
  realism(p, 'T5_devices_per_ip_p99', (select quantile_disc(devices, 0.99) from per_ip)),
  realism(p, 'T5_devices_per_ip_max', (select max(devices) from per_ip)),
  realism(p, 'T6_roles_mapped_share', (select count(distinct raw_role) filter (where role_family <> 'UNMAPPED') / count(distinct raw_role) from all_roles)),
  realism(p, 'T7_account_odds_ratio', (select account_or from odds)),
  realism(p, 'T7_device_odds_ratio', (select device_or from odds)),
  realism(p, 'T8_role_mix_jsd', (select jsd from role_jsd)),
  realism(p, 'risky_ip_share', risky_ips / ips),
  metric('risky_account_share', risky_accounts / accounts),
  metric('risky_party_share', risky_parties / parties),
  realism(p, 'accounts_per_party', accounts / parties),
  realism(p, 'instruments_per_account', instruments / accounts),
  realism(p, 'devices_per_party', devices / parties),
  metric('ips_per_linked_device', ips / linked_devices)
], recursive := true)
from n, pol;

-- step: report
create table validation_report_6A as from validation_report('6A', 'checks');
create table validation_issue_table_6A as from validation_issues('checks', 'issue_entities');
create table gate_verdict as from gate_verdict_of('checks');
