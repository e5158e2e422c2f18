-- step: sealed
create table sealed_check as from assert_sealed('sealed_inputs_6A');

-- step: features
-- What a fraud model can see of a party, from the published 6A tables only.
create macro fp(path) as getvariable('fraud_priors')->>path;
create macro logit(p) as pln(p::DOUBLE) - pln(1e0 - p::DOUBLE);
create macro sigmoid(x) as 1e0 / (1e0 + pexp(-x::DOUBLE));
create table device_users as
select device_id, count(*) as users from s4_device_links_6A group by all;
create table device_ip_types as
select l.device_id, bool_or(i.ip_type in ('VPN_PROXY', 'DATACENTER')) as anon, count(*) as n_ips
from s4_ip_links_6A l join s4_ip_base_6A i using (ip_id) group by all;
create table party_use as
select dl.party_id, bool_or(coalesce(t.anon, false)) as anon_ip,
       bool_or(u.users >= fp('$.farm_min_users')::BIGINT) as farm_device,
       count(*) filter (where dl.link_role = 'OWNER') as n_devices
from s4_device_links_6A dl join device_users u using (device_id) left join device_ip_types t using (device_id)
group by all;
create table party_holding as
select party_id, sum(n_accounts) as n_accounts,
       bool_or(account_type in ('CREDIT_CARD', 'LOAN', 'BUSINESS_CARD')) as has_credit
from s2_party_holdings_6A group by all;
create table party_features as
select p.party_id, p.country_iso, p.party_type, p.segment,
       coalesce(p.age_years < 25, false) as young, coalesce(p.age_years >= 65, false) as senior,
       p.tenure_months < 12 as new, coalesce(h.n_accounts, 0) <= 1 as thin, coalesce(h.has_credit, false) as has_credit,
       p.party_type = 'BUSINESS' as business, coalesce(u.anon_ip, false) as anon_ip, coalesce(u.farm_device, false) as farm_device,
       least(coalesce(u.n_devices, 0), 3) as n_devices_capped, coalesce(h.n_accounts, 0) as n_accounts
from s1_party_base_6A p left join party_holding h using (party_id) left join party_use u using (party_id);

-- step: party_roles
-- Per party and role: log-odds from the policy's coefficients, clamped; one uniform draw picks the
-- role over the roles' probabilities, summed exactly in alphabetical order.
create table role_model as
select r as raw_role, (getvariable('fraud_priors')->'party_roles'->r->>'base_rate')::DOUBLE as base_rate,
       getvariable('fraud_priors')->'party_roles'->r->'log_odds' as c,
       getvariable('fraud_priors')->'party_roles'->r->>'requires' as requires
from (select unnest(json_keys(getvariable('fraud_priors')->'party_roles')) as r);
create macro coef(c, f) as coalesce((c->>f)::DOUBLE, 0e0);
-- Features are booleans, so a party's law depends only on its feature code (8 bits): the roles'
-- probabilities and their running sums are computed once per code that occurs, not per party.
create table party_codes as
select *, young::INT + 2 * senior::INT + 4 * new::INT + 8 * thin::INT + 16 * has_credit::INT + 32 * business::INT + 64 * anon_ip::INT + 128 * farm_device::INT as code
from party_features;
create table code_law as
with codes as (
  select distinct code, young, senior, new, thin, has_credit, business, anon_ip, farm_device from party_codes
), p as (
  select f.code, m.raw_role,
         CASE WHEN m.requires = 'has_credit' AND NOT f.has_credit THEN 0e0 ELSE sigmoid(greatest(fp('$.clamp.lo')::DOUBLE, least(fp('$.clamp.hi')::DOUBLE,
           logit(m.base_rate) + f.young::INT * coef(m.c, 'young') + f.senior::INT * coef(m.c, 'senior') + f.new::INT * coef(m.c, 'new')
           + f.thin::INT * coef(m.c, 'thin') + f.has_credit::INT * coef(m.c, 'has_credit') + f.business::INT * coef(m.c, 'business')
           + f.anon_ip::INT * coef(m.c, 'anon_ip') + f.farm_device::INT * coef(m.c, 'farm_device')))) END as p
  from codes f, role_model m
), cum as (
  select code, raw_role,
         sum(p::DECIMAL(38, 18)) over (partition by code order by raw_role rows between unbounded preceding and current row) as upto,
         sum(p::DECIMAL(38, 18)) over (partition by code) as total
  from p
)
-- when the probabilities sum above 1 they are scaled to 1 (the draw is u x total)
select code, list(raw_role order by raw_role) as roles, list(upto::DOUBLE order by raw_role) as upto, greatest(1e0, any_value(total)::DOUBLE) as scale
from cum group by code;
create table party_role_pick as
with drawn as (
  select c.party_id, l.roles, len(list_filter(l.upto, x -> x <= u01(prf2(getvariable('stream_key'), c.party_id, key_of('party_role'))) * l.scale)) + 1 as idx
  from party_codes c join code_law l using (code)
)
select party_id, CASE WHEN idx <= len(roles) THEN roles[idx] ELSE 'clean' END as raw_role from drawn;
create table families as
select r as raw_role, getvariable('fraud_priors')->'role_families'->>r as role_family
from (select unnest(json_keys(getvariable('fraud_priors')->'role_families')) as r);
create table victim_roles as select unnest(from_json(getvariable('fraud_priors')->'victim_roles', '["VARCHAR"]')) as raw_role;
create table s5_party_roles_6A as
select r.party_id as entity_id, r.raw_role, coalesce(f.role_family, 'UNMAPPED') as role_family,
       r.raw_role <> 'clean' AND r.raw_role not in (select raw_role from victim_roles) as is_risky
from party_role_pick r left join families f using (raw_role);

-- step: propagate
-- Accounts: a perpetrator's by role (recent and credit accounts raised), one per victim taken
-- over, a clean party's compromised at a small rate.
create table account_ctx as
select a.account_id, a.party_id, a.account_type, a.opened_months_ago < 12 as recent,
       a.account_type in ('CREDIT_CARD', 'LOAN', 'BUSINESS_CARD') as credit, o.raw_role as owner_role, o.is_risky as owner_risky,
       o.raw_role in (select raw_role from victim_roles) as owner_victim
from s2_account_base_6A a join s5_party_roles_6A o on o.entity_id = a.party_id;
create table victim_target as
select party_id, arg_min(account_id, (CASE WHEN account_type in ('CURRENT', 'CREDIT_CARD', 'BUSINESS_CURRENT', 'BUSINESS_CARD') THEN 0 ELSE 1 END,
                                      prf2(getvariable('stream_key'), account_id, key_of('takeover')))) as account_id
from account_ctx where owner_victim group by all;
create table s5_account_roles_6A as
with drawn as (
  select c.*, u01(prf2(getvariable('stream_key'), c.account_id, key_of('account_role'))) as u,
         sigmoid(logit((getvariable('fraud_priors')->'account_risk'->c.owner_role->>'base_rate')::DOUBLE)
                 + c.recent::INT * coalesce((getvariable('fraud_priors')->'account_risk'->c.owner_role->>'recent')::DOUBLE, 0e0)
                 + c.credit::INT * coalesce((getvariable('fraud_priors')->'account_risk'->c.owner_role->>'credit')::DOUBLE, 0e0)) as p_perp,
         v.account_id IS NOT NULL as taken_over
  from account_ctx c left join victim_target v using (account_id)
), roled as (
  select account_id as entity_id, CASE
      WHEN taken_over THEN 'taken_over_account'
      WHEN owner_risky AND u < p_perp THEN CASE owner_role WHEN 'mule' THEN 'mule_account' WHEN 'synthetic_identity' THEN 'synthetic_account'
                                                      WHEN 'bust_out' THEN 'bust_out_account' ELSE 'first_party_account' END
      WHEN NOT owner_risky AND u < fp('$.compromised_rate')::DOUBLE THEN 'compromised_account'
      ELSE 'clean' END as raw_role
  from drawn
)
select r.entity_id, r.raw_role, coalesce(f.role_family, 'UNMAPPED') as role_family, r.raw_role <> 'clean' as is_risky
from roled r left join families f using (raw_role);
-- Devices: a farm used by a perpetrator; a perpetrator's own device by device_rate; a clean
-- party's compromised at a small rate; a victim's own devices stay clean.
create table farm_abused as
select distinct l.device_id from s4_device_links_6A l join device_users u using (device_id) join s5_party_roles_6A o on o.entity_id = l.party_id
where u.users >= fp('$.farm_min_users')::BIGINT and o.is_risky;
create table s5_device_roles_6A as
with drawn as (
  select d.device_id, o.is_risky as owner_risky, o.raw_role in (select raw_role from victim_roles) as owner_victim,
         f.device_id IS NOT NULL as abused_farm, u01(prf2(getvariable('stream_key'), d.device_id, key_of('device_role'))) as u
  from s4_device_base_6A d join s5_party_roles_6A o on o.entity_id = d.party_id left join farm_abused f using (device_id)
), roled as (
  select device_id as entity_id, CASE
      WHEN owner_victim THEN 'clean'
      WHEN abused_farm THEN 'farm_device'
      WHEN owner_risky AND u < fp('$.device_risk.perpetrator_rate')::DOUBLE THEN 'fraud_device'
      WHEN NOT owner_risky AND u < fp('$.device_risk.compromised_rate')::DOUBLE THEN 'compromised_device'
      ELSE 'clean' END as raw_role
  from drawn
)
select r.entity_id, r.raw_role, coalesce(f.role_family, 'UNMAPPED') as role_family, r.raw_role <> 'clean' as is_risky
from roled r left join families f using (raw_role);
-- IPs: risky with enough risky devices, by count and by share (a reputation rule, the same for every type).
create table ip_use as
select i.ip_id, i.ip_type, i.region, count(*) as devices, count(*) filter (where d.is_risky) as risky_devices
from s4_ip_base_6A i join s4_ip_links_6A l using (ip_id) join s5_device_roles_6A d on d.entity_id = l.device_id
group by all;
create table s5_ip_roles_6A as
with roled as (
  select i.ip_id as entity_id,
         coalesce(u.risky_devices >= fp('$.ip_risk.min_risky_devices')::BIGINT AND u.risky_devices >= fp('$.ip_risk.min_risky_share')::DOUBLE * u.devices, false) as is_risky
  from s4_ip_base_6A i left join ip_use u using (ip_id)
)
select r.entity_id, CASE WHEN r.is_risky THEN 'risky_ip' ELSE 'clean' END as raw_role,
       coalesce(f.role_family, 'UNMAPPED') as role_family, r.is_risky
from roled r left join families f on f.raw_role = CASE WHEN r.is_risky THEN 'risky_ip' ELSE 'clean' END;
-- Merchants: the parties' log-odds law on what a merchant shows (mode, class, size).
create table merchant_features as
select m.merchant_id, m.virtual_mode = 'VIRTUAL_ONLY' as virtual_only, m.virtual_mode = 'HYBRID' as hybrid,
       m.demand_class = 'digital' as digital, m.demand_class = 'travel' as travel, coalesce(o.n, 0) > 10 as chain
from merchants_1A m left join (select merchant_id, count(*) as n from outlets_1A group by all) o using (merchant_id);
create table s5_merchant_roles_6A as
with p as (
  select f.merchant_id, r as raw_role,
         sigmoid(greatest(fp('$.clamp.lo')::DOUBLE, least(fp('$.clamp.hi')::DOUBLE,
           logit((getvariable('fraud_priors')->'merchant_roles'->r->>'base_rate')::DOUBLE)
           + f.virtual_only::INT * coef(getvariable('fraud_priors')->'merchant_roles'->r->'log_odds', 'virtual_only')
           + f.hybrid::INT * coef(getvariable('fraud_priors')->'merchant_roles'->r->'log_odds', 'hybrid')
           + f.digital::INT * coef(getvariable('fraud_priors')->'merchant_roles'->r->'log_odds', 'digital')
           + f.travel::INT * coef(getvariable('fraud_priors')->'merchant_roles'->r->'log_odds', 'travel')
           + f.chain::INT * coef(getvariable('fraud_priors')->'merchant_roles'->r->'log_odds', 'chain')))) as p
  from merchant_features f, (select unnest(json_keys(getvariable('fraud_priors')->'merchant_roles')) as r)
), cum as (
  select merchant_id, raw_role, sum(p::DECIMAL(38, 18)) over (partition by merchant_id order by raw_role rows between unbounded preceding and current row) as upto from p
), pick as (
  select merchant_id, coalesce(min(raw_role) filter (where u01(prf2(getvariable('stream_key'), merchant_id, key_of('merchant_role'))) < upto), 'clean') as raw_role
  from cum group by all
)
select k.merchant_id as entity_id, k.raw_role, coalesce(f.role_family, 'UNMAPPED') as role_family, k.raw_role <> 'clean' as is_risky
from pick k left join families f using (raw_role);

-- step: learnability
-- Can party risk be learnt from observables, and not trivially? A small model fitted in SQL: the
-- smoothed risky rate per cell of observable features on one half of the parties (a PRF split),
-- scored on the other half; and the same for each feature alone. AUC by the rank-sum statistic
-- over integer counts (order-independent).
create table learn_rows as
select f.party_id, r.is_risky as y, u01(prf2(getvariable('stream_key'), f.party_id, key_of('split'))) < 0.5 as train,
       f.segment, f.young, f.senior, f.new, f.thin, f.has_credit, f.anon_ip, f.farm_device, f.n_devices_capped
from party_features f join s5_party_roles_6A r on r.entity_id = f.party_id;
create table learn_long as
select party_id, y, train, unnest(['model', 'segment', 'young', 'senior', 'new', 'thin', 'has_credit', 'anon_ip', 'farm_device', 'n_devices']) as feature,
       unnest([concat_ws('|', segment, young, senior, new, thin, has_credit, anon_ip, farm_device, n_devices_capped),
               segment, young::VARCHAR, senior::VARCHAR, new::VARCHAR, thin::VARCHAR, has_credit::VARCHAR, anon_ip::VARCHAR, farm_device::VARCHAR, n_devices_capped::VARCHAR]) as value
from learn_rows;
create table learn_prior as
select count(*) filter (where y and train)::DOUBLE / greatest(1, count(*) filter (where train)) as p0 from learn_rows;
create table learn_auc as
with rates as (
  select feature, value, (count(*) filter (where y) + 2e0 * (select p0 from learn_prior)) / (count(*) + 2e0) as score
  from learn_long where train group by all
), scored as (
  select t.feature, t.y, coalesce(r.score, (select p0 from learn_prior)) as score
  from learn_long t left join rates r using (feature, value) where not t.train
), g as (
  select feature, score, count(*) filter (where y) as pos, count(*) filter (where not y) as neg from scored group by all
), c as (
  select *, coalesce(sum(neg) over (partition by feature order by score rows between unbounded preceding and 1 preceding), 0) as neg_below,
         sum(pos) over (partition by feature) as n_pos, sum(neg) over (partition by feature) as n_neg
  from g
)
select feature, CASE WHEN any_value(n_pos) > 0 AND any_value(n_neg) > 0
                     THEN sum(pos * (neg_below + neg / 2e0)) / (any_value(n_pos)::DOUBLE * any_value(n_neg)::DOUBLE) END as auc
from c group by feature;

-- step: measure
-- Per (segment, account type): a population mixed over segments can hide a pile-up at the cap.
create table holding_stats as
select p.party_type, p.segment, h.account_type, k.k_max,
       count(*) filter (where h.n_accounts > k.k_max) as above,
       count(*) filter (where h.n_accounts = k.k_max) as at_cap,
       count(*) filter (where h.n_accounts = k.k_max - 1) as below_cap
from s2_party_holdings_6A h join s1_party_base_6A p using (party_id)
join s2_allocation_counters_6A k on k.party_type = p.party_type and k.account_type = h.account_type
group by p.party_type, p.segment, h.account_type, k.k_max;
-- T3 on what a model sees: device-IP links by IP type, per region, against the real-world reference.
create table ip_link_error as
with realised as (
  select i.region, i.ip_type, count(*)::DOUBLE / sum(count(*)) over (partition by i.region) as share
  from s4_ip_links_6A l join s4_ip_base_6A i using (ip_id) group by i.region, i.ip_type
), reference as (
  select a.r as region, t as ip_type, (getvariable('reference')->'ip_link_mix'->a.r->>t)::DOUBLE as share
  from (select unnest(json_keys(getvariable('reference')->'ip_link_mix')) as r) a,
       (select unnest(json_keys(getvariable('reference')->'ip_link_mix'->a.r)) as t)
)
select max(abs(coalesce(r.share, 0e0) - f.share)) * 100 as max_abs_pp
from reference f left join realised r using (region, ip_type)
where f.region in (select distinct region from s4_ip_base_6A);
create table per_ip as select ip_id, count(*) as devices from s4_ip_links_6A group by all;
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
-- T8: Jensen-Shannon divergence (base 2) of the realised party role mix against the real-world reference.
create table role_jsd as
with q as (select r as raw_role, (getvariable('reference')->'party_role_mix'->>r)::DOUBLE as q from (select unnest(json_keys(getvariable('reference')->'party_role_mix')) as r)),
p as (select raw_role, count(*)::DOUBLE / (select count(*) from s5_party_roles_6A) as p from s5_party_roles_6A group by all),
m as (select raw_role, coalesce(p.p, 0e0) as p, coalesce(q.q, 0e0) as q, (coalesce(p.p, 0e0) + coalesce(q.q, 0e0)) / 2 as m from q full join p using (raw_role))
select 0.5 * sum(CASE WHEN p > 0 THEN p * log2(p / m) ELSE 0 END) + 0.5 * sum(CASE WHEN q > 0 THEN q * log2(q / m) ELSE 0 END) as jsd from m;
create table all_roles as
select raw_role, role_family from s5_party_roles_6A union all select raw_role, role_family from s5_account_roles_6A
union all select raw_role, role_family from s5_device_roles_6A union all select raw_role, role_family from s5_ip_roles_6A
union all select raw_role, role_family from s5_merchant_roles_6A;
-- Household structure, on the links.
create table residential_ips as
select l.ip_id, count(distinct dl.party_id) as parties, count(distinct p.country_iso) as countries
from s4_ip_links_6A l join s4_ip_base_6A i using (ip_id) join s4_device_links_6A dl using (device_id) join s1_party_base_6A p using (party_id)
where i.ip_type = 'RESIDENTIAL' group by all;
create table retail_multi_device as
with own as (
  select d.party_id, d.device_id from s4_device_base_6A d join s1_party_base_6A p using (party_id) where p.party_type = 'RETAIL'
), multi as (select party_id from own group by all having count(*) >= 2),
shared_ip as (
  select o.party_id from own o join s4_ip_links_6A l using (device_id) join s4_ip_base_6A i using (ip_id)
  where i.ip_type = 'RESIDENTIAL' group by o.party_id, l.ip_id having count(distinct o.device_id) >= 2
)
select (select count(*) from multi) as multi, (select count(distinct party_id) from shared_ip) as on_one_ip;
create table online_devices as
select d.device_id, d.device_type, t.device_id IS NOT NULL as linked, coalesce(t.n_ips, 0) as n_ips
from s4_device_base_6A d left join device_ip_types t using (device_id) where d.device_type <> 'POS_TERMINAL';
create table desktop_links as
select count(*) as links, count(*) filter (where i.ip_type = 'MOBILE_CARRIER') as on_carrier
from s4_ip_links_6A l join s4_device_base_6A d using (device_id) join s4_ip_base_6A i using (ip_id) where d.device_type = 'DESKTOP';
-- Ratios of rates are taken on smoothed rates ((k + 0.5) / (n + 1)), so an empty cell is not a 0 or an infinity.
create macro smoothed(k, n) as (k + 0.5e0) / (n + 1e0);
create table ip_risk_by_type as
select smoothed(count(*) filter (where i.ip_type in ('VPN_PROXY', 'DATACENTER') and r.is_risky), count(*) filter (where i.ip_type in ('VPN_PROXY', 'DATACENTER'))) as anon,
       smoothed(count(*) filter (where i.ip_type = 'RESIDENTIAL' and r.is_risky), count(*) filter (where i.ip_type = 'RESIDENTIAL')) as residential
from s4_ip_base_6A i join s5_ip_roles_6A r on r.entity_id = i.ip_id;
create table role_by_feature as
select smoothed(count(*) filter (where f.segment = 'STUDENT' and r.raw_role = 'mule'), count(*) filter (where f.segment = 'STUDENT')) as mule_student,
       smoothed(count(*) filter (where f.segment = 'SENIOR' and r.raw_role = 'mule'), count(*) filter (where f.segment = 'SENIOR')) as mule_senior,
       smoothed(count(*) filter (where f.farm_device and r.is_risky), count(*) filter (where f.farm_device)) as risky_farm_users,
       count(*) filter (where r.is_risky)::DOUBLE / count(*) as risky_parties
from party_features f join s5_party_roles_6A r on r.entity_id = f.party_id;
create table chain_ready as
with carded as (select distinct party_id from s3_instrument_base_6A where instrument_type <> 'BANK_TRANSFER'),
online as (select distinct dl.party_id from s4_device_links_6A dl semi join s4_ip_links_6A l using (device_id))
select count(*) filter (where c.party_id IS NOT NULL and o.party_id IS NOT NULL)::DOUBLE / count(*) as share
from s1_party_base_6A p left join carded c using (party_id) left join online o using (party_id);

create table issue_entities as
select 'T1_accounts_unplaced' as check_id, 'account_type' as entity_type, NULL::UBIGINT as entity_id,
       party_type || '/' || account_type || ': ' || dropped || ' accounts found no room under K_max' as detail
from s2_allocation_counters_6A where dropped <> 0
union all
select 'holdings_within_kmax', 'party', h.party_id, h.account_type || ': ' || h.n_accounts || ' > K_max ' || k.k_max
from s2_party_holdings_6A h join s1_party_base_6A p using (party_id) join s2_allocation_counters_6A k on k.party_type = p.party_type and k.account_type = h.account_type
where h.n_accounts > k.k_max
union all
select 'parties_without_account', 'party', p.party_id, 'holds no account'
from s1_party_base_6A p anti join s2_party_holdings_6A h using (party_id)
union all
select 'bust_out_holds_credit', 'party', f.party_id, 'bust-out without a credit product'
from party_features f join s5_party_roles_6A r on r.entity_id = f.party_id where r.raw_role = 'bust_out' and not f.has_credit
union all
select 'victim_devices_clean', 'device', d.device_id, 'own device of an account-takeover victim is ' || r.raw_role
from s4_device_base_6A d join s5_party_roles_6A o on o.entity_id = d.party_id join s5_device_roles_6A r on r.entity_id = d.device_id
where o.raw_role in (select raw_role from victim_roles) and r.is_risky
union all
select 'residential_ip_one_country', 'ip', ip_id, parties || ' parties of ' || countries || ' countries' from residential_ips where countries > 1
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
         (select count(*) from s4_ip_base_6A) as ips,
         (select count(*) filter (where is_risky) from s5_ip_roles_6A) as risky_ips,
         (select count(*) filter (where is_risky) from s5_account_roles_6A) as risky_accounts,
         (select count(*) filter (where is_risky) from s5_device_roles_6A) as risky_devices,
         (select count(*) filter (where is_risky) from s5_merchant_roles_6A)::DOUBLE / (select count(*) from s5_merchant_roles_6A) as risky_merchant_share
), pol as (select getvariable('validation_policy') as p),
issues as (select check_id, count(*) as n from issue_entities group by all)
select unnest([
  invariant('holdings_within_kmax', coalesce((select n from issues where check_id = 'holdings_within_kmax'), 0), 0),
  invariant('accounts_conserved', (select coalesce(sum(excess), 0) from s2_allocation_counters_6A), 0),
  invariant('parties_without_account', coalesce((select n from issues where check_id = 'parties_without_account'), 0), 0),
  invariant('bust_out_holds_credit', coalesce((select n from issues where check_id = 'bust_out_holds_credit'), 0), 0),
  invariant('victim_devices_clean', coalesce((select n from issues where check_id = 'victim_devices_clean'), 0), 0),
  invariant('residential_ip_one_country', coalesce((select n from issues where check_id = 'residential_ip_one_country'), 0), 0),
  invariant('instrument_account_exists', coalesce((select n from issues where check_id = 'instrument_account_exists'), 0), 0),
  invariant('device_link_party_exists', coalesce((select n from issues where check_id = 'device_link_party_exists'), 0), 0),
  realism(p, 'T1_accounts_unplaced', (select coalesce(sum(dropped), 0) from s2_allocation_counters_6A) + (select coalesce(sum(above), 0) from holding_stats)),
  realism(p, 'T2_cap_pileup_ratio', (select max((at_cap + 1e0) / (below_cap + 1e0)) from holding_stats where k_max >= 2 and below_cap >= 30)),
  realism(p, 'T3_ip_link_mix_max_abs_error_pp', (select max_abs_pp from ip_link_error)),
  realism(p, 'T4_online_devices_linked_share', (select count(*) filter (where linked)::DOUBLE / count(*) from online_devices)),
  -- T5's p99 on what a consumer sees: the size of the IP behind a device-IP link (link-weighted).
  realism(p, 'T5_devices_per_ip_p99', (select quantile_disc(u.devices, 0.99) from s4_ip_links_6A l join per_ip u using (ip_id))),
  realism(p, 'T5_devices_per_ip_max', (select max(devices) from per_ip)),
  realism(p, 'T6_roles_mapped_share', (select count(distinct raw_role) filter (where role_family <> 'UNMAPPED') / count(distinct raw_role) from all_roles)),
  realism(p, 'T7_account_odds_ratio', (select account_or from odds)),
  realism(p, 'T7_device_odds_ratio', (select device_or from odds)),
  realism(p, 'T8_role_mix_jsd', (select jsd from role_jsd)),
  pending_gate(p, 'T9_cross_seed_cv'),
  pending_gate(p, 'T10_cnp_full_chain'),
  realism(p, 'chain_ready_party_share', (select share from chain_ready)),
  realism(p, 'household_ip_share', (select on_one_ip::DOUBLE / greatest(1, multi) from retail_multi_device)),
  realism(p, 'desktop_links_on_carrier_share', (select on_carrier::DOUBLE / greatest(1, links) from desktop_links)),
  realism(p, 'anon_ip_risk_ratio', (select anon / residential from ip_risk_by_type)),
  realism(p, 'mule_student_senior_ratio', (select mule_student / mule_senior from role_by_feature)),
  realism(p, 'farm_user_risk_ratio', (select risky_farm_users / greatest(risky_parties, 1e-9) from role_by_feature)),
  realism(p, 'risky_party_share', (select risky_parties from role_by_feature)),
  realism(p, 'risky_merchant_share', risky_merchant_share),
  realism(p, 'L1_party_risk_auc', (select auc from learn_auc where feature = 'model')),
  realism(p, 'L1_max_single_feature_auc', (select max(greatest(auc, 1 - auc)) from learn_auc where feature <> 'model')),
  metric('S2_drawn_accounts', (select coalesce(sum(drawn), 0) from s2_allocation_counters_6A)),
  metric('S2_added_accounts', (select coalesce(sum(added), 0) from s2_allocation_counters_6A)),
  metric('S2_removed_accounts', (select coalesce(sum(removed), 0) from s2_allocation_counters_6A)),
  metric('risky_account_share', risky_accounts / accounts),
  metric('risky_device_share', risky_devices / devices),
  metric('risky_ip_share', risky_ips / ips),
  metric('farm_device_share', (select count(*) filter (where users >= fp('$.farm_min_users')::BIGINT)::DOUBLE from device_users) / devices),
  metric('accounts_per_party', accounts / parties),
  metric('instruments_per_account', instruments / accounts),
  metric('devices_per_party', devices / parties),
  metric('ips_per_online_device', (select sum(n_ips)::DOUBLE / greatest(1, count(*)) from online_devices where linked)),
  metric('devices_per_ip_mean', (select sum(devices)::DOUBLE / greatest(1, count(*)) from per_ip))
], recursive := true)
from n, pol;

-- step: report
create table validation_report_6A as from validation_report('6A', 'checks', policy := getvariable('validation_policy'));
create table validation_issue_table_6A as from validation_issues('checks', 'issue_entities');
create table gate_verdict as from gate_verdict_of('checks');
