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
function contractErrors(name: 's0_gate_receipt' | 'validation_report', doc: unknown): unknown[] {
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
      ['10X', '1A', '5B', '6A'].map((seg) => ({ segment: seg, status: 'PASS', gate_state: `${seg}.S5`, flag_digest: h(`f${seg}`), bundle_path: upstream[seg as keyof typeof upstream].bundle_path })),
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
  counts: { PASS: number; WARN: number; FAIL: number };
  checks: { id: string; kind: string; status: string; value: number | null; required: boolean; threshold: unknown; threshold_B: unknown; threshold_Bplus: unknown; pass_B: boolean | null; pass_Bplus: boolean | null }[];
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
  },
};

let n = 0;
/** Makes a checks table from SQL struct expressions (realism(...) / invariant(...)) and an entity table; returns report, verdict, issues. */
async function validate(checks: string[], entities: string[] = []): Promise<{ report: Report; passed: boolean; issues: Issue[]; graded: Graded[] }> {
  const t = `checks_${++n}`;
  const e = `entities_${n}`;
  await duck.run(`SET VARIABLE pol = ${lit(JSON.stringify(POLICY))}::JSON`);
  await duck.run(`create table ${t} as select unnest([${checks.join(', ')}], recursive := true) from (select getvariable('pol') as p)`);
  await duck.run(`create table ${e} (check_id VARCHAR, entity_type VARCHAR, entity_id UBIGINT, detail VARCHAR)`);
  for (const row of entities) await duck.run(`insert into ${e} values ${row}`);
  const [r] = await duck.rows<{ doc: string }>(`from validation_report('T', '${t}')`);
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

describe('validation_report, gate_verdict_of, validation_issues', () => {
  it('a required realism gate outside B: passed false, HOLD_REMEDIATE, FAIL', async () => {
    const { report, passed, issues } = await validate([real('share', 0.5), inv('served', 0)]);
    expect(passed).toBe(false);
    expect(report.passed).toBe(false);
    expect(report.verdict).toBe('HOLD_REMEDIATE');
    expect(report.counts).toEqual({ PASS: 1, WARN: 0, FAIL: 1 });
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
    const { graded, passed, report } = await validate([real('share', null), inv('served', 0)]);
    expect(graded.find((g) => g.id === 'share')!.status).toBe('FAIL');
    expect(passed).toBe(false);
    expect(report.passed).toBe(false);
    expect(report.verdict).toBe('HOLD_REMEDIATE');
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
