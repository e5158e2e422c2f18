// S0 gate blocks (states/_lib/gate.sql) and validation blocks (states/_lib/validation.sql) in real
// DuckDB, with hand-made orchestrator variables; digests recomputed independently with node:crypto,
// documents checked against the contracts in contracts/engine.yaml.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ascii, lit, openDuck, REPO, sha256, type Duck } from './engine-helpers.js';

let duck: Duck;
beforeAll(async () => {
  duck = await openDuck(['prf', 'apportion', 'gate', 'validation'], 2);
});
afterAll(() => duck.close());

// ---------------------------------------------------------------------------------------------
// Contracts

const engineContracts = parseYaml(readFileSync(join(REPO, 'contracts', 'engine.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
function contractErrors(name: 's0_gate_receipt' | 'validation_report' | 'validation_policy', doc: unknown): unknown[] {
  const validate = ajv.compile({ ...engineContracts[name], $defs: engineContracts.$defs });
  return validate(doc) ? [] : (validate.errors ?? []);
}

// ---------------------------------------------------------------------------------------------
// S0 blocks

interface FileInput {
  path: string;
  role: 'parameter' | 'reference';
  schema: string | null;
  sha256: string;
}

const h = (s: string) => sha256(s); // a realistic 64-hex content digest

// Paths chosen so that ASCII order differs from case-insensitive and locale orders:
// '-' (45) < '.' (46) < '/' (47) < 'Z' (90) < '_' (95) < 'a' (97).
const FILES: FileInput[] = [
  { path: 'config/world.yaml', role: 'parameter', schema: 'contracts/1A.yaml#/world', sha256: h('world') },
  { path: 'config/Zeta.yaml', role: 'parameter', schema: null, sha256: h('Zeta') },
  { path: 'config/a_b.csv', role: 'reference', schema: 'contracts/reference.yaml#/countries', sha256: h('a_b') },
  { path: 'config/a-b.csv', role: 'reference', schema: null, sha256: h('a-b') },
  { path: 'config/a.b.yaml', role: 'parameter', schema: null, sha256: h('a.b') },
  { path: 'config/a/b.yaml', role: 'parameter', schema: null, sha256: h('a/b') },
  { path: 'config/1A/merchant_policy.yaml', role: 'parameter', schema: 'contracts/1A.yaml#/merchant_policy', sha256: h('mp') },
];

/** The orchestrator's inputs_manifest: file entries (as `dag` writes them) and dataset entries, which S0 must ignore. */
function manifest(files: FileInput[]): unknown[] {
  return [
    { kind: 'dataset', name: 'countries_1A', path: 'data/layer1/1A/countries/manifest_fingerprint=x', schema: 'contracts/1A.yaml#/countries', files: [{ path: 'data/x.parquet', sha256: h('ds') }] },
    ...files.map((f, i) => ({ kind: 'file', name: `in${i}`, path: f.path, read: f.path, role: f.role, schema: f.schema, sha256: f.sha256 })),
  ];
}

async function setVars(inputs: unknown[], upstream: Record<string, unknown>): Promise<void> {
  await duck.run(`SET VARIABLE inputs_manifest = ${lit(JSON.stringify(inputs))}::JSON`);
  await duck.run(`SET VARIABLE upstream_gates = ${lit(JSON.stringify(upstream))}::JSON`);
}

async function receipt(seg: string): Promise<Record<string, unknown>> {
  const rows = await duck.rows<{ doc: string }>(`select doc from s0_gate_receipt(${lit(seg)})`);
  expect(rows).toHaveLength(1);
  return JSON.parse(rows[0]!.doc) as Record<string, unknown>;
}

/** The sealed-input digest, independently: sha256 of "path=sha256" lines sorted by path (ASCII), joined by \n. */
function sealedDigest(files: FileInput[]): string {
  return sha256([...files].sort((a, b) => ascii(a.path, b.path)).map((f) => `${f.path}=${f.sha256}`).join('\n'));
}

const gateOf = (seg: string, digest: string) => ({
  gate_state: `${seg}.S5`,
  bundle_path: `data/layer/${seg}/validation/manifest_fingerprint=${h('mf' + seg)}`,
  flag_digest: digest,
  files: [{ path: `validation_report_${seg}.json`, sha256: h(seg), size: 10 }],
});

describe('s0_gate_receipt', () => {
  it('lists upstream segments sorted, with their flag digests, and seals the file inputs by one digest', async () => {
    const upstream = { '6A': gateOf('6A', h('f6A')), '1A': gateOf('1A', h('f1A')), '5B': gateOf('5B', h('f5B')), '10X': gateOf('10X', h('f10X')) };
    await setVars(manifest(FILES), upstream);
    const doc = await receipt('6B');
    expect(doc.segment).toBe('6B');
    expect(doc.upstream).toEqual(
      ['10X', '1A', '5B', '6A'].map((seg) => ({ segment: seg, status: 'PASS', gate_state: `${seg}.S5`, flag_digest: h(`f${seg}`) })),
    );
    expect(doc.sealed_inputs).toBe(FILES.length);
    expect(doc.sealed_inputs_digest).toBe(sealedDigest(FILES));
    expect(contractErrors('s0_gate_receipt', doc)).toEqual([]);
  });

  it('the sealed digest does not depend on the order of the manifest, and changes with any path or digest', async () => {
    await setVars(manifest([...FILES].reverse()), {});
    const a = await receipt('1A');
    expect(a.sealed_inputs_digest).toBe(sealedDigest(FILES));
    expect(a.upstream).toEqual([]);

    const changed = FILES.map((f, i) => (i === 3 ? { ...f, sha256: h('other') } : f));
    await setVars(manifest(changed), {});
    const b = await receipt('1A');
    expect(b.sealed_inputs_digest).toBe(sealedDigest(changed));
    expect(b.sealed_inputs_digest).not.toBe(a.sealed_inputs_digest);

    const renamed = FILES.map((f, i) => (i === 0 ? { ...f, path: 'config/world2.yaml' } : f));
    await setVars(manifest(renamed), {});
    expect((await receipt('1A')).sealed_inputs_digest).toBe(sealedDigest(renamed));
  });

  it('sealed_files() gives one row per file input with path, role, schema ref and sha256', async () => {
    await setVars(manifest(FILES), {});
    const rows = await duck.rows<{ path: string; role: string; schema_ref: string | null; sha256: string }>('select * from sealed_files() order by path');
    expect(rows).toEqual([...FILES].sort((a, b) => ascii(a.path, b.path)).map((f) => ({ path: f.path, role: f.role, schema_ref: f.schema, sha256: f.sha256 })));
  });

  it('a single file: the digest is sha256 of its one line', async () => {
    await setVars(manifest([FILES[0]!]), {});
    const doc = await receipt('zz');
    expect(doc.sealed_inputs).toBe(1);
    expect(doc.sealed_inputs_digest).toBe(sha256(`config/world.yaml=${h('world')}`));
  });
});

describe('assert_sealed', () => {
  async function seal(files: FileInput[]): Promise<void> {
    await duck.run('create or replace table sealed_inputs_t (path VARCHAR, role VARCHAR, schema_ref VARCHAR, sha256 VARCHAR)');
    for (const f of files) await duck.run(`insert into sealed_inputs_t values (${lit(f.path)}, ${lit(f.role)}, ${f.schema === null ? 'NULL' : lit(f.schema)}, ${lit(f.sha256)})`);
  }
  async function check(): Promise<{ ok: true } | { ok: false; message: string }> {
    try {
      const rows = await duck.rows<{ sealed: boolean }>(`from assert_sealed('sealed_inputs_t')`);
      expect(rows).toEqual([{ sealed: true }]);
      return { ok: true };
    } catch (e) {
      return { ok: false, message: (e as Error).message };
    }
  }
  const reads = FILES.slice(0, 3);

  it('passes when every file the state reads is sealed with the same digest (extra sealed files are fine)', async () => {
    await seal(FILES);
    await setVars(manifest(reads), {});
    expect(await check()).toEqual({ ok: true });
  });

  it('fails naming a file that S0 did not seal', async () => {
    await seal(FILES.filter((f) => f.path !== 'config/Zeta.yaml'));
    await setVars(manifest(reads), {});
    const r = await check();
    expect(r.ok).toBe(false);
    const message = (r as { message: string }).message;
    expect(message).toContain("did not seal");
    expect(message).toContain('config/Zeta.yaml');
    expect(message).not.toContain('config/world.yaml');
  });

  it('fails naming a file whose digest changed since S0 sealed it', async () => {
    await seal(FILES);
    await setVars(manifest(reads.map((f) => (f.path === 'config/a_b.csv' ? { ...f, sha256: h('edited') } : f))), {});
    const r = await check();
    expect(r.ok).toBe(false);
    const message = (r as { message: string }).message;
    expect(message).toContain('config/a_b.csv');
    expect(message).not.toContain('config/Zeta.yaml');
  });

  it('names every offending file, sorted', async () => {
    await seal([FILES[1]!]);
    await setVars(manifest(reads), {});
    const r = await check();
    expect(r.ok).toBe(false);
    expect((r as { message: string }).message).toContain('config/a_b.csv, config/world.yaml');
  });
});

// ---------------------------------------------------------------------------------------------
// Validation blocks

interface Graded {
  id: string;
  status: string;
  pass_b: boolean | null;
  pass_bplus: boolean | null;
}
interface Report {
  segment: string;
  passed: boolean;
  verdict: string;
  measured_verdict: string;
  counts: { PASS: number; WARN: number; FAIL: number; PENDING: number };
  pending: { id: string; reason: string; measured_by: string | null }[];
  cross_seed?: unknown;
  checks: { id: string; kind: string; status: string; value: number | null; required: boolean; threshold: unknown; threshold_B: unknown; threshold_Bplus: unknown; pass_B: boolean | null; pass_Bplus: boolean | null; resolves?: string }[];
}
interface Issue {
  issue_id: bigint;
  check_id: string;
  severity: string;
  entity_type: string;
  entity_id: bigint | null;
  detail: string | null;
}

const POLICY = {
  gates: {
    share: { B: [0.1, 0.2], Bplus: [0.12, 0.18], required: true },
    soft: { B: [0.1, 0.2], Bplus: [0.12, 0.18], required: false },
    upper_only: { B: [null, 0.1], Bplus: [null, 0.05] },
    lower_only: { B: [3, null], Bplus: [5, null], required: true },
    open: { B: [null, null], Bplus: [null, null] },
    T9_cross_seed_cv: { B: [null, 0.25], Bplus: [null, 0.15], pending: 'cross-seed' },
    T10_cnp_full_chain: { B: [1, 1], Bplus: [1, 1], pending: 'downstream', measured_by: '6B' },
  },
};

let n = 0;
/**
 * Makes a checks table from SQL struct expressions (realism(...) / invariant(...) / pending_gate(...)) and an
 * entity table; returns report, verdict, issues. With `withPolicy`, the report is made by the 3-argument
 * call (policy := ...), which copies the policy's cross_seed declaration.
 */
async function validate(
  checks: string[],
  entities: string[] = [],
  opts: { policy?: Record<string, unknown>; withPolicy?: boolean } = {},
): Promise<{ report: Report; passed: boolean; issues: Issue[]; graded: Graded[] }> {
  const t = `checks_${++n}`;
  const e = `entities_${n}`;
  await duck.run(`SET VARIABLE pol = ${lit(JSON.stringify(opts.policy ?? POLICY))}::JSON`);
  await duck.run(`create table ${t} as select unnest([${checks.join(', ')}], recursive := true) from (select getvariable('pol') as p)`);
  await duck.run(`create table ${e} (check_id VARCHAR, entity_type VARCHAR, entity_id UBIGINT, detail VARCHAR)`);
  for (const row of entities) await duck.run(`insert into ${e} values ${row}`);
  const [r] = await duck.rows<{ doc: string }>(opts.withPolicy ? `from validation_report('T', '${t}', policy := getvariable('pol'))` : `from validation_report('T', '${t}')`);
  const verdict = await duck.rows<{ passed: boolean }>(`from gate_verdict_of('${t}')`);
  expect(verdict).toHaveLength(1);
  const issues = await duck.rows<Issue>(`from validation_issues('${t}', '${e}') order by issue_id`);
  const graded = await duck.rows<Graded>(`select id, status, pass_b, pass_bplus from graded_checks('${t}') order by id`);
  const report = JSON.parse(r!.doc) as Report;
  expect(contractErrors('validation_report', report)).toEqual([]);
  return { report, passed: verdict[0]!.passed, issues, graded };
}

const check = (rep: Report, id: string) => rep.checks.find((c) => c.id === id)!;
const inv = (id: string, v: number, expected = 0) => `invariant('${id}', ${v}, ${expected})`;
const real = (id: string, v: number | null) => `realism(p, '${id}', ${v === null ? 'NULL' : v})`;
const pend = (id: string) => `pending_gate(p, '${id}')`;
const metr = (id: string, v: number) => `metric('${id}', ${v})`;
const resolving = (id: string, v: number, resolves: string) => `realism_resolving(p, '${id}', ${v}, ${lit(resolves)})`;

/** The error a report over these checks raises, or 'no error'. */
async function reportError(checks: string[], opts: { policy?: Record<string, unknown>; withPolicy?: boolean } = {}): Promise<string> {
  try {
    await validate(checks, [], opts);
    return 'no error';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('validation_report, gate_verdict_of, validation_issues', () => {
  it('a required realism gate outside B: passed false, HOLD_REMEDIATE, FAIL', async () => {
    const { report, passed, issues } = await validate([real('share', 0.5), inv('served', 0)]);
    expect(passed).toBe(false);
    expect(report.passed).toBe(false);
    expect(report.verdict).toBe('HOLD_REMEDIATE');
    expect(report.counts).toEqual({ PASS: 1, WARN: 0, FAIL: 1, PENDING: 0 });
    expect(report.measured_verdict).toBe('HOLD_REMEDIATE');
    expect(report.pending).toEqual([]);
    expect(report).not.toHaveProperty('cross_seed');
    expect(check(report, 'share')).toMatchObject({ status: 'FAIL', pass_B: false, pass_Bplus: false, required: true, value: 0.5, threshold_B: [0.1, 0.2], threshold_Bplus: [0.12, 0.18], threshold: { lo: 0.1, hi: 0.2 } });
    expect(issues.find((i) => i.check_id === 'share')).toMatchObject({ severity: 'FAIL', entity_type: 'check', entity_id: null, detail: 'value 0.5 outside B' });
  });

  it('inside B but outside B+: WARN, PASS_B, passed true', async () => {
    const { report, passed, issues } = await validate([real('share', 0.11), inv('served', 0)]);
    expect(passed).toBe(true);
    expect(report).toMatchObject({ passed: true, verdict: 'PASS_B', counts: { PASS: 1, WARN: 1, FAIL: 0 } });
    expect(check(report, 'share')).toMatchObject({ status: 'WARN', pass_B: true, pass_Bplus: false });
    expect(issues.find((i) => i.check_id === 'share')).toMatchObject({ severity: 'WARN', detail: 'value 0.11 outside B+' });
  });

  it('everything inside B+: PASS_BPLUS; band ends are inclusive', async () => {
    const { report, passed, issues } = await validate([real('share', 0.18), real('lower_only', 5), inv('served', 0)]);
    expect(passed).toBe(true);
    expect(report).toMatchObject({ passed: true, verdict: 'PASS_BPLUS', counts: { PASS: 3, WARN: 0, FAIL: 0 } });
    expect(report.checks.map((c) => c.id)).toEqual(['lower_only', 'served', 'share']); // sorted by id
    expect(issues.map((i) => [i.issue_id, i.check_id, i.severity])).toEqual([
      [1n, 'lower_only', 'INFO'],
      [2n, 'served', 'INFO'],
      [3n, 'share', 'INFO'],
    ]);
    expect(issues[2]!.detail).toBe('value 0.18 within B+');
  });

  it('a non-required gate outside B: passed true (the HashGate opens) but the verdict is HOLD_REMEDIATE', async () => {
    const { report, passed } = await validate([real('soft', 0.5), real('share', 0.15), inv('served', 0)]);
    expect(passed).toBe(true);
    expect(report.passed).toBe(true);
    expect(report.verdict).toBe('HOLD_REMEDIATE');
    expect(check(report, 'soft')).toMatchObject({ status: 'FAIL', required: false, pass_B: false });
  });

  it('a failing invariant fails the gate; its threshold is {equals}', async () => {
    const { report, passed } = await validate([inv('served', 3), real('share', 0.15)]);
    expect(passed).toBe(false);
    expect(report.verdict).toBe('HOLD_REMEDIATE');
    expect(check(report, 'served')).toMatchObject({ kind: 'invariant', status: 'FAIL', value: 3, threshold: { equals: 0 }, threshold_B: [0, 0] });
  });

  it('open band ends (null) bound nothing on that side', async () => {
    const { graded, report, passed } = await validate([real('upper_only', -1e9), real('lower_only', 1e12), real('open', 123.5)]);
    expect(graded).toEqual([
      { id: 'lower_only', status: 'PASS', pass_b: true, pass_bplus: true },
      { id: 'open', status: 'PASS', pass_b: true, pass_bplus: true },
      { id: 'upper_only', status: 'PASS', pass_b: true, pass_bplus: true },
    ]);
    expect(passed).toBe(true);
    expect(report.verdict).toBe('PASS_BPLUS');
    expect(check(report, 'upper_only').threshold_B).toEqual([null, 0.1]);
    expect(check(report, 'lower_only').threshold_Bplus).toEqual([5, null]);

    const warn = await validate([real('upper_only', 0.07), real('lower_only', 4)]);
    expect(warn.graded.map((g) => g.status)).toEqual(['WARN', 'WARN']);
    expect(warn.report.verdict).toBe('PASS_B');
    const fail = await validate([real('upper_only', 0.2)]);
    expect(fail.graded.map((g) => g.status)).toEqual(['FAIL']);
    expect(fail.passed).toBe(false); // `required` defaults to true
    const failLow = await validate([real('lower_only', 2.999)]);
    expect(failLow.passed).toBe(false);
  });

  it('offending entities get the severity of their check and issue ids 1..n in (check, type, entity) order', async () => {
    const { issues } = await validate(
      [inv('served', 2), real('share', 0.11)],
      ["('served', 'merchant', 9, 'no outlet and no edge')", "('served', 'merchant', 4, 'no outlet and no edge')", "('share', 'merchant', 7, 'online')"],
    );
    expect(issues.map((i) => [i.issue_id, i.check_id, i.severity, i.entity_type, i.entity_id])).toEqual([
      [1n, 'served', 'FAIL', 'check', null],
      [2n, 'served', 'FAIL', 'merchant', 4n],
      [3n, 'served', 'FAIL', 'merchant', 9n],
      [4n, 'share', 'WARN', 'check', null],
      [5n, 'share', 'WARN', 'merchant', 7n],
    ]);
  });

  // contracts/engine.yaml#/validation_issues: severity in [INFO, WARN, FAIL]. Entities listed under a
  // check that passes must be INFO, as the check's own row is; today they are 'PASS', which the
  // contract rejects (so a gate state that lists such entities fails its output check).
  it('entities listed under a passing check are INFO (the contract enum), not PASS', async () => {
    const { issues } = await validate([real('share', 0.15)], ["('share', 'merchant', 7, 'borderline')"]);
    expect(issues.map((i) => [i.check_id, i.entity_type, i.severity])).toEqual([
      ['share', 'check', 'INFO'],
      ['share', 'merchant', 'INFO'],
    ]);
  });

  // A check whose value could not be computed (NULL: e.g. a share over zero merchants, DuckDB x / 0)
  // is not inside its band. Today in_band(NULL, ...) is NULL, the CASE falls through to 'PASS',
  // bool_and ignores the NULL and the gate opens: a required gate passes without a value.
  it('a required check with no value (NULL) fails; it must not open the gate', async () => {
    const { graded, passed, report, issues } = await validate([real('share', null), inv('served', 0)]);
    expect(graded.find((g) => g.id === 'share')!.status).toBe('FAIL');
    expect(passed).toBe(false);
    expect(report.passed).toBe(false);
    expect(report.verdict).toBe('HOLD_REMEDIATE');
    // its issue row still says what happened: a NULL detail broke the issue table's contract
    const row = issues.find((i) => i.check_id === 'share')!;
    expect(row.severity).toBe('FAIL');
    expect(row.detail).toBe('value NULL (not measurable) outside B');
  });

  // A realism gate the policy does not define (a typo in validation_policy.yaml, whose `gates` accept
  // any name) gets bands [null, null] from band(): open on both sides, so it always passes. A gate
  // without bands should fail loudly (an error naming it, or FAIL), never pass unbounded.
  it('a realism gate missing from the policy does not pass unbounded', async () => {
    let outcome: string;
    try {
      const { graded, passed } = await validate([real('not_in_policy', 1e9)]);
      outcome = `${graded[0]!.status}/${passed}`;
    } catch (e) {
      outcome = (e as Error).message.includes('not_in_policy') ? 'error naming the gate' : `error: ${(e as Error).message}`;
    }
    expect(['error naming the gate', 'FAIL/false']).toContain(outcome);
  });
});

// ---------------------------------------------------------------------------------------------
// Pending gates, resolving checks and the cross-seed declaration (ENGINE.md "Realism gates that mean
// something": a gate that is not measured is PENDING, never passed).

describe('pending_gate: a gate this run cannot measure', () => {
  it('is PENDING with no value; it neither fails `passed` nor counts as FAIL; the verdict is PENDING, measured_verdict grades the rest', async () => {
    const { report, passed, graded, issues } = await validate([real('share', 0.15), pend('T9_cross_seed_cv'), inv('served', 0)]);
    expect(passed).toBe(true);
    expect(report.passed).toBe(true);
    expect(report.verdict).toBe('PENDING');
    expect(report.measured_verdict).toBe('PASS_BPLUS');
    expect(report.counts).toEqual({ PASS: 2, WARN: 0, FAIL: 0, PENDING: 1 });
    expect(report.pending).toEqual([{ id: 'T9_cross_seed_cv', reason: 'cross-seed', measured_by: null }]);
    expect(check(report, 'T9_cross_seed_cv')).toMatchObject({ kind: 'realism', status: 'PENDING', value: null, pass_B: null, pass_Bplus: null, required: true, threshold_B: [null, 0.25], threshold_Bplus: [null, 0.15] });
    expect(graded.find((g) => g.id === 'T9_cross_seed_cv')).toEqual({ id: 'T9_cross_seed_cv', status: 'PENDING', pass_b: null, pass_bplus: null });
    expect(issues.find((i) => i.check_id === 'T9_cross_seed_cv')).toMatchObject({ severity: 'PENDING', entity_type: 'check', detail: 'not measured in this run: cross-seed' });
  });

  it('a downstream gate names the segment that measures it, in the report and the issue table', async () => {
    const { report, issues } = await validate([real('share', 0.15), pend('T10_cnp_full_chain'), pend('T9_cross_seed_cv')]);
    expect(report.verdict).toBe('PENDING');
    expect(report.pending).toEqual([
      { id: 'T10_cnp_full_chain', reason: 'downstream', measured_by: '6B' },
      { id: 'T9_cross_seed_cv', reason: 'cross-seed', measured_by: null },
    ]);
    expect(issues.find((i) => i.check_id === 'T10_cnp_full_chain')!.detail).toBe('not measured in this run: downstream, measured by 6B');
  });

  it('a measured gate outside B still reads HOLD_REMEDIATE (and closes the gate) whatever is pending', async () => {
    const { report, passed } = await validate([real('share', 0.5), pend('T9_cross_seed_cv')]);
    expect(passed).toBe(false);
    expect(report).toMatchObject({ passed: false, verdict: 'HOLD_REMEDIATE', measured_verdict: 'HOLD_REMEDIATE', counts: { FAIL: 1, PENDING: 1 } });
    const soft = await validate([real('soft', 0.5), real('share', 0.15), pend('T10_cnp_full_chain')]);
    expect(soft.passed).toBe(true); // a non-required gate does not close the HashGate, but holds the verdict
    expect(soft.report.verdict).toBe('HOLD_REMEDIATE');
  });

  it('inside B but outside B+ with a pending gate: PENDING, measured_verdict PASS_B; with nothing pending: PASS_B as before', async () => {
    const pending = await validate([real('share', 0.11), pend('T9_cross_seed_cv')]);
    expect(pending.report).toMatchObject({ passed: true, verdict: 'PENDING', measured_verdict: 'PASS_B' });
    const measured = await validate([real('share', 0.11)]);
    expect(measured.report).toMatchObject({ passed: true, verdict: 'PASS_B', measured_verdict: 'PASS_B', pending: [] });
  });

  it('only pending gates: passed true, verdict PENDING, measured_verdict PASS_BPLUS (nothing measured failed)', async () => {
    const { report, passed } = await validate([pend('T9_cross_seed_cv'), pend('T10_cnp_full_chain')]);
    expect(passed).toBe(true);
    expect(report).toMatchObject({ passed: true, verdict: 'PENDING', measured_verdict: 'PASS_BPLUS', counts: { PASS: 0, PENDING: 2 } });
  });

  it('a gate the policy does not declare pending, or does not list, is an error naming it', async () => {
    expect(await reportError([pend('share')])).toContain("gate 'share' is not declared pending");
    expect(await reportError([pend('not_in_policy')])).toContain("no gate 'not_in_policy'");
  });

  it('a gate declared pending but measured by realism() is graded as measured', async () => {
    const { report } = await validate([real('T9_cross_seed_cv', 0.1)]);
    expect(check(report, 'T9_cross_seed_cv')).toMatchObject({ status: 'PASS', value: 0.1 });
    expect(report).toMatchObject({ verdict: 'PASS_BPLUS', pending: [] });
  });
});

describe('realism_resolving: a downstream check that measures an upstream pending gate', () => {
  it('is graded as a realism gate and carries resolves; other checks carry no resolves key', async () => {
    const policy = { gates: { T10_cnp_full_chain: { B: [0.99, 1], Bplus: [1, 1] } } };
    const { report, issues } = await validate([resolving('T10_cnp_full_chain', 0.995, '6A:T10_cnp_full_chain'), inv('served', 0)], [], { policy });
    expect(check(report, 'T10_cnp_full_chain')).toMatchObject({ kind: 'realism', status: 'WARN', value: 0.995, resolves: '6A:T10_cnp_full_chain' });
    expect(check(report, 'served')).not.toHaveProperty('resolves');
    expect(report).toMatchObject({ verdict: 'PASS_B', pending: [] });
    expect(issues.find((i) => i.check_id === 'T10_cnp_full_chain')!.detail).toBe('value 0.995 outside B+ (resolves 6A:T10_cnp_full_chain)');
    const failing = await validate([resolving('T10_cnp_full_chain', 0.5, '6A:T10_cnp_full_chain')], [], { policy });
    expect(failing.passed).toBe(false);
  });

  it("resolves must read '<segment>:<check id>'", async () => {
    const policy = { gates: { chain: { B: [1, 1], Bplus: [1, 1] } } };
    expect(await reportError([resolving('chain', 1, 'T10_cnp_full_chain')], { policy })).toContain("resolves must read '<segment>:<check id>'");
  });
});

describe('validation_report with a policy: the cross_seed declaration', () => {
  const CROSS_SEED = { gate: 'T9_cross_seed_cv', seeds: [42, 7, 101, 202], key_rates: ['share', 'risky_share'] };
  const policy = { ...POLICY, cross_seed: CROSS_SEED };

  it('is copied verbatim into the report by validation_report(seg, checks, policy := ...)', async () => {
    const { report } = await validate([real('share', 0.15), metr('risky_share', 0.04), pend('T9_cross_seed_cv')], [], { policy, withPolicy: true });
    expect(report.cross_seed).toEqual(CROSS_SEED);
    expect(report.verdict).toBe('PENDING');
  });

  it('the two-argument call, and a policy without cross_seed, give no cross_seed member', async () => {
    const twoArgs = await validate([real('share', 0.15), metr('risky_share', 0.04), pend('T9_cross_seed_cv')], [], { policy });
    expect(twoArgs.report).not.toHaveProperty('cross_seed');
    const noDecl = await validate([real('share', 0.15)], [], { withPolicy: true });
    expect(noDecl.report).not.toHaveProperty('cross_seed');
  });

  it('a key rate or a gate that is not a check of the report is an error naming it', async () => {
    expect(await reportError([real('share', 0.15), pend('T9_cross_seed_cv')], { policy, withPolicy: true })).toContain('cross_seed key_rates are not checks of this report: risky_share');
    expect(await reportError([real('share', 0.15), metr('risky_share', 0.04)], { policy, withPolicy: true })).toContain("cross_seed gate 'T9_cross_seed_cv' is not a check of this report");
  });

  it('a checks table made without the pending / measured_by / resolves columns is still graded', async () => {
    await duck.run('create or replace table old_shape as select unnest([{id: \'share\', kind: \'realism\', value: 0.15::DOUBLE, lo_b: 0.1::DOUBLE, hi_b: 0.2::DOUBLE, lo_bplus: 0.12::DOUBLE, hi_bplus: 0.18::DOUBLE, required: true}], recursive := true)');
    const [r] = await duck.rows<{ doc: string }>(`from validation_report('T', 'old_shape')`);
    const report = JSON.parse(r!.doc) as Report;
    expect(report).toMatchObject({ passed: true, verdict: 'PASS_BPLUS', measured_verdict: 'PASS_BPLUS', pending: [] });
    expect(contractErrors('validation_report', report)).toEqual([]);
  });
});

describe('contracts/engine.yaml: validation_policy and validation_issues', () => {
  const base = { gates: { share: { B: [0.1, 0.2], Bplus: [0.12, 0.18] } } };
  it('accepts pending gates and a cross_seed declaration', () => {
    expect(contractErrors('validation_policy', { gates: POLICY.gates, cross_seed: { gate: 'T9_cross_seed_cv', seeds: [42, 7, 101, 202], key_rates: ['share'] } })).toEqual([]);
  });
  it('rejects an unknown pending reason, a downstream gate without measured_by, measured_by without pending', () => {
    expect(contractErrors('validation_policy', { gates: { g: { B: [0, 1], Bplus: [0, 1], pending: 'later' } } })).not.toEqual([]);
    expect(contractErrors('validation_policy', { gates: { g: { B: [0, 1], Bplus: [0, 1], pending: 'downstream' } } })).not.toEqual([]);
    expect(contractErrors('validation_policy', { gates: { g: { B: [0, 1], Bplus: [0, 1], measured_by: '6B' } } })).not.toEqual([]);
  });
  it('rejects a cross_seed without gate, seeds or key_rates, with a repeated seed, or with an unknown member; and unknown top-level keys', () => {
    for (const cs of [
      { seeds: [1, 2], key_rates: ['share'] },
      { gate: 'g', key_rates: ['share'] },
      { gate: 'g', seeds: [1, 2] },
      { gate: 'g', seeds: [1, 1], key_rates: ['share'] },
      { gate: 'g', seeds: [1, 2], key_rates: ['share'], extra: true },
    ])
      expect(contractErrors('validation_policy', { ...base, cross_seed: cs }), JSON.stringify(cs)).not.toEqual([]);
    expect(contractErrors('validation_policy', { ...base, cross_seeds: {} })).not.toEqual([]);
  });
  it('a report whose PENDING check has a value, or whose measured check lacks pass_B, is rejected', async () => {
    const { report } = await validate([real('share', 0.15), pend('T9_cross_seed_cv')]);
    const withValue = { ...report, checks: report.checks.map((c) => (c.status === 'PENDING' ? { ...c, value: 0.1 } : c)) };
    expect(contractErrors('validation_report', withValue)).not.toEqual([]);
    const noPass = { ...report, checks: report.checks.map((c) => (c.status === 'PASS' ? { ...c, pass_B: null } : c)) };
    expect(contractErrors('validation_report', noPass)).not.toEqual([]);
  });
  it('the issue table severity enum holds every severity validation_issues writes', async () => {
    const enumOf = (engineContracts.validation_issues as { columns: { severity: { enum: string[] } } }).columns.severity.enum;
    const { issues } = await validate([real('share', 0.11), real('lower_only', 2), pend('T9_cross_seed_cv'), inv('served', 0)]);
    expect(new Set(issues.map((i) => i.severity))).toEqual(new Set(['WARN', 'FAIL', 'PENDING', 'INFO']));
    for (const i of issues) expect(enumOf).toContain(i.severity);
  });
});
