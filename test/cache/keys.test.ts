// issue 16: parameter dependencies at key level, as DVC's `params`. Before, a state that read
// `/amount` of a file reran when any other part of it changed. An input may declare
// `keys: [/amount]`: only those subtrees enter its cache key, and a rerun names the changed pointer.
import { describe, expect, it } from 'vitest';
import { actions, diamond, goodRun, planJson, replaceIn, TIMEOUT, type Proj } from './helpers.js';

/** The diamond with each state's params input scoped to what its kernel reads, and a `note` key nobody reads. */
function keyed(): Proj {
  const p = diamond();
  replaceIn(p, 'states/fx/S1_customers.yaml', '    schema: contracts/fx.yaml#/params\n', '    schema: contracts/fx.yaml#/params\n    keys: [/customers_per_region]\n');
  replaceIn(p, 'states/fx/S2_merchants.yaml', '    schema: contracts/fx.yaml#/params\n', '    schema: contracts/fx.yaml#/params\n    keys: [/merchants_per_region]\n');
  replaceIn(p, 'states/fx/S3_pairs.yaml', '    schema: contracts/fx.yaml#/params\n', '    schema: contracts/fx.yaml#/params\n    keys: [/amount]\n');
  replaceIn(p, 'contracts/fx.yaml', '    merchants_per_region: { $ref: "common.yaml#/$defs/positive_int" }\n', '    merchants_per_region: { $ref: "common.yaml#/$defs/positive_int" }\n    note: { type: string }\n');
  replaceIn(p, 'config/params.yaml', 'merchants_per_region: 5\n', 'merchants_per_region: 5\nnote: first\n');
  return p;
}

describe('keys: on a document input', { timeout: TIMEOUT }, () => {
  it('an edit of a key no state lists reruns nothing, in the plan and in the ledger', async () => {
    const p = keyed();
    await goodRun(p);
    replaceIn(p, 'config/params.yaml', 'note: first', 'note: second');
    const plan = await planJson(p);
    expect(Object.fromEntries(plan.states.map((s) => [s.task, s.action]))).toEqual({ 'fx.S0': 'cached', 'fx.S1': 'cached', 'fx.S2': 'cached', 'fx.S3': 'cached', 'fx.S4': 'cached' });
    const run = await goodRun(p);
    expect(actions(run)).toEqual({ 'fx.S0': 'cached', 'fx.S1': 'cached', 'fx.S2': 'cached', 'fx.S3': 'cached', 'fx.S4': 'cached' });
  });

  it('an edit of a listed key reruns the states that list it, naming the pointer; the others stay cached', async () => {
    const p = keyed();
    await goodRun(p);
    replaceIn(p, 'config/params.yaml', 'spread: 20.0', 'spread: 25.0');
    const plan = await planJson(p);
    const by = Object.fromEntries(plan.states.map((s) => [s.task, `${s.action}: ${s.reason}`]));
    expect(by['fx.S1']).toBe('cached: unchanged');
    expect(by['fx.S2']).toBe('cached: unchanged');
    expect(by['fx.S3']).toBe('run: file changed: config/params.yaml (/amount/spread)');
    const run = await goodRun(p);
    expect(actions(run)).toMatchObject({ 'fx.S1': 'cached', 'fx.S2': 'cached', 'fx.S3': 'ran' });
    expect(run.by['fx.S3']!.reason).toBe('file changed: config/params.yaml (/amount/spread)');
  });

  it('keys on a CSV input is refused at validate time, naming the manifest line', async () => {
    const p = diamond();
    const { read, write } = await import('./helpers.js');
    const m = read(p, 'states/fx/S0_regions.yaml');
    expect(m).toMatch(/file: .*\.csv/);
    write(p, 'states/fx/S0_regions.yaml', m.replace(/(  - file: .*\.csv\n)/, '$1    keys: [/x]\n'));
    const { dag } = await import('./helpers.js');
    const r = await dag(p, ['validate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/states\/fx\/S0_regions\.yaml:\d+.*keys: names parts of a YAML or JSON document/);
  });
});
