// Issue 13, the kernel sandbox: a SQL kernel reaches only its declared inputs, its output folders and
// its scratch and spill folders; `dag query` reads only the run's published files and writes none.
// Real `dag` processes on the diamond fixture; each probe checks that nothing outside the run changed.
import { existsSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dag, diamondCopy, freshRuns, ledgerOf, onlyRun, type Project } from './harness.js';

const T = 60_000;
const outside = mkdtempSync(join(tmpdir(), 'dag-sandbox-outside-'));
const secret = join(outside, 'secret.csv');
writeFileSync(secret, 'a\n1\n');

/** The diamond with fx.S2's kernel starting with `probe`. */
function probing(probe: string): Project {
  return diamondCopy(({ read, write }) => write('states/fx/S2_merchants.sql', `-- step: probe\n${probe}\n` + read('states/fx/S2_merchants.sql')));
}

describe('SQL kernels are confined', () => {
  const probes: [string, string][] = [
    ['COPY ... TO a path outside the run', `COPY (select 42 as x) TO '${join(outside, 'written.csv')}';`],
    ['read_csv of an undeclared file', `create table stolen as select * from read_csv('${secret}');`],
    ['read_csv of /etc/hostname', `create table host as select * from read_csv('/etc/hostname');`],
    ['ATTACH a database outside the run', `ATTACH '${join(outside, 'made.duckdb')}' AS made;`],
    ['turning external access back on', 'SET enable_external_access = true;'],
    ['widening allowed_directories', `SET allowed_directories = ['/'];`],
    ['INSTALL httpfs', 'INSTALL httpfs;'],
    ['glob over the file system', `create table files as select * from glob('${outside}/*');`],
  ];
  for (const [what, probe] of probes) {
    it(`refuses ${what}: the state fails naming the sandbox, and nothing outside changes`, async () => {
      const p = probing(probe);
      const r = await dag(p, ['run', 'fx.S2']);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout + r.stderr).toMatch(/fx\.S2/);
      expect(r.stdout + r.stderr).toMatch(/Permission Error|disabled|Cannot/);
      const { dir } = onlyRun(p);
      const s2 = ledgerOf(dir).filter((e) => e.state === 'fx.S2').pop()!;
      expect(s2.action).toBe('failed');
      expect(JSON.stringify(s2)).toContain('sandbox');
      expect(readdirSync(outside).sort()).toEqual(['secret.csv']);
    }, T);
  }

  it('a kernel still reads its declared inputs and writes its outputs (the whole pipeline runs)', async () => {
    const p = diamondCopy();
    const r = await dag(p, ['run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }, T);
});

describe('dag query is read-only', () => {
  const p = freshRuns(diamondCopy());
  let runId = '';

  it('refuses COPY ... TO, read_csv of another file and INSTALL with exit 2; the published files are unchanged', async () => {
    const first = await dag(p, ['run', '--json']);
    expect(first.code, first.stderr).toBe(0);
    runId = (JSON.parse(first.stdout) as { run_id: string }).run_id;
    const { dir } = onlyRun(p);
    const published = ledgerOf(dir).flatMap((e) => e.outputs ?? []).filter((o) => o.path.endsWith('.parquet'));
    const before = published.map((o) => readFileSync(join(dir, o.path)).toString('base64'));
    for (const sql of [
      `COPY (select 1) TO '${join(outside, 'q.csv')}'`,
      `COPY (select 1 as region_id) TO '${join(dir, published[0]!.path)}' (FORMAT parquet)`,
      `select * from read_csv('${secret}')`,
      `select * from read_csv('/etc/hostname')`,
      'INSTALL httpfs',
    ]) {
      const r = await dag(p, ['query', runId, sql]);
      expect(r.code, `${sql}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/Permission Error|disabled/);
    }
    expect(published.map((o) => readFileSync(join(dir, o.path)).toString('base64'))).toEqual(before);
    expect(readdirSync(outside).sort()).toEqual(['secret.csv']);
    const ok = await dag(p, ['query', runId, 'select count(*) as n from customers_fx', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
  }, T);

  it('on a truncated published file names the file (exit 2), not an internal error', async () => {
    const { dir } = onlyRun(p);
    const file = ledgerOf(dir).flatMap((e) => e.outputs ?? []).find((o) => o.dataset === 'customers_fx')!;
    truncateSync(join(dir, file.path), 10);
    const r = await dag(p, ['query', runId, 'select count(*) from customers_fx']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(file.path);
    expect(r.stderr).not.toContain('internal error');
    expect(existsSync(join(dir, file.path))).toBe(true);
  }, T);
});

/** The diamond with fx.S4's kernel replaced by the TypeScript `source`. */
function tsKernel(source: string): Project {
  return diamondCopy(({ read, write }) => {
    write('states/fx/S4_summary.yaml', read('states/fx/S4_summary.yaml').replace('kernel: S4_summary.sql', 'kernel: S4_summary.ts'));
    write('states/fx/S4_summary.ts', source);
  });
}
const SUMMARY = "await ctx.con.run(\"create table summary_fx as select json_object('pairs', count(*), 'total_amount', round(sum(amount), 6)) as doc from pairs_fx\");";

describe('TypeScript kernels', () => {
  it('may write nothing outside their build folder: the state fails, the file is not made', async () => {
    const target = join(outside, 'ts-wrote.txt');
    const p = tsKernel(`import { writeFileSync } from 'node:fs';\nexport default async function (ctx: any) {\n  writeFileSync(${JSON.stringify(target)}, 'x');\n  ${SUMMARY}\n}\n`);
    const r = await dag(p, ['run']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout + r.stderr).toContain('ERR_ACCESS_DENIED');
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(outside).sort()).toEqual(['secret.csv']);
  }, T);

  it('that only use their context run (and a syntax error is reported as one, with its line)', async () => {
    const ok = await dag(tsKernel(`export default async function (ctx: any) {\n  ${SUMMARY}\n}\n`), ['run']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const bad = await dag(tsKernel(`export default async function (ctx: any) {\n  const x = ;\n  ${SUMMARY}\n}\n`), ['run']);
    expect(bad.code).toBe(1);
    expect(bad.stdout + bad.stderr).toContain('TypeScript syntax error at S4_summary.ts:2');
    expect(bad.stdout + bad.stderr).not.toContain('left no table');
  }, T);
});
