import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, runCli } from '../support/cli.js';

function project(): { root: string; runs: string } {
  const root = mkdtempSync(join(tmpdir(), 'dag-scen-'));
  cpSync(join(REPO, 'test', 'fixtures', 'diamond'), root, { recursive: true, filter: (src) => !src.includes(`${join('diamond', 'runs')}`) });
  cpSync(join(REPO, 'test', 'fixtures', 'variants', 'scenarios', 'states'), join(root, 'states'), { recursive: true });
  return { root, runs: mkdtempSync(join(tmpdir(), 'dag-scen-runs-')) };
}

describe('scenario-scoped states', () => {
  it('run once per scenario, with {scenario_id} in the path, the scenario in the ledger and in stream_key', async () => {
    const p = project();
    const r = await runCli(['--root', p.root, 'run', '--scenarios', 'baseline,stress', '--json'], { cwd: p.root, env: { DAG_RUNS_DIR: p.runs } });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { run_dir: string; counts: { ran: number } };
    expect(summary.counts.ran).toBe(7); // fx.S0..S4 once, fx.S5 per scenario
    const ledger = readFileSync(join(summary.run_dir, 'ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { state: string; scenario?: string; outputs: { path: string; sha256: string }[] });
    const s5 = ledger.filter((e) => e.state === 'fx.S5');
    expect(s5.map((e) => e.scenario).sort()).toEqual(['baseline', 'stress']);
    for (const e of s5) expect(e.outputs[0]!.path).toContain(`scenario_id=${e.scenario}/`);
    expect(s5[0]!.outputs[0]!.sha256).not.toBe(s5[1]!.outputs[0]!.sha256);
    const receipt = JSON.parse(readFileSync(join(summary.run_dir, 'run_receipt.json'), 'utf8')) as { scenarios: string[] };
    expect(receipt.scenarios).toEqual(['baseline', 'stress']);
    // a second run with one scenario serves it from the cache
    const again = await runCli(['--root', p.root, 'run', '--scenarios', 'stress', '--json'], { cwd: p.root, env: { DAG_RUNS_DIR: p.runs } });
    expect(JSON.parse(again.stdout).counts).toMatchObject({ ran: 0, cached: 6 });
  }, 60_000);

  it('a seed-scoped state cannot read a scenario-scoped dataset (compile-time error)', async () => {
    const p = project();
    cpSync(join(REPO, 'test', 'fixtures', 'diamond', 'states', 'fx', 'S4_summary.yaml'), join(p.root, 'states', 'fx', 'S6_bad.yaml'));
    const bad = readFileSync(join(p.root, 'states', 'fx', 'S6_bad.yaml'), 'utf8').replace('id: fx.S4', 'id: fx.S6').replace('dataset: pairs_fx', 'dataset: stress_fx').replace('dataset: summary_fx', 'dataset: summary6_fx').replace('reports/fx/summary/', 'reports/fx/summary6/');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(p.root, 'states', 'fx', 'S6_bad.yaml'), bad);
    const r = await runCli(['--root', p.root, 'validate'], { cwd: p.root, env: { DAG_RUNS_DIR: p.runs } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[scope-mismatch]');
    expect(r.stderr).toContain('states/fx/S6_bad.yaml');
  }, 30_000);
});
