-- step: sites
-- Where a key's arrivals happen: a CP key's at the merchant's outlets in that zone (equal weight),
-- a CNP key's at its virtual edges in that zone; numbered 0..n-1 for an index pick.
create table key_sites as
select merchant_id, tzid, 'CP' as channel_group, site_id as place_id, (row_number() over (partition by merchant_id, tzid order by site_id) - 1)::BIGINT as ord
from outlets_1A
union all
select merchant_id, tzid, 'CNP', edge_id, (row_number() over (partition by merchant_id, tzid order by edge_id) - 1)::BIGINT
from virtual_edges_1A;
create table key_site_counts as
select merchant_id, tzid, channel_group, count(*) as n_places from key_sites group by all;

-- step: events
-- One row per arrival: the cell's key (merchant, zone, channel, bucket) and a counter k per arrival.
-- One 64-bit draw per arrival: its high 32 bits place it in the bucket (microseconds), its low 32
-- bits pick the site or edge. Local time: the bucket's UTC offset, or ICU for the rare bucket whose
-- offset changes inside it.
create table zone_keys as
select tzid, xor(key_of(tzid), CASE channel_group WHEN 'CP' THEN 1 ELSE 2 END::UBIGINT) as zk, channel_group
from (select distinct tzid, channel_group from s3_bucket_counts_5B);
create table expanded as
select c.merchant_id, c.tzid, c.channel_group, c.bucket_index, unnest(range(c.count_n)) as k,
       prf3(getvariable('stream_key'), c.merchant_id, z.zk, c.bucket_index) as cell_key
from s3_bucket_counts_5B c join zone_keys z using (tzid, channel_group);
create table drawn as
select e.merchant_id, e.tzid, e.channel_group, e.bucket_index, e.k, mix64(e.cell_key, e.k) as x,
       g.bucket_start_utc, g.utc_offset_minutes, g.offset_changes, g.bucket_end_utc
from expanded e join s1_time_grid_5B g using (tzid, bucket_index);
create table arrival_events_5B as
with placed as (
  select d.*, n.n_places,
         d.bucket_start_utc + to_microseconds((((d.x >> 32) * date_diff('microsecond', d.bucket_start_utc, d.bucket_end_utc)::UBIGINT) >> 32)::BIGINT) as ts_utc,
         ((d.x & 4294967295::UBIGINT) * n.n_places::UBIGINT) >> 32 as ord
  from drawn d join key_site_counts n using (merchant_id, tzid, channel_group)
)
select p.merchant_id,
       row_number() over (partition by p.merchant_id order by p.bucket_index, p.tzid, p.channel_group, p.k)::BIGINT as arrival_seq,
       p.bucket_index, p.ts_utc, p.tzid,
       CASE WHEN p.offset_changes THEN timezone(p.tzid, p.ts_utc AT TIME ZONE 'UTC') ELSE p.ts_utc + to_minutes(p.utc_offset_minutes) END as ts_local,
       CASE WHEN p.channel_group = 'CP' THEN s.place_id END as site_id,
       CASE WHEN p.channel_group = 'CNP' THEN s.place_id END as edge_id,
       p.channel_group = 'CNP' as is_virtual, p.channel_group
from placed p join key_sites s on s.merchant_id = p.merchant_id and s.tzid = p.tzid and s.channel_group = p.channel_group and s.ord = p.ord::BIGINT;
