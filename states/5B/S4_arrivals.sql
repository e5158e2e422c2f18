-- step: sites
-- Where a key's arrivals happen: a CP key's at the merchant's outlets in that zone (equal weight),
-- a CNP key's at its virtual edges in that zone; numbered 0..n-1 per key for an index pick.
create table key_sites as
select g.key_id, o.site_id as place_id, (row_number() over (partition by g.key_id order by o.site_id) - 1)::BIGINT as ord
from outlets_1A o join s1_grouping_5B g on g.merchant_id = o.merchant_id and g.tzid = o.tzid and g.channel_group = 'CP'
union all
select g.key_id, e.edge_id, (row_number() over (partition by g.key_id order by e.edge_id) - 1)::BIGINT
from virtual_edges_1A e join s1_grouping_5B g on g.merchant_id = e.merchant_id and g.tzid = e.tzid and g.channel_group = 'CNP';
-- Per key: its places (the first id, and whether the ids run contiguously, as they do for most
-- keys, so the pick is first + index without a join), its rank among the merchant's keys (for
-- arrival_seq), its zone's number, and its cells' PRF key up to the bucket: prf3(stream_key,
-- merchant, zone+channel, .) evaluated to the level before the bucket.
-- zones and channels as ENUMs: the arrivals' string columns are then one byte each through the
-- table, the sort and the Parquet writer (which writes them as strings): about 20 s less at full scale
create type zone_t as enum (select distinct tzid from s1_time_grid_5B order by tzid);
create type channel_t as enum ('CP', 'CNP');
create table zones as select tzid, (row_number() over (order by tzid))::INTEGER as zone_id from (select distinct tzid from s1_time_grid_5B);
create table key_prf_in as
select g.key_id, g.merchant_id, g.tzid::zone_t as tzid, z.zone_id, g.channel_group::channel_t as channel_group, n.n_places, n.first_place, n.n_places = n.last_place - n.first_place + 1 as contiguous,
       (row_number() over (partition by g.merchant_id order by g.tzid, g.channel_group))::INTEGER as key_rank,
       xor(mix64(getvariable('stream_key'), g.merchant_id), splitmix64(xor(key_of(g.tzid), CASE g.channel_group WHEN 'CP' THEN 1 ELSE 2 END::UBIGINT))) as sm_in
from s1_grouping_5B g join zones z using (tzid)
join (select key_id, count(*) as n_places, min(place_id) as first_place, max(place_id) as last_place from key_sites group by all) n using (key_id);
create table keys as select * exclude (sm_out), sm_out as kz from splitmix_table(key_prf_in);
drop table key_prf_in;
create table other_sites as select s.key_id, s.ord, s.place_id from key_sites s join keys k using (key_id) where not k.contiguous;
create table zone_grid as
select z.zone_id, g.bucket_index, g.bucket_start_utc, date_diff('microsecond', g.bucket_start_utc, g.bucket_end_utc)::UBIGINT as bucket_us, g.utc_offset_minutes, g.offset_changes
from s1_time_grid_5B g join zones z using (tzid);

-- step: events
-- One row per arrival: the cell's key prf3(stream, merchant, zone+channel, bucket) and a counter k
-- per arrival (draw_at(cell key, k)). One 64-bit draw per arrival: its high 32 bits place it in the
-- bucket (microseconds), its low 32 bits pick the site or edge. arrival_seq numbers a merchant's
-- arrivals by (bucket, zone, channel, k): a running sum over the merchant's cells gives each cell's
-- first number. Local time: the bucket's UTC offset, or ICU for the rare bucket whose offset
-- changes inside it. The cells carry integers only: what an arrival takes from its key (merchant,
-- zone, places) and its bucket (start, offset) is joined to the draws, not copied onto 70 M cells.
create table bucket_mix as select distinct bucket_index, splitmix64(bucket_index::UBIGINT) as bm from s1_time_grid_5B;
create table cell_in as
select c.key_id::INTEGER as key_id, c.bucket_index::SMALLINT as bucket_index, c.count_n as draw_n, xor(k.kz, b.bm) as sm_in,
       (sum(c.count_n) over (partition by k.merchant_id order by c.bucket_index, k.key_rank rows between unbounded preceding and current row) - c.count_n)::INTEGER as seq0
from s3_bucket_counts_5B c join keys k using (key_id) join bucket_mix b using (bucket_index);
create table cells as select key_id, bucket_index, seq0, sm_out as draw_key, draw_n from splitmix_table(cell_in);
drop table cell_in;
-- The table holds what the draws decide, narrow (about 35 bytes a row: 125 M rows then mostly fit
-- in memory); the published columns that follow from them (local time from the offset, site or
-- edge from the channel) are a view over it, computed as each file is written.
create table arrivals as
with d as (
  select d.seq0 + d.draw_j + 1 as arrival_seq, d.bucket_index, k.merchant_id, k.tzid, k.channel_group, k.contiguous, k.first_place, d.key_id,
         g.bucket_start_utc + to_microseconds((((d.draw_x >> 32) * g.bucket_us) >> 32)::BIGINT) as ts_utc,
         (((d.draw_x & 4294967295::UBIGINT) * k.n_places::UBIGINT) >> 32)::BIGINT as ord, g.utc_offset_minutes, g.offset_changes
  from counter_draws(cells) d join keys k using (key_id) join zone_grid g on g.zone_id = k.zone_id and g.bucket_index = d.bucket_index
)
select d.merchant_id, d.arrival_seq::INTEGER as arrival_seq, d.bucket_index, d.ts_utc, d.tzid,
       CASE WHEN d.offset_changes THEN date_diff('minute', d.ts_utc, timezone(d.tzid::VARCHAR, d.ts_utc AT TIME ZONE 'UTC')) ELSE d.utc_offset_minutes END::SMALLINT as offset_minutes,
       CASE WHEN d.contiguous THEN d.first_place + d.ord::UBIGINT ELSE s.place_id END as place_id, d.channel_group
from d left join other_sites s on s.key_id = d.key_id and s.ord = d.ord;
create view arrival_events_5B as
select merchant_id, arrival_seq::BIGINT as arrival_seq, bucket_index::INTEGER as bucket_index, ts_utc, tzid,
       ts_utc + to_minutes(offset_minutes) as ts_local,
       CASE WHEN channel_group = 'CP' THEN place_id END as site_id,
       CASE WHEN channel_group = 'CNP' THEN place_id END as edge_id,
       channel_group = 'CNP' as is_virtual, channel_group
from arrivals;
drop table cells; drop table keys; drop table key_sites; drop table other_sites; drop table zone_grid; drop table bucket_mix; drop table zones;
