import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Diagnostics } from '../../dag/project/diagnostics.js';
import { madeDigestOf } from '../../dag/project/load.js';
import { loadProject } from '../../dag/contracts/project.js';
import { DIAMOND, TempCopies } from '../fixtures/materialize.js';

const temp = new TempCopies();
const copy = temp.copy;
afterAll(temp.removeAll);

describe('loadProject', () => {
  it('reads dag.yaml with its defaults, every manifest and every contract file', () => {
    const diags = new Diagnostics();
    const p = loadProject(DIAMOND, diags)!;
    expect(diags.items).toEqual([]);
    expect(p.config).toMatchObject({
      name: 'diamond-fixture',
      runs_dir: 'runs',
      defaults: { seed: 42, scenarios: ['baseline'] },
      retention: { keep_labels: ['authority', 'candidate', 'last-good', 'witness'], keep_last: 2 },
      duckdb: { threads: 2, memory_limit: '1GB' },
      kernel_prelude: ['states/_lib/prelude.sql'],
      profiles: { big: { 'config/params.yaml': 'config/params.big.yaml' } },
    });
    expect(p.manifests.map((m) => m.file)).toEqual(['states/fx/S0_regions.yaml', 'states/fx/S1_customers.yaml', 'states/fx/S2_merchants.yaml', 'states/fx/S3_pairs.yaml', 'states/fx/S4_summary.yaml']);
    expect(p.manifests[1]!.dir).toBe('states/fx');
    expect(p.contracts.files).toEqual(['contracts/common.yaml', 'contracts/fx.yaml']);
  });

  it('a dag.yaml that breaks its schema is reported, and the manifests are still loaded against the defaults', () => {
    const diags = new Diagnostics();
    const project = loadProject(copy('project-file'), diags);
    expect(project?.manifests.length).toBe(5);
    expect(project?.config.name).toBe('(invalid dag.yaml)');
    expect(diags.items).toEqual([expect.objectContaining({ code: 'project-file', file: 'dag.yaml', line: 7, pointer: '/duckbd', message: "unknown key 'duckbd'" })]);
  });

  it('locates unknown keys and wrong types nested in dag.yaml', () => {
    const dir = copy();
    writeFileSync(join(dir, 'dag.yaml'), 'name: x\nduckdb:\n  threads: two\n  memroy_limit: 1GB\nretention:\n  keep_last: -1\n');
    const diags = new Diagnostics();
    loadProject(dir, diags);
    const got = diags.items.map((d) => `${d.code} ${d.file}:${d.line} ${d.pointer}`).sort();
    expect(got).toEqual(['project-file dag.yaml:3 /duckdb/threads', 'project-file dag.yaml:4 /duckdb/memroy_limit', 'project-file dag.yaml:6 /retention/keep_last']);
  });

  it('drops a manifest that breaks its schema and keeps the others', () => {
    const diags = new Diagnostics();
    const p = loadProject(copy('manifest-wrong-type'), diags)!;
    expect(p.manifests.map((m) => m.data.id)).toEqual(['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3']);
    expect(diags.items).toEqual([expect.objectContaining({ code: 'manifest', file: 'states/fx/S4_summary.yaml', line: 4, pointer: '/requires_pass' })]);
  });

  it('reports a misspelt key as unknown, and the key it should have been as missing', () => {
    const diags = new Diagnostics();
    loadProject(copy('manifest-unknown-key'), diags);
    const byPointer = Object.fromEntries(diags.items.map((d) => [d.pointer, d]));
    expect(Object.keys(byPointer).sort()).toEqual(['/kernal', '/kernel']);
    expect(byPointer['/kernal']).toMatchObject({ code: 'manifest', line: 3, message: "unknown key 'kernal'", fix: 'remove it or correct its spelling' });
    expect(byPointer['/kernel']).toMatchObject({ code: 'manifest', file: 'states/fx/S4_summary.yaml' });
  });

  it('checks manifest rules beyond types: order_by for parquet, the gate index name, the id pattern', () => {
    const dir = copy();
    writeFileSync(
      join(dir, 'states/fx/S4_summary.yaml'),
      ['id: S4', 'kernel: S4_summary.py', 'outputs:', '  - dataset: summary-fx', '    format: parquet', '    path: /abs/path', '    schema: contracts/fx.yaml#/tables/pairs', 'gate:', '  path: reports', '  index: sub/index.json', ''].join('\n'),
    );
    const diags = new Diagnostics();
    loadProject(dir, diags);
    const got = diags.items.map((d) => `${d.line} ${d.pointer}`).sort();
    expect(got).toEqual(['1 /id', '10 /gate/index', '2 /kernel', '4 /outputs/0/dataset', '4 /outputs/0/order_by', '6 /outputs/0/path'].sort());
    expect(diags.items.every((d) => d.code === 'manifest' && d.file === 'states/fx/S4_summary.yaml')).toBe(true);
  });

  it('reports YAML syntax errors with their line, in manifests and in contracts', () => {
    const dir = copy('yaml-syntax');
    writeFileSync(join(dir, 'contracts/common.yaml'), '$defs:\n  positive_int: { type: integer\n');
    const diags = new Diagnostics();
    loadProject(dir, diags);
    const got = diags.items.map((d) => `${d.code} ${d.file}`).sort();
    expect(got).toContain('yaml-syntax states/fx/S4_summary.yaml');
    expect(got).toContain('yaml-syntax contracts/common.yaml');
    expect(diags.items.find((d) => d.file === 'states/fx/S4_summary.yaml')!.line).toBe(2);
  });

  it("remembers each manifest's cache-key digest with its snapshot, equal to the digest taken afresh; views and DuckDB settings leave it", () => {
    const dir = copy();
    mkdirSync(join(dir, 'runs', '.cache'), { recursive: true });
    const load = () => {
      const diags = new Diagnostics();
      const p = loadProject(dir, diags)!;
      expect(diags.items).toEqual([]);
      return p.manifests.find((m) => m.file === 'states/fx/S4_summary.yaml')!;
    };
    const checked = load();
    const remembered = load(); // from runs/.cache/manifests.json this time
    expect(readFileSync(join(dir, 'runs', '.cache', 'manifests.json'), 'utf8')).toContain(checked.madeDigest);
    expect(remembered.madeDigest).toBe(checked.madeDigest);
    expect(remembered.madeDigest).toBe(madeDigestOf(remembered.data));
    const file = join(dir, 'states/fx/S4_summary.yaml');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text + 'duckdb:\n  memory_limit: 2GB\n');
    expect(load().madeDigest).toBe(checked.madeDigest);
    writeFileSync(file, text.replace('rerun:\n  scope: self', 'rerun:\n  scope: downstream'));
    const edited = load();
    expect(edited.madeDigest).not.toBe(checked.madeDigest);
    expect(load().madeDigest).toBe(edited.madeDigest);
  });
});
