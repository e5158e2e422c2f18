import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, spawnCli } from '../support/cli.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a run reads one version of the project', () => {
  it('a kernel edited during the run fails its state; a YAML input edited during the run is not seen (snapshot)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'dag-edit-'));
    cpSync(join(REPO, 'test', 'fixtures', 'diamond'), root, { recursive: true, filter: (s) => !s.endsWith(join('diamond', 'runs')) });
    const s1 = join(root, 'states', 'fx', 'S1_customers.sql');
    writeFileSync(s1, `-- step: warm up\ncreate table slow as select count(*) as n from range(400000000) t(i) where i % 7 = 3;\n${readFileSync(s1, 'utf8')}`);
    const runs = mkdtempSync(join(tmpdir(), 'dag-edit-runs-'));
    const child = spawnCli(['--root', root, 'run', '--json'], { cwd: root, env: { DAG_RUNS_DIR: runs } });
    // wait until fx.S0 is published (fx.S1, slow, is running), then edit the project
    const ledger = () => {
      const run = readdirSync(runs).find((d) => /^[0-9a-f]{32}$/.test(d));
      const p = run ? join(runs, run, 'ledger.jsonl') : '';
      return p && existsSync(p) ? readFileSync(p, 'utf8') : '';
    };
    for (let i = 0; i < 300 && !ledger().includes('"fx.S0"'); i++) await sleep(50);
    expect(ledger()).toContain('"fx.S0"');
    const s2 = join(root, 'states', 'fx', 'S2_merchants.sql');
    writeFileSync(s2, readFileSync(s2, 'utf8') + '\n-- edited while the run was going\n');
    const params = join(root, 'config', 'params.yaml');
    writeFileSync(params, readFileSync(params, 'utf8').replace('customers_per_region: 50', 'customers_per_region: 51'));
    const { code, stdout } = await child.result;
    expect(code).toBe(1);
    const summary = JSON.parse(stdout) as { failures: { task: string; error: string }[]; run_dir: string };
    expect(summary.failures.map((f) => f.task)).toEqual(['fx.S2']);
    expect(summary.failures[0]!.error).toContain('states/fx/S2_merchants.sql changed after this run started');
    // fx.S1 ran with the params the run started with: 4 regions x 50 customers, not 51
    const s1Line = readFileSync(join(summary.run_dir, 'ledger.jsonl'), 'utf8').split('\n').find((l) => l.includes('"fx.S1"'))!;
    expect(JSON.parse(s1Line).rows.customers_fx).toBe(200);
  }, 120_000);
});
