import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..', '..');
const EXAMPLE = join(REPO, 'test', 'fixtures', 'example');

describe('the example pipeline (the repository pipeline before the engine)', () => {
  it('runs, seals its segment, and conserves the merchant total by largest remainder', () => {
    const runs = mkdtempSync(join(tmpdir(), 'dag-example-'));
    const r = spawnSync(process.execPath, [join(REPO, 'tools', 'cli', 'dag.mjs'), '--root', EXAMPLE, 'run', '--json'], { env: { ...process.env, DAG_RUNS_DIR: runs }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { runDir: string; counts: { ran: number } };
    expect(summary.counts.ran).toBe(3);
    const ledger = readFileSync(join(summary.runDir, 'ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { state: string; rows?: Record<string, number>; gate?: { passed: boolean } });
    expect(ledger.find((e) => e.state === 'ex.S1')?.rows?.merchants_ex).toBe(400);
    expect(ledger.find((e) => e.state === 'ex.S2')?.gate?.passed).toBe(true);
  }, 60_000);
});
