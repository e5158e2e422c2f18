-- step: sessions
create macro ap(path) as getvariable('attachment_policy')->>path;
-- PRF lanes (states/_lib/lanes.md): each kind of id behind its named lane (DuckDB folds
-- mix64(stream_key, lane) to a constant: a lane costs nothing per row).
create macro lane(name) as key_of('6B.S1/' || name);
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
  u01(prf2(getvariable('stream_key'), lane('continue'), flow_id)) < CASE channel WHEN 'CP' THEN getvariable('continue_cp') ELSE getvariable('continue_cnp') END;
create table narrow as
select (a.merchant_id << 32) + a.arrival_seq::UBIGINT as flow_id, a.ts_utc, a.channel_group::channel_6b as channel_group, coalesce(s.cno, m.cno) as cno,
       a.tzid::zone_6b as tzid, date_diff('minute', a.ts_utc, a.ts_local)::SMALLINT as local_offset, coalesce(a.site_id, a.edge_id) as place_id,
       CASE WHEN a.channel_group = 'CP' THEN stream_of(getvariable('scope_cp'), a.merchant_id, coalesce(s.cno, m.cno))
            ELSE stream_of(getvariable('scope_cnp'), a.merchant_id, coalesce(s.cno, m.cno)) END as stream,
       CASE WHEN a.arrival_seq >= 4294967296 OR a.merchant_id >= 4294967296 THEN error('6B.S1: merchant_id or arrival_seq beyond 2^32: flow ids would collide') END as guard
from arrival_events_5B a join merchant_cno m using (merchant_id) left join site_cno s on s.site_id = a.site_id;
-- Only channels whose continue_probability is above zero need the windows: elsewhere every
-- arrival opens its own session and closes it (the same result, without sorting those arrivals).
create macro windowed(channel) as CASE channel WHEN 'CP' THEN getvariable('continue_cp') ELSE getvariable('continue_cnp') END > 0e0;
create table marked as
select flow_id, ts_utc, channel_group, cno, tzid, local_offset, place_id, stream, row_number() over w as rn,
       lag(ts_utc) over w IS NULL OR date_diff('microsecond', lag(ts_utc) over w, ts_utc) >= getvariable('timeout_us') OR NOT continues(channel_group, flow_id) as opens,
       lead(ts_utc) over w IS NULL OR date_diff('microsecond', ts_utc, lead(ts_utc) over w) >= getvariable('timeout_us') OR NOT continues(channel_group, lead(flow_id) over w) as closes
from narrow where windowed(channel_group) window w as (partition by stream, channel_group order by ts_utc, flow_id);
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
create view cut as
select n.flow_id, n.ts_utc, n.channel_group, n.tzid, n.local_offset, n.place_id, n.pos % getvariable('max_arrivals') + 1 as pos_in,
       n.closes OR n.pos % getvariable('max_arrivals') = getvariable('max_arrivals') - 1 as last_in,
       coalesce(c.flow_id, n.open_flow) as session_id, coalesce(c.ts_utc, n.open_ts) as start_utc, coalesce(c.cno, n.open_cno) as session_cno
from numbered n left join chunk_openers c
  on n.pos >= getvariable('max_arrivals') and c.stream = n.stream and c.channel_group = n.channel_group and c.open_flow = n.open_flow and c.chunk = n.pos // getvariable('max_arrivals')
union all
select flow_id, ts_utc, channel_group, tzid, local_offset, place_id, 1, true, flow_id, ts_utc, cno
from narrow where not windowed(channel_group);

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
select *, pexp(ap('$.activity_sigma')::DOUBLE * norm_inv(u01(prf2(getvariable('stream_key'), lane('activity'), party_id)))
               - ap('$.activity_sigma')::DOUBLE * ap('$.activity_sigma')::DOUBLE / 2e0) as activity
from n;
-- Cumulative activity per (channel, country) and per channel over all countries, in units of 2^-20
-- (integers: exact sums): a party owns the range [lo, lo + w) of its pool. A draw x in [0, total)
-- picks the party whose range holds it, found by an equality join on x's bucket (the pool's range
-- cut into about one bucket a party; a party is listed in every bucket its range meets) and a
-- range test: no sort of the draws.
create table pool_cum as
with eligible as (
  select 'CP'::channel_6b as channel_group, party_id, country_iso, activity from party_pool where n_cp > 0
  union all
  select 'CNP'::channel_6b, party_id, country_iso, activity from party_pool where n_cnp > 0 and n_dev > 0
), scaled as (select *, greatest(1, round(activity * 1048576e0))::BIGINT as w from eligible)
select channel_group, country_iso, party_id, w,
       sum(w) over (partition by channel_group, country_iso order by party_id rows between unbounded preceding and current row)::BIGINT - w as cum_lo,
       sum(w) over (partition by channel_group order by country_iso, party_id rows between unbounded preceding and current row)::BIGINT - w as gcum_lo
from scaled;
create table pool_total as
select p.channel_group, k.cno, max(p.cum_lo + p.w) as total, greatest(1, max(p.cum_lo + p.w) // count(*)) as width
from pool_cum p join country_no k using (country_iso) group by all;
create table pool_gtotal as
select channel_group, max(gcum_lo + w) as total, greatest(1, max(gcum_lo + w) // count(*)) as width from pool_cum group by all;
-- the home pools keyed by their country's number, the pools of every country by -1
create table buckets as
select p.channel_group, t.cno, p.party_id, p.cum_lo as lo, p.cum_lo + p.w as hi, unnest(range(p.cum_lo // t.width, (p.cum_lo + p.w - 1) // t.width + 1)) as b
from pool_cum p join country_no k using (country_iso) join pool_total t on t.channel_group = p.channel_group and t.cno = k.cno
union all
select p.channel_group, -1::SMALLINT, p.party_id, p.gcum_lo, p.gcum_lo + p.w, unnest(range(p.gcum_lo // t.width, (p.gcum_lo + p.w - 1) // t.width + 1))
from pool_cum p join pool_gtotal t using (channel_group);
create table cards_at as
select 'CP'::channel_6b as channel_group, party_id, ord, instrument_id, account_id from cards_cp
union all select 'CNP'::channel_6b, party_id, ord_cnp, instrument_id, account_id from cards;
create table ip_count as select device_id, count(*) as n_ip from device_ips group by all;

-- step: attach
set variable home_cp = ap('$.home_share.CP')::DOUBLE;
set variable home_cnp = ap('$.home_share.CNP')::DOUBLE;
-- One party per session: from the session's country (the opener's outlet or merchant country) with
-- home_share (when that pool has anyone), else from every eligible party, weighted by activity;
-- then a card of the party, and for card not present a device of the party and an IP that device
-- uses. Every draw is keyed by the session id, so each arrival of a session computes the same
-- entities (no join of sessions back onto their arrivals). A session's row is its last arrival's:
-- its size is that arrival's position, its end that arrival's time.
create table attached as
with d as (
  select c.*, prf2(getvariable('stream_key'), lane('session'), c.session_id) as sk from cut c
), h as (
  select d.*, t.total IS NOT NULL AND u01(mix64(d.sk, 1)) < CASE d.channel_group WHEN 'CP' THEN getvariable('home_cp') ELSE getvariable('home_cnp') END as home,
         t.total as home_total, t.width as home_width, g.total as away_total, g.width as away_width
  from d left join pool_total t on t.channel_group = d.channel_group and t.cno = d.session_cno join pool_gtotal g on g.channel_group = d.channel_group
), x as (
  select h.* exclude (home_total, home_width, away_total, away_width),
         floor(u01(mix64(h.sk, 2)) * CASE WHEN h.home THEN h.home_total ELSE h.away_total END)::BIGINT as x,
         CASE WHEN h.home THEN h.home_width ELSE h.away_width END as width
  from h
), p as (
  select x.* exclude (x, width), b.party_id
  from x join buckets b on b.channel_group = x.channel_group and b.cno = CASE WHEN x.home THEN x.session_cno ELSE -1 END
                        and b.b = x.x // x.width and x.x >= b.lo and x.x < b.hi
), c as (
  select p.*, floor(u01(mix64(p.sk, 3)) * CASE p.channel_group WHEN 'CP' THEN q.n_cp ELSE q.n_cnp END)::BIGINT as card_ord,
         CASE WHEN p.channel_group = 'CNP' THEN floor(u01(mix64(p.sk, 4)) * q.n_dev)::BIGINT END as dev_ord
  from p join party_pool q using (party_id)
), e as (
  select c.* exclude (card_ord, dev_ord, home, session_cno), k.instrument_id, k.account_id, d.device_id
  from c join cards_at k on k.channel_group = c.channel_group and k.party_id = c.party_id and k.ord = c.card_ord
  left join party_devices d on d.party_id = c.party_id and d.ord = c.dev_ord
)
select e.* exclude (sk), i.ip_id
from e left join ip_count n on n.device_id = e.device_id
left join device_ips i on i.device_id = e.device_id and i.ord = floor(u01(mix64(e.sk, 5)) * n.n_ip)::BIGINT;
drop view cut; drop table numbered; drop table chunk_openers; drop table narrow;
-- the published tables are views over the attached arrivals (computed as each file is written)
create view s1_session_index_6B as
select session_id, (session_id >> 32) as first_merchant_id, channel_group::VARCHAR as channel_group, party_id, account_id, instrument_id, device_id, ip_id,
       pos_in::INTEGER as arrival_count, start_utc, ts_utc as end_utc
from attached where last_in;
create view s1_arrival_entities_6B as
select flow_id, flow_id >> 32 as merchant_id, (flow_id & 4294967295::UBIGINT)::BIGINT as arrival_seq, ts_utc, ts_utc + to_minutes(local_offset) as ts_local,
       tzid::VARCHAR as tzid, channel_group::VARCHAR as channel_group, CASE WHEN channel_group = 'CP' THEN place_id END as site_id, CASE WHEN channel_group = 'CNP' THEN place_id END as edge_id,
       session_id, party_id, account_id, instrument_id, device_id, ip_id
from attached;
