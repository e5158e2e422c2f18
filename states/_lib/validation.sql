-- Validation state pattern (ENGINE.md "Laws"): a kernel fills a table of checks
--   (id, kind 'invariant' | 'realism' | 'metric', value DOUBLE, lo_b, hi_b, lo_bplus, hi_bplus DOUBLE, required BOOLEAN,
--    pending, measured_by, resolves VARCHAR)
-- from the macros below (they all return that one struct shape, so they mix in one list), and a
-- table of offending entities (check_id, entity_type, entity_id UBIGINT, detail), and passes their
-- names to the report macros, which make the report, the issue table and the gate verdict.
-- A band [lo, hi] with NULL for an open end; B is the hard band, B+ the stretch band.
-- A checks table without the pending / measured_by / resolves columns is read as if they were NULL.

-- Bands for realism gates from a policy JSON: policy->'gates'->id = {B: [lo, hi], Bplus: [lo, hi], required,
-- pending: cross-seed | downstream, measured_by}. A gate the policy does not list is an error (a misspelt gate
-- must not pass unbounded).
create or replace macro band(policy, id, which, i) as CASE
  WHEN (policy->'gates'->id) IS NULL THEN error('validation policy has no gate ''' || id || '''')
  ELSE try_cast(policy->'gates'->id->which->>i AS DOUBLE) END;
create or replace macro gate_check(policy, id, v, pending, measured_by, resolves) as {
  'id': id, 'kind': 'realism', 'value': v::DOUBLE,
  'lo_b': band(policy, id, 'B', 0), 'hi_b': band(policy, id, 'B', 1),
  'lo_bplus': band(policy, id, 'Bplus', 0), 'hi_bplus': band(policy, id, 'Bplus', 1),
  'required': coalesce((policy->'gates'->id->>'required')::BOOLEAN, true),
  'pending': pending::VARCHAR, 'measured_by': measured_by::VARCHAR, 'resolves': resolves::VARCHAR};
-- A realism gate measured in this run, graded against the policy's bands.
create or replace macro realism(policy, id, v) as gate_check(policy, id, v, NULL, NULL, NULL);
-- A gate this run cannot measure (a cross-seed gate in one run, a downstream gate before the downstream
-- segment ran): value NULL, status PENDING. It does not fail `passed`; the policy entry says why
-- (pending: cross-seed | downstream, and for downstream measured_by: <segment>).
create or replace macro pending_gate(policy, id) as gate_check(policy, id, NULL,
  CASE WHEN (policy->'gates'->id->>'pending') IS NULL AND (policy->'gates'->id) IS NOT NULL
       THEN error('validation policy gate ''' || id || ''' is not declared pending (add pending: cross-seed | downstream)')
       ELSE policy->'gates'->id->>'pending' END,
  policy->'gates'->id->>'measured_by', NULL);
-- A realism gate that also measures an upstream segment's pending gate: resolves = '<segment>:<check id>'.
-- `dag report --group` takes it as that gate's value in the same run; in this report it is an ordinary gate.
create or replace macro realism_resolving(policy, id, v, resolves) as gate_check(policy, id, v, NULL, NULL,
  CASE WHEN resolves::VARCHAR NOT SIMILAR TO '[^:]+:.+'
       THEN error('resolves must read ''<segment>:<check id>'', got ''' || resolves || '''') ELSE resolves END);
-- A metric is reported with no band (counters, context for the gates); it never fails.
create or replace macro metric(id, v) as {
  'id': id, 'kind': 'metric', 'value': v::DOUBLE,
  'lo_b': NULL::DOUBLE, 'hi_b': NULL::DOUBLE, 'lo_bplus': NULL::DOUBLE, 'hi_bplus': NULL::DOUBLE, 'required': false,
  'pending': NULL::VARCHAR, 'measured_by': NULL::VARCHAR, 'resolves': NULL::VARCHAR};
-- An invariant must hold exactly: value = expected.
create or replace macro invariant(id, v, expected) as {
  'id': id, 'kind': 'invariant', 'value': v::DOUBLE,
  'lo_b': expected::DOUBLE, 'hi_b': expected::DOUBLE, 'lo_bplus': expected::DOUBLE, 'hi_bplus': expected::DOUBLE,
  'required': true, 'pending': NULL::VARCHAR, 'measured_by': NULL::VARCHAR, 'resolves': NULL::VARCHAR};

-- A gate or invariant with no value (NULL) is outside its band: it cannot be shown to hold.
create or replace macro in_band(v, lo, hi) as coalesce((lo IS NULL OR v >= lo) AND (hi IS NULL OR v <= hi), false);

-- Every check graded: status PASS | WARN | FAIL, or PENDING (pass_b, pass_bplus NULL) for a gate not measured here.
create or replace macro graded_checks(checks) as table
with src as (
  from query_table(checks)
  union all by name (select NULL::VARCHAR as pending, NULL::VARCHAR as measured_by, NULL::VARCHAR as resolves limit 0)
), c as (
  select id, kind, round(value, 12) as value, lo_b, hi_b, lo_bplus, hi_bplus, required, pending, measured_by, resolves,
         CASE WHEN pending IS NULL THEN kind = 'metric' OR in_band(value, lo_b, hi_b) END as pass_b,
         CASE WHEN pending IS NULL THEN kind = 'metric' OR in_band(value, lo_bplus, hi_bplus) END as pass_bplus
  from src
)
select *, CASE WHEN pending IS NOT NULL THEN 'PENDING' WHEN NOT pass_b THEN 'FAIL' WHEN NOT pass_bplus THEN 'WARN' ELSE 'PASS' END as status
from c;

-- The report: every check; `passed` (no measured required check failed its B band: the HashGate opens);
-- `measured_verdict` over the measured checks (HOLD_REMEDIATE when any fails B, else PASS_BPLUS when every
-- realism gate is within B+, else PASS_B); `verdict` the same, except PENDING when nothing failed but some
-- gate is pending (a verdict never claims more than the evidence); `pending` lists those gates. With a
-- policy, its `cross_seed` declaration {gate, seeds, key_rates, queries} is copied into the report for
-- `dag report --group`; its gate, key rates and query gates must be checks of this report.
create or replace macro validation_report(seg, checks, policy := NULL) as table
with g as (from graded_checks(checks)),
graded as (
  select CASE WHEN NOT coalesce(bool_and(pass_b) filter (where status <> 'PENDING'), true) THEN 'HOLD_REMEDIATE'
              WHEN coalesce(bool_and(pass_bplus) filter (where kind = 'realism' and status <> 'PENDING'), true) THEN 'PASS_BPLUS'
              ELSE 'PASS_B' END as measured_verdict,
         count(*) filter (where status = 'PENDING') as n_pending,
         list(id) as ids
  from g
), cross_seed as (
  select policy::JSON->'cross_seed' as decl,
         list_filter(coalesce((policy::JSON->'cross_seed'->'key_rates')::VARCHAR[], []), k -> NOT list_contains(ids, k)) as unknown_rates,
         policy::JSON->'cross_seed'->>'gate' as gate,
         list_filter(flatten(list_transform(coalesce((policy::JSON->'cross_seed'->'queries')::JSON[], []), q -> coalesce((q->'gates')::VARCHAR[], []))), k -> NOT list_contains(ids, k)) as unknown_query_gates
  from graded
), checked as (
  select CASE WHEN decl IS NULL THEN NULL
              WHEN gate IS NULL OR NOT list_contains(ids, gate)
                THEN error('cross_seed gate ''' || coalesce(gate, '') || ''' is not a check of this report (add pending_gate(policy, ''' || coalesce(gate, '') || '''))')
              WHEN len(unknown_rates) > 0
                THEN error('cross_seed key_rates are not checks of this report: ' || array_to_string(unknown_rates, ', '))
              WHEN len(unknown_query_gates) > 0
                THEN error('cross_seed query gates are not checks of this report (add pending_gate(policy, ...)): ' || array_to_string(unknown_query_gates, ', '))
              ELSE decl END as decl
  from cross_seed, graded
)
select json_merge_patch(json_object(
  'segment', seg,
  'passed', coalesce(bool_and(pass_b) filter (where required and status <> 'PENDING'), true),
  'verdict', CASE WHEN any_value(measured_verdict) = 'HOLD_REMEDIATE' THEN 'HOLD_REMEDIATE'
                  WHEN any_value(n_pending) > 0 THEN 'PENDING' ELSE any_value(measured_verdict) END,
  'measured_verdict', any_value(measured_verdict),
  'counts', json_object('PASS', count(*) filter (where status = 'PASS'), 'WARN', count(*) filter (where status = 'WARN'),
                        'FAIL', count(*) filter (where status = 'FAIL'), 'PENDING', count(*) filter (where status = 'PENDING')),
  'pending', coalesce(to_json(list(json_object('id', id, 'reason', pending, 'measured_by', measured_by) order by id) filter (where status = 'PENDING')), '[]'::JSON),
  'checks', list(json_merge_patch(
                   json_object('id', id, 'kind', kind, 'status', status, 'value', value, 'required', required,
                               'threshold', CASE WHEN lo_b IS NOT DISTINCT FROM hi_b THEN json_object('equals', lo_b) ELSE json_object('lo', lo_b, 'hi', hi_b) END,
                               'threshold_B', [lo_b, hi_b], 'threshold_Bplus', [lo_bplus, hi_bplus],
                               'pass_B', pass_b, 'pass_Bplus', pass_bplus),
                   json_object('resolves', resolves)) order by id)
), json_object('cross_seed', any_value(decl))) as doc  -- a null member is dropped by the merge: no declaration, no key
from g, graded, checked;

create or replace macro gate_verdict_of(checks) as table
select coalesce(bool_and(pass_b) filter (where required and status <> 'PENDING'), true) as passed from graded_checks(checks);

-- One row per check (INFO when it passes, with its value; PENDING with the reason when not measured here),
-- and one per offending entity the kernel listed.
create or replace macro validation_issues(checks, entities) as table
with rows as (
  select id as check_id, CASE status WHEN 'PASS' THEN 'INFO' ELSE status END as severity, 'check' as entity_type, NULL::UBIGINT as entity_id,
         CASE status WHEN 'PENDING' THEN 'not measured in this run: ' || pending || coalesce(', measured by ' || measured_by, '')
                     ELSE 'value ' || coalesce(value::VARCHAR, 'NULL (not measurable)') || CASE status WHEN 'PASS' THEN ' within B+' WHEN 'WARN' THEN ' outside B+' ELSE ' outside B' END END
         || coalesce(' (resolves ' || resolves || ')', '') as detail
  from graded_checks(checks)
  union all
  select e.check_id, CASE g.status WHEN 'PASS' THEN 'INFO' ELSE g.status END, e.entity_type, e.entity_id, e.detail
  from query_table(entities) e join graded_checks(checks) g on g.id = e.check_id
)
select row_number() over (order by check_id, entity_type, entity_id NULLS FIRST, detail)::UBIGINT as issue_id, *
from rows;
