// KeyParts.keyOf writes the canonical JSON of a state's key components field by field, with the
// parts its tasks share written once per run (issue 15): its digest must be cacheKeyOf's, for every
// state of a real project (keyed inputs, scenario scope, seeds, gates, triggers) or cache keys would
// change under every project's feet.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openProject } from '../../dag/cli/context.js';
import { cacheKeyOf, KeyParts, type KeyComponents } from '../../dag/fingerprint/cachekey.js';
import { computeLineage } from '../../dag/fingerprint/lineage.js';
import type { Sha256Hex } from '../../dag/project/canonical.js';
import { removeTemps, tempDir } from '../support/temp.js';
import { diamond, replaceIn } from '../cache/helpers.js';

const repo = join(import.meta.dirname, '..', '..');

afterAll(removeTemps);

/** The diamond fixture with `keys:`-scoped document inputs. */
function keyedDiamond(): string {
  const p = diamond();
  replaceIn(p, 'states/fx/S1_customers.yaml', '    schema: contracts/fx.yaml#/params\n', '    schema: contracts/fx.yaml#/params\n    keys: [/customers_per_region]\n');
  replaceIn(p, 'states/fx/S3_pairs.yaml', '    schema: contracts/fx.yaml#/params\n', '    schema: contracts/fx.yaml#/params\n    keys: [/amount, /customers_per_region]\n');
  return p.root;
}

/** A copy of the engine's own project (its runs folder left behind): 30-odd states of every kind. */
function engineCopy(): string {
  const root = tempDir('keyof');
  for (const f of ['dag.yaml', 'states', 'contracts', 'config']) cpSync(join(repo, f), join(root, f), { recursive: true });
  return root;
}

const hex = (i: number) => (i.toString(16).padStart(2, '0').repeat(32)) as Sha256Hex;

describe('KeyParts.keyOf', () => {
  it.each([
    ['the engine', engineCopy],
    ['a project with keys: inputs', keyedDiamond],
  ])('gives cacheKeyOf(components) for every state of %s, seed, scenario, dataset and gate digest', (_name, make) => {
    const cp = openProject({ root: make() });
    const parts = new KeyParts(cp, computeLineage(cp), { dag: '0.1.0', duckdb: '1.5.6' });
    let compared = 0;
    let withKeys = 0;
    for (const state of cp.states.values()) {
      if (state.fileInputs.some((f) => f.keys)) withKeys++;
      for (const [i, seed] of [42, 7, undefined].entries()) {
        for (const scenario of ['baseline', 'stress "q"', undefined]) {
          const datasets = Object.fromEntries(state.datasetInputs.map((d, j) => [d, hex(i + j)]));
          const gates = Object.fromEntries(state.requiresPass.map((s, j) => [s, j % 2 ? 'not passed' : hex(j)]));
          const c = parts.components(state, seed, scenario, datasets, gates);
          expect(parts.keyOf(c), `${state.id} seed ${seed} scenario ${scenario}`).toBe(cacheKeyOf(c));
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThanOrEqual(5 * 9);
    if (make === keyedDiamond) expect(withKeys, 'the project has keys:-scoped inputs').toBe(2);
  });

  it('takes the general path for components of another shape, and never serves stale shared JSON', () => {
    const cp = openProject({ root: engineCopy() });
    const parts = new KeyParts(cp, computeLineage(cp), { dag: '0.1.0', duckdb: '1.5.6' });
    const state = [...cp.states.values()][0]!;
    const c = parts.components(state, 42, undefined, {}, {});
    const wider = { ...c, extra: 1 } as unknown as KeyComponents;
    expect(parts.keyOf(wider)).toBe(cacheKeyOf(wider));
    // a caller's own contracts object is written afresh, not taken for the state's shared one
    const other = { ...c, contracts: { 'contracts/x.yaml': hex(9) } };
    expect(parts.keyOf(other)).toBe(cacheKeyOf(other));
    expect(parts.keyOf(other)).not.toBe(parts.keyOf(c));
  });
});
