// HashGates (ORCHESTRATOR.md §5a): the bundle index and _passed.flag a gate state writes, a failing
// verdict, and a bundle tampered with after sealing, caught before the dependant's kernel runs.
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FLAG, verifyBundle } from '../../dag/store/gate.js';
import { actionsOf, dag, diamondCopy, ledgerOf, onlyRun, receiptOf, runIds, sha256, slowStep, spawnDag, tempDir, waitFor } from './harness.js';

const T = 60_000;
const INDEX = 'validation_bundle_index_fx.json';
const REPORT = 'validation_report_fx.json';

/** The bundle folder of a run's fx.S3, from its ledger line. */
function bundleOf(runDir: string): string {
  const s3 = ledgerOf(runDir).find((e) => e.state === 'fx.S3' && e.action === 'ran');
  if (!s3?.gate) throw new Error(`no gate record for fx.S3 in ${runDir}`);
  return join(runDir, s3.gate.path);
}

describe('a gate whose verdict fails', () => {
  it('writes the bundle index but no _passed.flag, and fx.S4 (requires_pass: [fx]) fails naming segment fx', async () => {
    const p = diamondCopy(({ read, write }) => {
      const sql = read('states/fx/S3_pairs.sql');
      expect(sql).toContain('count(*) > 0 as ok');
      write('states/fx/S3_pairs.sql', sql.replace('count(*) > 0 as ok', 'count(*) > 1000000000 as ok'));
    });
    const r = await dag(p, ['run']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const { dir } = onlyRun(p);
    const bundle = bundleOf(dir);
    expect(readdirSync(bundle).sort()).toEqual([INDEX, REPORT]);
    const index = JSON.parse(readFileSync(join(bundle, INDEX), 'utf8')) as { files: { path: string }[] };
    expect(index.files.map((f) => f.path)).toEqual([REPORT]);
    expect((JSON.parse(readFileSync(join(bundle, REPORT), 'utf8')) as { passed: boolean }).passed).toBe(false);

    const ledger = ledgerOf(dir);
    expect(actionsOf(ledger)).toEqual({ 'fx.S0': 'ran', 'fx.S1': 'ran', 'fx.S2': 'ran', 'fx.S3': 'ran', 'fx.S4': 'failed' });
    expect(ledger.find((e) => e.state === 'fx.S3')!.gate).toMatchObject({ segment: 'fx', passed: false });
    const s4 = ledger.find((e) => e.state === 'fx.S4')!;
    expect(s4.error!.message).toMatch(/^fx\.S4: required segment fx is not sealed/);
    expect(s4.error!.message).toContain(FLAG);
    expect(s4.error!.rule).toBe('requires_pass');
    expect(r.stdout).toMatch(/GATE NOT PASSED/);
    expect(r.stderr).toContain('fx.S4: required segment fx is not sealed');
    expect(existsSync(join(dir, 'reports/fx'))).toBe(false);
    expect(receiptOf(dir).status).toBe('failed');
  }, T);
});

describe('a sealed bundle of several files', () => {
  // Three outputs share the bundle folder; their names sort differently in ASCII and in a locale
  // ('B_…' < '_…' < 'a_…' < 'v_…' in ASCII), so the order of index and digest is really tested.
  const p = diamondCopy(({ read, write }) => {
    write('contracts/fx.yaml', read('contracts/fx.yaml').replace('validation_report:\n', [
      '  checks:',
      '    type: table',
      '    columns:',
      '      id: { type: string }',
      '      value: { type: double }',
      '      ok: { type: bool }',
      '    primary_key: [id]',
      'validation_report:',
      '',
    ].join('\n')));
    const gatePath = 'data/fx/validation/seed={seed}/manifest_fingerprint={manifest_fingerprint}';
    write('states/fx/S3_pairs.yaml', read('states/fx/S3_pairs.yaml').replace('gate:\n', [
      '  - dataset: B_checks_fx',
      '    format: parquet',
      `    path: ${gatePath}`,
      '    schema: contracts/fx.yaml#/tables/checks',
      '    order_by: [id]',
      '  - dataset: a_note_fx',
      '    format: json',
      `    path: ${gatePath}`,
      '    schema: contracts/fx.yaml#/summary',
      'gate:',
      '',
    ].join('\n')));
    write('states/fx/S3_pairs.sql', read('states/fx/S3_pairs.sql') + [
      'create table B_checks_fx as select id, value, ok from checks;',
      "create table a_note_fx as select json_object('pairs', count(*), 'total_amount', 0) as doc from pairs_fx;",
      '',
    ].join('\n'));
  });
  let runDir = '';
  let bundle = '';
  const BUNDLE_FILES = ['B_checks_fx.parquet', 'a_note_fx.json', INDEX, REPORT];

  beforeAll(async () => {
    const r = await dag(p, ['run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    runDir = onlyRun(p).dir;
    bundle = bundleOf(runDir);
  }, T);

  it('the index lists every bundle file but itself and the flag, with sha256 and size, in ASCII path order', () => {
    expect(readdirSync(bundle).sort()).toEqual(['B_checks_fx.parquet', FLAG, 'a_note_fx.json', INDEX, REPORT]);
    const index = JSON.parse(readFileSync(join(bundle, INDEX), 'utf8')) as { files: { path: string; sha256: string; size: number }[] };
    const expected = BUNDLE_FILES.filter((f) => f !== INDEX).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(expected).toEqual(['B_checks_fx.parquet', 'a_note_fx.json', REPORT]);
    expect(index.files.map((f) => f.path)).toEqual(expected);
    for (const f of index.files) {
      const bytes = readFileSync(join(bundle, f.path));
      expect(f.sha256, f.path).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(f.size, f.path).toBe(bytes.length);
    }
  });

  it('_passed.flag is `sha256_hex = <sha256 of every bundle file but the flag, concatenated in ASCII path order>`', () => {
    const files = readdirSync(bundle).filter((f) => f !== FLAG).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(files).toEqual(['B_checks_fx.parquet', 'a_note_fx.json', INDEX, REPORT]);
    const h = createHash('sha256');
    for (const f of files) h.update(readFileSync(join(bundle, f)));
    const digest = h.digest('hex');
    expect(readFileSync(join(bundle, FLAG), 'utf8')).toBe(`sha256_hex = ${digest}\n`);
    const s3 = ledgerOf(runDir).find((e) => e.state === 'fx.S3')!;
    expect(s3.gate).toMatchObject({ segment: 'fx', passed: true, digest });
    // every bundle file is a published, ledgered output
    for (const f of [...files, FLAG]) expect(s3.outputs!.find((o) => o.path.endsWith(`/${f}`))?.sha256, f).toBe(sha256(join(bundle, f)));
  });

  it('fx.S4 ran after verifying the bundle, and `dag verify` rechecks the bundle', async () => {
    expect(actionsOf(ledgerOf(runDir))['fx.S4']).toBe('ran');
    const v = await dag(p, ['verify', onlyRun(p).id, '--json']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, files: 10, problems: [] });
  }, T);

  describe('verifyBundle on a copy of the sealed bundle', () => {
    /** A writable copy of the sealed bundle, tampered with by `edit`. */
    function tampered(edit: (dir: string) => void): string {
      const dir = join(tempDir('bundle'), 'b');
      cpSync(bundle, dir, { recursive: true });
      for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
      edit(dir);
      return dir;
    }

    it('accepts the untouched bundle and returns its flag digest and files', async () => {
      const g = await verifyBundle(tampered(() => {}), INDEX);
      expect(g.problem).toBeUndefined();
      expect(g.ok).toBe(true);
      expect(readFileSync(join(bundle, FLAG), 'utf8')).toContain(g.digest!);
      expect(g.files.map((f) => f.path)).toEqual(['B_checks_fx.parquet', 'a_note_fx.json', REPORT]);
    });

    it.each([
      ['a changed report', (d: string) => writeFileSync(join(d, REPORT), readFileSync(join(d, REPORT), 'utf8').replace('"PASS"', '"FAIL"')), /file validation_report_fx\.json changed after sealing/],
      ['a changed parquet file of the same size', (d: string) => { const b = readFileSync(join(d, 'B_checks_fx.parquet')); b[b.length - 9]! ^= 0xff; writeFileSync(join(d, 'B_checks_fx.parquet'), b); }, /file B_checks_fx\.parquet changed after sealing/],
      ['an extra file', (d: string) => writeFileSync(join(d, 'c_extra.json'), '{}\n'), /file c_extra\.json is in .* but not in validation_bundle_index_fx\.json/],
      ['a deleted file', (d: string) => rmSync(join(d, 'a_note_fx.json')), /file a_note_fx\.json is listed in validation_bundle_index_fx\.json but missing/],
      ['a removed flag', (d: string) => rmSync(join(d, FLAG)), /no _passed\.flag/],
      ['a removed index', (d: string) => rmSync(join(d, INDEX)), /validation_bundle_index_fx\.json is missing/],
      ['a flag with another digest', (d: string) => writeFileSync(join(d, FLAG), `sha256_hex = ${'0'.repeat(64)}\n`), /_passed\.flag digest 0{64} does not match/],
      ['a malformed flag', (d: string) => writeFileSync(join(d, FLAG), 'passed\n'), /_passed\.flag .* is malformed/],
      ['an index rewritten to match a changed file (the flag still catches it)', (d: string) => {
        writeFileSync(join(d, REPORT), readFileSync(join(d, REPORT), 'utf8') + ' ');
        const index = JSON.parse(readFileSync(join(d, INDEX), 'utf8')) as { files: { path: string; sha256: string; size: number }[] };
        const f = index.files.find((x) => x.path === REPORT)!;
        f.sha256 = sha256(join(d, REPORT));
        f.size += 1;
        writeFileSync(join(d, INDEX), JSON.stringify(index, null, 2) + '\n');
      }, /_passed\.flag digest [0-9a-f]{64} does not match the bundle/],
    ] as const)('rejects %s, naming the file', async (_name, edit, problem) => {
      const g = await verifyBundle(tampered(edit), INDEX);
      expect(g.ok).toBe(false);
      expect(g.problem).toMatch(problem);
    });
  });
});

describe('a bundle changed after sealing, while the run goes on', () => {
  it('is caught before fx.S4 runs: fx.S4 fails naming segment fx and the file', async () => {
    // A slow state fx.S3w between the gate (fx.S3) and fx.S4 leaves time to tamper with the bundle.
    const p = diamondCopy(({ read, write }) => {
      write('states/fx/S3w_wait.yaml', [
        'id: fx.S3w',
        'title: A slow state between the gate and its dependant',
        'kernel: S3w_wait.sql',
        'inputs:',
        '  - dataset: pairs_fx',
        'outputs:',
        '  - dataset: wait_fx',
        '    format: json',
        '    path: reports/fx/wait/seed={seed}',
        '    schema: contracts/fx.yaml#/summary',
        '',
      ].join('\n'));
      write('states/fx/S3w_wait.sql', slowStep('burn', 150_000_000) + "-- step: note\ncreate table wait_fx as select json_object('pairs', count(*), 'total_amount', 0) as doc from pairs_fx;\n");
      write('states/fx/S4_summary.yaml', read('states/fx/S4_summary.yaml').replace('  - dataset: pairs_fx\n', '  - dataset: pairs_fx\n  - dataset: wait_fx\n'));
    });
    const run = spawnDag(p, ['run']);
    const { dir } = await waitFor('the run folder', () => (runIds(p).length === 1 ? onlyRun(p) : undefined));
    const s3 = await waitFor('fx.S3 in the ledger', () => ledgerOf(dir).find((e) => e.state === 'fx.S3'), 30_000);
    expect(s3.gate).toMatchObject({ passed: true });
    expect(ledgerOf(dir).some((e) => e.state === 'fx.S3w')).toBe(false); // still running: the tamper comes in time
    const report = join(dir, s3.gate!.path, REPORT);
    chmodSync(report, 0o644);
    appendFileSync(report, '\n');
    const r = await run.result;
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const ledger = ledgerOf(dir);
    expect(actionsOf(ledger)).toMatchObject({ 'fx.S3': 'ran', 'fx.S3w': 'ran', 'fx.S4': 'failed' });
    const err = ledger.find((e) => e.state === 'fx.S4')!.error!;
    expect(err.message).toMatch(/^fx\.S4: required segment fx is not sealed: file validation_report_fx\.json changed after sealing/);
    expect(err.rule).toBe('requires_pass');
    expect(r.stderr).toContain('file validation_report_fx.json changed after sealing');
    expect(existsSync(join(dir, 'reports/fx/summary'))).toBe(false);
    expect(receiptOf(dir).status).toBe('failed');
    // and `dag verify` reports the tampered file against the ledger
    const v = await dag(p, ['verify', onlyRun(p).id]);
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/FAIL fx\.S3 .*validation_report_fx\.json/);
  }, T);
});
