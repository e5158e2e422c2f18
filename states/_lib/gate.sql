-- S0 gate blocks (ENGINE.md "Laws"): every segment's S0 seals what the segment reads.
-- sealed_files(): one row per file input of the running state, from the orchestrator's
-- inputs_manifest: path, role, schema ref, sha256 (content digest).
create or replace macro sealed_files() as table
select f->>'path' as path, f->>'role' as role, f->>'schema' as schema_ref, f->>'sha256' as sha256
from (select unnest(from_json(getvariable('inputs_manifest'), '["JSON"]')) as f)
where f->>'kind' = 'file';

-- The S0 receipt: the upstream gates the orchestrator verified (segment, gate state, flag digest:
-- what was verified, not where it lay, so a receipt does not change with the run's manifest
-- fingerprint) and one digest over the sealed inputs, sorted by path.
create or replace macro s0_gate_receipt(seg) as table
select json_object(
  'segment', seg,
  'upstream', coalesce((
    select list(json_object('segment', k, 'status', 'PASS', 'gate_state', getvariable('upstream_gates')->k->>'gate_state',
                            'flag_digest', getvariable('upstream_gates')->k->>'flag_digest') order by k)
    from (select unnest(json_keys(getvariable('upstream_gates'))) as k)), []),
  'sealed_inputs', (select count(*) from sealed_files()),
  'sealed_inputs_digest', (select sha256(coalesce(string_agg(path || '=' || sha256, chr(10) order by path), '')) from sealed_files())
) as doc;

-- Fails the state if it reads a file its segment's S0 did not seal, or one that changed since.
-- unsealed_reads('sealed_inputs_XX') lists them; assert_sealed raises the error.
create or replace macro unsealed_reads(sealed) as table
select f.path from sealed_files() f
where not exists (select 1 from query_table(sealed) s where s.path = f.path and s.sha256 = f.sha256);
create or replace macro assert_sealed(sealed) as table
select CASE WHEN count(*) > 0 THEN error('reads inputs its segment''s S0 did not seal (or that changed since): ' || string_agg(path, ', ' order by path)) ELSE true END as sealed
from unsealed_reads(sealed);
