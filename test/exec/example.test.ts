import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, runCli } from '../support/cli.js';

const EXAMPLE = join(REPO, 'test', 'fixtures', 'example');

describe('the example pipeline (the repository pipeline before the engine)', () => {
  it('runs, seals its segment, and conserves the merchant total by largest remainder', async () => {
    const runs = mkdtempSync(join(tmpdir(), 'dag-example-'));
    const r = await runCli(['--root', EXAMPLE, 'run', '--json'], { cwd: EXAMPLE, env: { DAG_RUNS_DIR: runs } });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { run_dir: string; counts: { ran: number } };
    expect(summary.counts.ran).toBe(3);
    const ledger = readFileSync(join(summary.run_dir, 'ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { state: string; rows?: Record<string, number>; gate?: { passed: boolean } });
    expect(ledger.find((e) => e.state === 'ex.S1')?.rows?.merchants_ex).toBe(400);
    expect(ledger.find((e) => e.state === 'ex.S2')?.gate?.passed).toBe(true);
  }, 60_000);
});
