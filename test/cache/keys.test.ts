// Cache keys (ORCHESTRATOR.md §7) through the library: what goes into a key, and what must not.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheKeyOf, KeyParts, type CacheKey, type KeyComponents } from '../../dag/fingerprint/cachekey.js';
import type { Sha256Hex } from '../../dag/fingerprint/canonical.js';
import { computeLineage, type Lineage } from '../../dag/fingerprint/lineage.js';
import { compileProject, type CompiledProject } from '../../dag/graph/compile.js';
import { Diagnostics } from '../../dag/project/diagnostics.js';
import { loadProject } from '../../dag/contracts/project.js';
import { DIAMOND, tempDir } from './helpers.js';

const VERSIONS = { dag: '0.1.0', duckdb: '1.5.6' };
const h = (c: string) => c.repeat(64) as Sha256Hex;
/** The same upstream dataset digests for every project, so only what the project holds can differ. */
const DATASETS: Record<string, Record<string, Sha256Hex>> = {
  'fx.S0': {},
  'fx.S1': { regions_fx: h('1') },
  'fx.S2': { regions_fx: h('1') },
  'fx.S3': { customers_fx: h('2'), merchants_fx: h('3') },
  'fx.S4': { pairs_fx: h('4') },
};
const GATES: Record<string, Record<string, string>> = { 'fx.S4': { fx: h('5') } };
const STATES = Object.keys(DATASETS);

interface Keyed {
  cp: CompiledProject;
  lineage: Lineage;
  components(state: string, seed?: number, datasets?: Record<string, Sha256Hex>): KeyComponents;
  key(state: string, seed?: number, datasets?: Record<string, Sha256Hex>): CacheKey;
}

/** Compiles a fresh copy of the diamond after `edit(read, write)`, and keys its states. */
function project(edit?: (read: (rel: string) => string, write: (rel: string, text: string) => void) => void, profile?: string): Keyed {
  const root = tempDir('keys');
  cpSync(DIAMOND, root, { recursive: true, filter: (src) => src !== join(DIAMOND, 'runs') });
  edit?.((rel) => readFileSync(join(root, rel), 'utf8'), (rel, text) => writeFileSync(join(root, rel), text));
  const diags = new Diagnostics();
  const loaded = loadProject(root, diags);
  const cp = loaded && compileProject(loaded, diags);
  expect(diags.items).toEqual([]);
  const lineage = computeLineage(cp!, profile);
  const parts = new KeyParts(cp!, lineage, VERSIONS);
  const components = (state: string, seed = 42, datasets = DATASETS[state]!) => parts.components(cp!.states.get(state)!, seed, undefined, datasets, GATES[state] ?? {});
  return { cp: cp!, lineage, components, key: (state, seed, datasets) => cacheKeyOf(components(state, seed, datasets)) };
}

const keysOf = (p: Keyed) => Object.fromEntries(STATES.map((s) => [s, p.key(s)]));
const changed = (a: Keyed, b: Keyed) => STATES.filter((s) => a.key(s) !== b.key(s));

describe('cache keys', () => {
  it('the same inputs give the same key, wherever the project sits', () => {
    const a = project();
    const b = project();
    expect(a.cp.project.root).not.toBe(b.cp.project.root);
    expect(keysOf(a)).toEqual(keysOf(b));
    expect(new Set(Object.values(keysOf(a))).size, 'each state has a key of its own').toBe(STATES.length);
    for (const k of Object.values(keysOf(a))) expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKeyOf(a.components('fx.S1'))).toBe(a.key('fx.S1'));
  });

  it('the seed is in the key of seed-scoped states, not of world-scoped fx.S0', () => {
    const p = project();
    expect(p.cp.states.get('fx.S0')!.scope).toBe('world');
    expect(p.components('fx.S0', 42).seed).toBeNull();
    expect(p.key('fx.S0', 7)).toBe(p.key('fx.S0', 42));
    for (const s of ['fx.S1', 'fx.S2', 'fx.S3', 'fx.S4']) {
      expect(p.components(s, 7).seed, s).toBe(7);
      expect(p.key(s, 7), s).not.toBe(p.key(s, 42));
    }
  });

  it('lineage-only values are not in the key: a parameter edit changes parameter_hash but not the key of fx.S0, which does not read it', () => {
    const a = project();
    const b = project((read, write) => write('config/params.yaml', read('config/params.yaml').replace('customers_per_region: 50', 'customers_per_region: 60')));
    expect(b.lineage.parameterHash).not.toBe(a.lineage.parameterHash);
    // fx.S0's output folder is named by parameter_hash, yet its key must not move
    expect(a.cp.states.get('fx.S0')!.outputs[0]!.path).toContain('{parameter_hash}');
    expect(changed(a, b)).toEqual(['fx.S1', 'fx.S2', 'fx.S3']);
    for (const s of STATES) {
      const text = JSON.stringify(b.components(s));
      expect(text, s).not.toContain(b.lineage.parameterHash);
      expect(text, s).not.toContain(b.lineage.manifestFingerprint);
    }
  });

  it('a reference file that a state does not read leaves its key alone, though manifest_fingerprint moves', () => {
    const a = project();
    const b = project((read, write) => write('config/regions.csv', read('config/regions.csv').replace('LA,0.1', 'LA,0.1\nAF,0.05')));
    expect(b.lineage.manifestFingerprint).not.toBe(a.lineage.manifestFingerprint);
    expect(b.lineage.parameterHash).toBe(a.lineage.parameterHash);
    // fx.S3's validation folder is named by manifest_fingerprint: still the same key
    expect(a.cp.states.get('fx.S3')!.outputs.some((o) => o.path.includes('{manifest_fingerprint}'))).toBe(true);
    expect(changed(a, b)).toEqual(['fx.S0']);
  });

  it('comments and formatting of a YAML input are not changes; a kernel comment is', () => {
    const a = project();
    const yaml = project((read, write) => write('config/params.yaml', `# reworded\n${read('config/params.yaml').replace('amount:\n  mean: 40.0', 'amount: \n    mean: 40.0  # same value').replace('  spread: 20.0', '    spread: 20.0')}`));
    expect(yaml.cp.states.size).toBe(5);
    expect(changed(a, yaml)).toEqual([]);
    const kernel = project((read, write) => write('states/fx/S1_customers.sql', read('states/fx/S1_customers.sql') + '-- comment\n'));
    expect(changed(a, kernel)).toEqual(['fx.S1']);
    expect(kernel.components('fx.S1').kernel).not.toBe(a.components('fx.S1').kernel);
    const prelude = project((read, write) => write('states/_lib/prelude.sql', read('states/_lib/prelude.sql') + '-- comment\n'));
    expect(changed(a, prelude)).toEqual(STATES);
  });

  it('a profile is keyed by the file it reads, under the logical name', () => {
    const a = project();
    const big = project(undefined, 'big');
    expect(Object.keys(big.components('fx.S1').files)).toEqual(['config/params.yaml']);
    expect(changed(a, big)).toEqual(['fx.S1', 'fx.S2', 'fx.S3']);
  });

  it('input dataset digests and required gate digests are in the key', () => {
    const p = project();
    expect(p.key('fx.S1', 42, { regions_fx: h('9') })).not.toBe(p.key('fx.S1'));
    expect(p.key('fx.S3', 42, { customers_fx: h('2'), merchants_fx: h('9') })).not.toBe(p.key('fx.S3'));
    const s4 = p.cp.states.get('fx.S4')!;
    expect(s4.requiresPass).toEqual(['fx']);
    const parts = new KeyParts(p.cp, p.lineage, VERSIONS);
    expect(cacheKeyOf(parts.components(s4, 42, undefined, DATASETS['fx.S4']!, { fx: h('6') }))).not.toBe(p.key('fx.S4'));
  });

  it('the dag and DuckDB versions are in the key', () => {
    const p = project();
    const s1 = p.cp.states.get('fx.S1')!;
    const other = new KeyParts(p.cp, p.lineage, { dag: VERSIONS.dag, duckdb: '9.9.9' });
    expect(cacheKeyOf(other.components(s1, 42, undefined, DATASETS['fx.S1']!, {}))).not.toBe(p.key('fx.S1'));
  });

  it('rerun.triggers without `files` leaves input files out of the key', () => {
    const triggers = (read: (rel: string) => string, write: (rel: string, text: string) => void) =>
      write('states/fx/S2_merchants.yaml', read('states/fx/S2_merchants.yaml') + 'rerun:\n  triggers: [kernel, inputs, seed]\n');
    const a = project(triggers);
    const b = project((read, write) => {
      triggers(read, write);
      write('config/params.yaml', read('config/params.yaml').replace('merchants_per_region: 5', 'merchants_per_region: 6'));
    });
    expect(a.components('fx.S2').files).toEqual({});
    expect(a.key('fx.S2')).toBe(b.key('fx.S2'));
    expect(a.key('fx.S1')).not.toBe(b.key('fx.S1')); // fx.S1 keeps the default triggers
  });
});
