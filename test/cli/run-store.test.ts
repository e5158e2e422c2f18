// Commands over the runs folder need only dag.yaml: a manifest broken mid-edit does not stop a
// user from listing, verifying, comparing, labelling, timing or pruning the runs already made.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dag, diamondCopy, onlyRun } from '../exec/harness.js';

describe('a broken manifest and the runs already made', () => {
  it('runs, verify, diff, label, perf and prune work; plan and run refuse with exit 2', async () => {
    const p = diamondCopy();
    expect((await dag(p, ['run', '--quiet'])).code).toBe(0);
    const { id } = onlyRun(p);
    writeFileSync(join(p.root, 'states/fx/S2_merchants.yaml'), 'id: fx.S2\nscope: sead\n');
    for (const args of [['runs'], ['verify', id], ['diff', id, id], ['label', id, 'keep-me'], ['perf', id], ['prune']]) {
      const r = await dag(p, args);
      expect(r.code, `dag ${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect((await dag(p, ['runs'])).stdout).toContain('keep-me');
    const verify = await dag(p, ['verify', id]);
    expect(verify.stdout).toMatch(/^ok: \d+ files in run /m);
    for (const cmd of ['plan', 'run']) {
      const r = await dag(p, [cmd]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('states/fx/S2_merchants.yaml');
    }
  }, 60_000);

  it('verify still rechecks the gate bundle from the ledger alone: a changed bundle file fails it', async () => {
    const p = diamondCopy();
    expect((await dag(p, ['run', '--quiet'])).code).toBe(0);
    const { id, dir } = onlyRun(p);
    writeFileSync(join(p.root, 'states/fx/S2_merchants.yaml'), 'broken: [\n');
    const { readLedger } = await import('../../dag/store/runs.js');
    const gate = readLedger(dir).find((e) => e.gate?.passed)!;
    const index = gate.outputs!.find((o) => o.dataset === '(gate index)')!;
    const { chmodSync, appendFileSync } = await import('node:fs');
    chmodSync(join(dir, index.path), 0o644);
    appendFileSync(join(dir, index.path), ' ');
    const r = await dag(p, ['verify', id]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(index.path);
    // the bundle check itself ran (its index found through the ledger), not only the rehash
    expect(r.stdout).toMatch(new RegExp(`^FAIL ${gate.state}  ${gate.gate!.path}: `, 'm'));
  }, 60_000);
});
