-- step: sessions
create macro ap(path) as getvariable('attachment_policy')->>path;
-- Along a stream of arrivals in time, an arrival continues the previous one's session with
-- continue_probability while the gap is below the timeout; a session longer than max_arrivals is
-- split (the guardrail). The stream of a channel is per merchant (scope merchant: at a till the
-- next customer is someone else), per merchant country (scope country: an online session moves
-- between a country's shops) or one for the whole channel (scope channel). flow_id = merchant_id x
-- 2^32 + arrival_seq; session_id is the flow_id of its first arrival.
-- The passes over a hundred million arrivals carry integers only (flow id, stream, time, channel,
-- a country's number): two window passes in one ordering, the first opening sessions (the gap to
-- the previous arrival, the continue draw) and marking each session's last arrival (the same test
-- on the next one), the second numbering arrivals within their session and taking its opener's
-- flow, time and country. A session's row is its last arrival's; the arrival columns are joined
-- back once, by flow id.
create type zone_6b as enum (select distinct tzid from arrival_events_5B order by tzid);
create type channel_6b as enum ('CP', 'CNP');
create table country_no as
select country_iso, (row_number() over (order by country_iso))::SMALLINT as cno
from (select country_iso from outlets_1A union select legal_country_iso from merchants_1A);
create table merchant_cno as select m.merchant_id, c.cno from merchants_1A m join country_no c on c.country_iso = m.legal_country_iso;
create table site_cno as select o.site_id, c.cno from outlets_1A o join country_no c using (country_iso);
set variable scope_cp = ap('$.session.scope.CP');
set variable scope_cnp = ap('$.session.scope.CNP');
set variable timeout_us = (ap('$.session.timeout_seconds')::DOUBLE * 1e6)::BIGINT;
set variable continue_cp = ap('$.session.continue_probability.CP')::DOUBLE;
set variable continue_cnp = ap('$.session.continue_probability.CNP')::DOUBLE;
set variable max_arrivals = ap('$.session.max_arrivals')::BIGINT;
create macro stream_of(scope, merchant_id, cno) as
  CASE scope WHEN 'merchant' THEN merchant_id WHEN 'country' THEN 4611686018427387904::UBIGINT + cno::UBIGINT ELSE 9223372036854775808::UBIGINT END;
create macro continues(channel, flow_id) as
  u01(mix64(getvariable('stream_key'), flow_id)) < CASE channel WHEN 'CP' THEN getvariable('continue_cp') ELSE getvariable('continue_cnp') END;
create table narrow as
select (a.merchant_id << 32) + a.arrival_seq::UBIGINT as flow_id, a.ts_utc, a.channel_group::channel_6b as channel_group, coalesce(s.cno, m.cno) as cno,
       a.tzid::zone_6b as tzid, date_diff('minute', a.ts_utc, a.ts_local)::SMALLINT as local_offset, coalesce(a.site_id, a.edge_id) as place_id,
       CASE WHEN a.channel_group = 'CP' THEN stream_of(getvariable('scope_cp'), a.merchant_id, coalesce(s.cno, m.cno))
            ELSE stream_of(getvariable('scope_cnp'), a.merchant_id, coalesce(s.cno, m.cno)) END as stream,
       CASE WHEN a.arrival_seq >= 4294967296 OR a.merchant_id >= 4294967296 THEN error('6B.S1: merchant_id or arrival_seq beyond 2^32: flow ids would collide') END as guard
from arrival_events_5B a join merchant_cno m using (merchant_id) left join site_cno s on s.site_id = a.site_id;
create table marked as
select flow_id, ts_utc, channel_group, cno, tzid, local_offset, place_id, stream, row_number() over w as rn,
       lag(ts_utc) over w IS NULL OR date_diff('microsecond', lag(ts_utc) over w, ts_utc) >= getvariable('timeout_us') OR NOT continues(channel_group, flow_id) as opens,
       lead(ts_utc) over w IS NULL OR date_diff('microsecond', ts_utc, lead(ts_utc) over w) >= getvariable('timeout_us') OR NOT continues(channel_group, lead(flow_id) over w) as closes
from narrow window w as (partition by stream, channel_group order by ts_utc, flow_id);
drop table narrow;
create table numbered as
select flow_id, ts_utc, channel_group, cno, tzid, local_offset, place_id, stream, rn, opens, closes,
       rn - max(CASE WHEN opens THEN rn END) over w as pos,
       last_value(CASE WHEN opens THEN cno END IGNORE NULLS) over w as open_cno,
       last_value(CASE WHEN opens THEN flow_id END IGNORE NULLS) over w as open_flow,
       last_value(CASE WHEN opens THEN ts_utc END IGNORE NULLS) over w as open_ts
from marked window w as (partition by stream, channel_group order by rn rows between unbounded preceding and current row);
drop table marked;
-- the guardrail: a session's arrivals at positions k x max_arrivals (k >= 1) open a new one (rare:
-- only sessions longer than max_arrivals have them); every arrival belongs to the opener of its chunk
create table chunk_openers as
select stream, channel_group, open_flow, pos // getvariable('max_arrivals') as chunk, flow_id, ts_utc, cno
from numbered where pos >= getvariable('max_arrivals') and pos % getvariable('max_arrivals') = 0;
create table cut as
select n.flow_id, n.ts_utc, n.channel_group, n.tzid, n.local_offset, n.place_id, n.pos % getvariable('max_arrivals') + 1 as pos_in,
       n.closes OR n.pos % getvariable('max_arrivals') = getvariable('max_arrivals') - 1 as last_in,
       coalesce(c.flow_id, n.open_flow) as session_id, coalesce(c.ts_utc, n.open_ts) as start_utc, coalesce(c.cno, n.open_cno) as session_cno
from numbered n left join chunk_openers c
  on n.pos >= getvariable('max_arrivals') and c.stream = n.stream and c.channel_group = n.channel_group and c.open_flow = n.open_flow and c.chunk = n.pos // getvariable('max_arrivals');
drop table numbered; drop table chunk_openers;

-- step: pools
-- (after the sessions: the windows over the arrivals get the memory)
-- What a party can pay with: card present needs a physical card (debit or credit), card not
-- present any card and a device of its own (not a terminal) that uses at least one IP. Each
-- usable item is numbered 0..n-1 per party for an index pick. A party's activity weight is
-- exp(sigma z - sigma^2 / 2): heavy-tailed, mean 1.
create table cards as
select party_id, instrument_id, account_id, instrument_type IN ('DEBIT_CARD', 'CREDIT_CARD') as physical,
       (row_number() over (partition by party_id order by instrument_id) - 1)::BIGINT as ord_cnp
from s3_instrument_base_6A where instrument_type IN ('DEBIT_CARD', 'CREDIT_CARD', 'VIRTUAL_CARD');
create table cards_cp as
select party_id, instrument_id, account_id, (row_number() over (partition by party_id order by instrument_id) - 1)::BIGINT as ord from cards where physical;
create table device_ips as
select l.device_id, l.ip_id, (row_number() over (partition by l.device_id order by l.ip_id) - 1)::BIGINT as ord from s4_ip_links_6A l;
create table party_devices as
select k.party_id, k.device_id, (row_number() over (partition by k.party_id order by k.device_id) - 1)::BIGINT as ord
from s4_device_links_6A k join s4_device_base_6A d using (device_id)
where d.device_type <> 'POS_TERMINAL' and k.device_id IN (select device_id from device_ips);
create table party_pool as
with n as (
  select p.party_id, p.country_iso,
         (select count(*) from cards_cp c where c.party_id = p.party_id) as n_cp,
         (select count(*) from cards c where c.party_id = p.party_id) as n_cnp,
         (select count(*) from party_devices d where d.party_id = p.party_id) as n_dev
  from s1_party_base_6A p
)
select *, pexp(ap('$.activity_sigma')::DOUBLE * norm_inv(u01(mix64(getvariable('stream_key'), party_id)))
               - ap('$.activity_sigma')::DOUBLE * ap('$.activity_sigma')::DOUBLE / 2e0) as activity
from n;
-- Cumulative activity per (channel, country) and per channel over all countries, in units of 2^-20
-- (integers: exact sums), for an as-of pick weighted by activity.
create table pool_cum as
with eligible as (
  select 'CP' as channel_group, party_id, country_iso, activity from party_pool where n_cp > 0
  union all
  select 'CNP', party_id, country_iso, activity from party_pool where n_cnp > 0 and n_dev > 0
), scaled as (select *, greatest(1, round(activity * 1048576e0))::BIGINT as w from eligible)
select channel_group, country_iso, party_id,
       sum(w) over (partition by channel_group, country_iso order by party_id rows between unbounded preceding and current row) - w as cum_lo,
       sum(w) over (partition by channel_group order by country_iso, party_id rows between unbounded preceding and current row) - w as gcum_lo
from scaled;
create table pool_total as
select channel_group, country_iso, max(cum_lo) + 1 as total from pool_cum group by all;
create table pool_gtotal as
select channel_group, max(gcum_lo) + 1 as total from pool_cum group by all;

-- step: attach
set variable home_cp = ap('$.home_share.CP')::DOUBLE;
set variable home_cnp = ap('$.home_share.CNP')::DOUBLE;
-- One party per session: from the merchant's country with home_share (when that pool has anyone),
-- else from every eligible party, weighted by activity; then a card of the party, and for card
-- not present a device of the party and an IP that device uses. A session is its last arrival's
-- row: its size is that arrival's position, its end that arrival's time, its country and start
-- its opener's.
create table sessions as
select c.session_id, (c.session_id >> 32) as first_merchant_id, c.channel_group, k.country_iso as merchant_country, c.pos_in as arrival_count, c.start_utc, c.ts_utc as end_utc
from cut c join country_no k on k.cno = c.session_cno where c.last_in;
create table session_draws as
select s.*, prf2(getvariable('stream_key'), s.session_id, 7) as sk,
       t.total IS NOT NULL AND u01(prf2(getvariable('stream_key'), s.session_id, 1)) < CASE s.channel_group WHEN 'CP' THEN getvariable('home_cp') ELSE getvariable('home_cnp') END as home
from sessions s left join pool_total t on t.channel_group = s.channel_group and t.country_iso = s.merchant_country;
create table session_home as
select d.session_id, floor(u01(mix64(d.sk, 2)) * t.total)::BIGINT as x, d.channel_group, d.merchant_country
from session_draws d join pool_total t on t.channel_group = d.channel_group and t.country_iso = d.merchant_country where d.home;
create table session_away as
select d.session_id, floor(u01(mix64(d.sk, 2)) * t.total)::BIGINT as x, d.channel_group
from session_draws d join pool_gtotal t using (channel_group) where not d.home;
create table session_party as
select h.session_id, c.party_id from session_home h asof join pool_cum c
  on c.channel_group = h.channel_group and c.country_iso = h.merchant_country and h.x >= c.cum_lo
union all
select a.session_id, c.party_id from session_away a asof join pool_cum c
  on c.channel_group = a.channel_group and a.x >= c.gcum_lo;
create table session_entities as
with p as (
  select d.session_id, d.channel_group, d.sk, s.party_id, q.n_cp, q.n_cnp, q.n_dev
  from session_draws d join session_party s using (session_id) join party_pool q using (party_id)
), c as (
  select p.*, floor(u01(mix64(p.sk, 3)) * CASE p.channel_group WHEN 'CP' THEN p.n_cp ELSE p.n_cnp END)::BIGINT as card_ord,
         CASE WHEN p.channel_group = 'CNP' THEN floor(u01(mix64(p.sk, 4)) * p.n_dev)::BIGINT END as dev_ord
  from p
), cp as (
  select c.session_id, c.party_id, k.instrument_id, k.account_id, NULL::UBIGINT as device_id, c.sk
  from c join cards_cp k on k.party_id = c.party_id and k.ord = c.card_ord where c.channel_group = 'CP'
), cnp as (
  select c.session_id, c.party_id, k.instrument_id, k.account_id, d.device_id, c.sk
  from c join cards k on k.party_id = c.party_id and k.ord_cnp = c.card_ord
         join party_devices d on d.party_id = c.party_id and d.ord = c.dev_ord
  where c.channel_group = 'CNP'
), ipn as (select device_id, count(*) as n_ip from device_ips group by all)
select e.session_id, e.party_id, e.instrument_id, e.account_id, e.device_id, i.ip_id
from (select * from cp union all select * from cnp) e
left join ipn n on n.device_id = e.device_id
left join device_ips i on i.device_id = e.device_id and i.ord = floor(u01(mix64(e.sk, 5)) * n.n_ip)::BIGINT;
create table s1_session_index_6B as
select s.session_id, s.first_merchant_id, s.channel_group, e.party_id, e.account_id, e.instrument_id, e.device_id, e.ip_id,
       s.arrival_count::INTEGER as arrival_count, s.start_utc, s.end_utc
from sessions s join session_entities e using (session_id);
create table s1_arrival_entities_6B as
select c.flow_id, c.flow_id >> 32 as merchant_id, (c.flow_id & 4294967295::UBIGINT)::BIGINT as arrival_seq, c.ts_utc, c.ts_utc + to_minutes(c.local_offset) as ts_local,
       c.tzid, c.channel_group, CASE WHEN c.channel_group = 'CP' THEN c.place_id END as site_id, CASE WHEN c.channel_group = 'CNP' THEN c.place_id END as edge_id,
       c.session_id, e.party_id, e.account_id, e.instrument_id, e.device_id, e.ip_id
from cut c join session_entities e using (session_id);
