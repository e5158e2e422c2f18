-- Validation state pattern (ENGINE.md "Laws"): a kernel fills a table of checks
--   (id, kind 'invariant' | 'realism', value DOUBLE, lo_b, hi_b, lo_bplus, hi_bplus DOUBLE, required BOOLEAN)
-- and a table of offending entities (check_id, entity_type, entity_id UBIGINT, detail), and passes
-- their names to these macros, which make the report, the issue table and the gate verdict.
-- A band [lo, hi] with NULL for an open end; B is the hard band, B+ the stretch band.

-- Bands for realism gates from a policy JSON: policy->'gates'->id = {B: [lo, hi], Bplus: [lo, hi], required}.
-- A gate the policy does not list is an error (a misspelt gate must not pass unbounded).
create or replace macro band(policy, id, which, i) as CASE
  WHEN (policy->'gates'->id) IS NULL THEN error('validation policy has no gate ''' || id || '''')
  ELSE try_cast(policy->'gates'->id->which->>i AS DOUBLE) END;
create or replace macro realism(policy, id, v) as {
  'id': id, 'kind': 'realism', 'value': v::DOUBLE,
  'lo_b': band(policy, id, 'B', 0), 'hi_b': band(policy, id, 'B', 1),
  'lo_bplus': band(policy, id, 'Bplus', 0), 'hi_bplus': band(policy, id, 'Bplus', 1),
  'required': coalesce((policy->'gates'->id->>'required')::BOOLEAN, true)};
-- A metric is reported with no band (counters, context for the gates); it never fails.
create or replace macro metric(id, v) as {
  'id': id, 'kind': 'metric', 'value': v::DOUBLE,
  'lo_b': NULL::DOUBLE, 'hi_b': NULL::DOUBLE, 'lo_bplus': NULL::DOUBLE, 'hi_bplus': NULL::DOUBLE, 'required': false};
-- An invariant must hold exactly: value = expected.
create or replace macro invariant(id, v, expected) as {
  'id': id, 'kind': 'invariant', 'value': v::DOUBLE,
  'lo_b': expected::DOUBLE, 'hi_b': expected::DOUBLE, 'lo_bplus': expected::DOUBLE, 'hi_bplus': expected::DOUBLE,
  'required': true};

-- A gate or invariant with no value (NULL) is outside its band: it cannot be shown to hold.
create or replace macro in_band(v, lo, hi) as coalesce((lo IS NULL OR v >= lo) AND (hi IS NULL OR v <= hi), false);

create or replace macro graded_checks(checks) as table
with c as (
  select id, kind, round(value, 12) as value, lo_b, hi_b, lo_bplus, hi_bplus, required,
         kind = 'metric' OR in_band(value, lo_b, hi_b) as pass_b, kind = 'metric' OR in_band(value, lo_bplus, hi_bplus) as pass_bplus
  from query_table(checks)
)
select *, CASE WHEN NOT pass_b THEN 'FAIL' WHEN NOT pass_bplus THEN 'WARN' ELSE 'PASS' END as status from c;

-- The report: every check, the realism verdict (PASS_BPLUS | PASS_B | HOLD_REMEDIATE) and whether
-- the gate passes (no required check failed its B band).
create or replace macro validation_report(seg, checks) as table
with g as (from graded_checks(checks))
select json_object(
  'segment', seg,
  'passed', coalesce(bool_and(pass_b) filter (where required), true),
  'verdict', CASE WHEN NOT coalesce(bool_and(pass_b), true) THEN 'HOLD_REMEDIATE'
                  WHEN coalesce(bool_and(pass_bplus) filter (where kind = 'realism'), true) THEN 'PASS_BPLUS' ELSE 'PASS_B' END,
  'counts', json_object('PASS', count(*) filter (where status = 'PASS'), 'WARN', count(*) filter (where status = 'WARN'), 'FAIL', count(*) filter (where status = 'FAIL')),
  'checks', list(json_object('id', id, 'kind', kind, 'status', status, 'value', value, 'required', required,
                             'threshold', CASE WHEN lo_b IS NOT DISTINCT FROM hi_b THEN json_object('equals', lo_b) ELSE json_object('lo', lo_b, 'hi', hi_b) END,
                             'threshold_B', [lo_b, hi_b], 'threshold_Bplus', [lo_bplus, hi_bplus],
                             'pass_B', pass_b, 'pass_Bplus', pass_bplus) order by id)
) as doc
from g;

create or replace macro gate_verdict_of(checks) as table
select coalesce(bool_and(pass_b) filter (where required), true) as passed from graded_checks(checks);

-- One row per check (INFO when it passes, with its value), and one per offending entity the kernel listed.
create or replace macro validation_issues(checks, entities) as table
with rows as (
  select id as check_id, CASE status WHEN 'PASS' THEN 'INFO' ELSE status END as severity, 'check' as entity_type, NULL::UBIGINT as entity_id,
         'value ' || value || CASE status WHEN 'PASS' THEN ' within B+' WHEN 'WARN' THEN ' outside B+' ELSE ' outside B' END as detail
  from graded_checks(checks)
  union all
  select e.check_id, CASE g.status WHEN 'PASS' THEN 'INFO' ELSE g.status END, e.entity_type, e.entity_id, e.detail
  from query_table(entities) e join graded_checks(checks) g on g.id = e.check_id
)
select row_number() over (order by check_id, entity_type, entity_id NULLS FIRST, detail)::UBIGINT as issue_id, *
from rows;
