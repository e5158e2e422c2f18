-- step: devices
create macro dp(path) as getvariable('device_priors')->>path;
create macro dpd(path) as (getvariable('device_priors')->>path)::DOUBLE;
create table device_type_cum as
select grp as party_type, categories as types, cumw from cumulative_mixes(getvariable('device_priors')->'devices'->'type_mix');
create table s4_device_base_6A as
with lam as (
  select pt as party_type, (getvariable('device_priors')->'devices'->'extra_mean'->>pt)::DOUBLE as extra_mean,
         poisson_table((getvariable('device_priors')->'devices'->'extra_mean'->>pt)::DOUBLE) as cdf
  from (select unnest(json_keys(getvariable('device_priors')->'devices'->'extra_mean')) as pt)
), counts as (
  select p.party_id, p.party_type, p.country_iso, p.region, 1 + draw_poisson_cdf(prf2(getvariable('stream_key'), p.party_id, 1), l.extra_mean, l.cdf) as n
  from s1_party_base_6A p join lam l using (party_type)
), seqs as (
  select party_id, party_type, country_iso, region, unnest(range(n)) as i from counts
)
select row_number() over (order by s.party_id, s.i)::UBIGINT as device_id, s.party_id,
       d.types[pick_index(d.cumw, u01(prf3(getvariable('stream_key'), s.party_id, 2, s.i)))] as device_type, s.country_iso, s.region
from seqs s join device_type_cum d using (party_type);

-- step: households
-- Retail parties of a country, in PRF order, are cut into households of 1-4 by drawn sizes; each
-- household has a fixed line (one residential IP) with its region's broadband share.
create table retail_ranked as
select party_id, country_iso, region,
       row_number() over (partition by country_iso order by prf2(getvariable('stream_key'), party_id, key_of('household')), party_id) - 1 as rk
from s1_party_base_6A where party_type = 'RETAIL';
create table household_size_cum as
select categories as sizes, cumw from cumulative_mixes(json_object('all', getvariable('device_priors')->'households'->'size_mix'));
create table household_slots as
with n as (select country_iso, any_value(region) as region, count(*) as n from retail_ranked group by all),
slots as (select country_iso, region, n, unnest(range(n)) as h from n),
sized as (
  select s.*, c.sizes[pick_index(c.cumw, u01(prf3(getvariable('stream_key'), key_of('household_size'), key_of(s.country_iso), s.h)))]::BIGINT as size
  from slots s, household_size_cum c
), started as (
  select *, coalesce(sum(size) over (partition by country_iso order by h rows between unbounded preceding and 1 preceding), 0) as start from sized
)
select row_number() over (order by country_iso, h)::UBIGINT as household_id, country_iso, region, start,
       u01(prf3(getvariable('stream_key'), key_of('broadband'), key_of(country_iso), h)) < (getvariable('device_priors')->'households'->'broadband_share'->>region)::DOUBLE as broadband
from started where start < n;
create table party_household as
select r.party_id, h.household_id, h.broadband
from retail_ranked r asof join household_slots h on r.country_iso = h.country_iso and r.rk >= h.start;

-- step: device_links
-- Owners; a household's desktops and tablets shared with its other members; device farms: a few
-- devices used by many parties of the owner's country (party ids are contiguous per country, so a
-- uniform pick is an offset into that range).
create table country_range as
select country_iso, min(party_id) as lo, max(party_id) as hi from s1_party_base_6A group by all;
create table farm_devices as
select d.device_id, d.party_id as owner, d.country_iso,
       least((getvariable('device_priors')->'farms'->'users'->>'max')::BIGINT,
             greatest((getvariable('device_priors')->'farms'->'users'->>'min')::BIGINT,
                      floor(draw_lognormal(prf2(getvariable('stream_key'), d.device_id, key_of('farm_users')),
                                           (getvariable('device_priors')->'farms'->'users'->>'mu')::DOUBLE,
                                           (getvariable('device_priors')->'farms'->'users'->>'sigma')::DOUBLE))::BIGINT)) as n_users
from s4_device_base_6A d
where d.device_type in ('MOBILE', 'DESKTOP')
  and u01(prf2(getvariable('stream_key'), d.device_id, key_of('farm'))) < dpd('$.farms.device_share');
create table s4_device_links_6A as
with owners as (
  select device_id, party_id, 'OWNER' as link_role from s4_device_base_6A
), household_shared as (
  select d.device_id, m.party_id, 'SHARED' as link_role
  from s4_device_base_6A d join party_household o on o.party_id = d.party_id
  join party_household m on m.household_id = o.household_id and m.party_id <> d.party_id
  where d.device_type in ('DESKTOP', 'TABLET')
    and u01(prf2(getvariable('stream_key'), d.device_id, key_of('household_shared'))) < dpd('$.devices.household_shared_share')
), farm_users as (
  select f.device_id, r.lo + floor(u01(prf3(getvariable('stream_key'), f.device_id, key_of('farm_user'), j.j)) * (r.hi - r.lo + 1))::UBIGINT as party_id, 'FARM' as link_role
  from farm_devices f join country_range r using (country_iso), (select unnest(range(f.n_users)) as j) j
)
select device_id, party_id, link_role from owners
union all
select device_id, party_id, min(link_role) from (from household_shared union all from farm_users) u
where not exists (select 1 from s4_device_base_6A d where d.device_id = u.device_id and d.party_id = u.party_id)
group by device_id, party_id;

-- step: ip_uses
-- Where each device connects from. A use names an IP directly (the household's line, the
-- business's own line) or a pool to pick from by popularity (carrier per country, employers per
-- country, VPN exits and hosting ranges per region).
create table device_ctx as
select d.device_id, d.party_id, d.device_type, d.country_iso, d.region, p.party_type,
       h.household_id, coalesce(h.broadband, false) as broadband, f.device_id IS NOT NULL as is_farm
from s4_device_base_6A d join s1_party_base_6A p using (party_id)
left join party_household h on h.party_id = d.party_id
left join farm_devices f on f.device_id = d.device_id;
create macro coin(device_id, lane) as u01(prf2(getvariable('stream_key'), device_id, key_of(lane)));
create table uses as
-- the household's fixed line
select device_id, 'RESIDENTIAL' as ip_type, 'household' as pool, household_id as owner_key, country_iso, region from device_ctx
where broadband and ((device_type in ('DESKTOP', 'TABLET')) or (device_type = 'MOBILE' and coin(device_id, 'home_wifi') < dpd('$.ips.home_wifi_share')))
union all
-- a business's own line: its desktops, phones on the office Wi-Fi, and wired POS terminals
select device_id, 'CORPORATE', country_iso, party_id, country_iso, region from device_ctx
where party_type = 'BUSINESS' and (device_type = 'DESKTOP'
                                  or (device_type = 'MOBILE' and coin(device_id, 'office_wifi') < dpd('$.ips.office_wifi_share'))
                                  or (device_type = 'POS_TERMINAL' and coin(device_id, 'pos_wireless') >= dpd('$.ips.pos_wireless_share')))
union all
-- carrier: every phone; wireless POS; desktops and tablets of homes without a line that tether
select device_id, 'MOBILE_CARRIER', country_iso, NULL, country_iso, region from device_ctx
where device_type = 'MOBILE'
   or (device_type = 'POS_TERMINAL' and coin(device_id, 'pos_wireless') < dpd('$.ips.pos_wireless_share'))
   or (party_type = 'RETAIL' and device_type in ('DESKTOP', 'TABLET') and not broadband
       and coin(device_id, 'tether') < coalesce((getvariable('device_priors')->'ips'->'tether_share'->>device_type)::DOUBLE, 0e0))
union all
-- an employer's line, for some retail devices
select device_id, 'CORPORATE', country_iso, NULL, country_iso, region from device_ctx
where party_type = 'RETAIL' and coin(device_id, 'work') < coalesce((getvariable('device_priors')->'ips'->'work_share'->>device_type)::DOUBLE, 0e0)
union all
-- anonymizers: a share of devices by region, most farms
select device_id, 'VPN_PROXY', region, NULL, NULL, region from device_ctx
where device_type <> 'POS_TERMINAL'
  and coin(device_id, 'anonymizer') < CASE WHEN is_farm THEN dpd('$.farms.anonymizer_share') ELSE (getvariable('device_priors')->'ips'->'anonymizer_share'->>region)::DOUBLE END
union all
select device_id, 'DATACENTER', region, NULL, NULL, region from device_ctx
where coin(device_id, 'hosting') < coalesce((getvariable('device_priors')->'ips'->'hosting_share'->>device_type)::DOUBLE, 0e0);

-- step: ip_pools
-- Pooled IPs: carrier, VPN and hosting pools sized from their uses (devices_per_ip); employers are
-- the businesses of the country. Each IP has a popularity weight (lognormal, mean 1); a VPN or
-- hosting IP sits in a country of its region, by parties.
create table region_country_cum as
select region, list(country_iso order by country_iso) as isos, list(cum order by country_iso) as cumw
from (select region, country_iso, (sum(n::DECIMAL(38, 0)) over (partition by region order by country_iso rows between unbounded preceding and current row))::DOUBLE as cum
      from (select region, country_iso, count(*) as n from s1_party_base_6A group by all))
group by region;
create table pool_ips as
with sized as (
  select ip_type, pool, any_value(region) as region, any_value(country_iso) as country_iso,
         ceil(count(*) / (getvariable('device_priors')->'ips'->'devices_per_ip'->>ip_type)::DOUBLE)::BIGINT as n
  from uses where owner_key IS NULL and ip_type <> 'CORPORATE' group by ip_type, pool
), slots as (
  select s.ip_type, s.pool, s.region, s.country_iso, unnest(range(s.n))::UBIGINT + 1 as owner_key from sized s
), employers as (
  select 'CORPORATE' as ip_type, country_iso as pool, region, country_iso, party_id as owner_key
  from s1_party_base_6A where party_type = 'BUSINESS'
), all_pooled as (from slots union all from employers)
select a.ip_type, a.pool, a.owner_key, a.region,
       coalesce(a.country_iso, c.isos[pick_index(c.cumw, u01(prf3(getvariable('stream_key'), key_of(a.ip_type || '/' || a.pool), a.owner_key, key_of('country'))))]) as country_iso,
       draw_lognormal(prf3(getvariable('stream_key'), key_of(a.ip_type || '/' || a.pool), a.owner_key, key_of('popularity')),
                      -0.5e0 * pow((getvariable('device_priors')->'ips'->'popularity_sigma'->>a.ip_type)::DOUBLE, 2),
                      (getvariable('device_priors')->'ips'->'popularity_sigma'->>a.ip_type)::DOUBLE) as w
from all_pooled a join region_country_cum c using (region);
-- Cumulative popularity per pool (summed exactly), so a use's uniform picks an IP by an as-of join.
create table pool_cum as
select ip_type, pool, owner_key, country_iso, region,
       (coalesce(sum(w::DECIMAL(38, 12)) over (partition by ip_type, pool order by owner_key rows between unbounded preceding and 1 preceding), 0))::DOUBLE as cum_lo,
       (sum(w::DECIMAL(38, 12)) over (partition by ip_type, pool))::DOUBLE as total
from pool_ips;
create table resolved as
with picks as (
  select u.device_id, u.ip_type, u.pool, t.total * u01(prf3(getvariable('stream_key'), u.device_id, key_of(u.ip_type), key_of('pick'))) as x
  from uses u join (select ip_type, pool, any_value(total) as total from pool_cum group by all) t using (ip_type, pool)
  where u.owner_key IS NULL
)
select p.device_id, p.ip_type, p.pool, c.owner_key, c.country_iso, c.region
from picks p asof join pool_cum c on c.ip_type = p.ip_type and c.pool = p.pool and p.x >= c.cum_lo
union all
select device_id, ip_type, pool, owner_key, country_iso, region from uses where owner_key IS NOT NULL;

-- step: ips
-- Only IPs some device uses exist; ids in (country, type, pool, owner) order.
create table asn_cum as
select grp as ip_type, categories as classes, cumw from cumulative_mixes(getvariable('device_priors')->'ips'->'asn_class');
create table s4_ip_base_6A as
with used as (select distinct ip_type, pool, owner_key, country_iso, region from resolved)
select row_number() over (order by u.country_iso, u.ip_type, u.pool, u.owner_key)::UBIGINT as ip_id,
       u.country_iso, u.region, u.ip_type,
       a.classes[pick_index(a.cumw, u01(prf3(getvariable('stream_key'), key_of(u.ip_type || '/' || u.pool), u.owner_key, key_of('asn'))))] as asn_class,
       u.pool, u.owner_key
from used u join asn_cum a using (ip_type);
create table s4_ip_links_6A as
select distinct r.device_id, i.ip_id
from resolved r join s4_ip_base_6A i using (ip_type, pool, owner_key);
alter table s4_ip_base_6A drop column pool;
alter table s4_ip_base_6A drop column owner_key;
