// The staleness rule shared by `dag plan` and `dag run`, as a pure function: no disk, no CLI.
import { describe, expect, it, vi } from 'vitest';
import { cacheKeyOf, type KeyComponents } from '../../dag/fingerprint/cachekey.js';
import type { Sha256Hex } from '../../dag/project/canonical.js';
import { changeReasons, decide, type TaskFacts } from '../../dag/plan/decide.js';

const h = (c: string) => c.repeat(64) as Sha256Hex;

function components(over: Partial<KeyComponents> = {}): KeyComponents {
  return {
    manifest: h('a'),
    kernel: h('b'),
    prelude: h('c'),
    contracts: { 'contracts/fx.yaml': h('d') },
    files: { 'config/params.yaml': h('e') },
    datasets: { regions_fx: h('f') },
    gates: {},
    seed: 42,
    scenario: null,
    versions: { dag: '0.1.0', duckdb: '1.5.6' },
    ...over,
  };
}

const KERNEL = 'states/fx/S1_customers.sql';

/** Facts of a task whose inputs are all known and whose key is `now`, last computed with `before` (null: never). */
function facts(over: Partial<TaskFacts> = {}, now = components(), before: KeyComponents | null = now): TaskFacts {
  return {
    noCache: false,
    pendingInputs: [],
    key: cacheKeyOf(now),
    components: now,
    cached: false,
    previous: before ? { key: cacheKeyOf(before), components: before } : undefined,
    kernelPath: KERNEL,
    pointersChanged: () => [],
    ...over,
  };
}

describe('decide', () => {
  it('a task never computed runs as new', () => {
    expect(decide(facts({}, components(), null))).toEqual({ action: 'run', reason: 'new' });
  });

  it('a cached task with the key it was last computed with is unchanged', () => {
    expect(decide(facts({ cached: true }))).toEqual({ action: 'cached', reason: 'unchanged' });
  });

  it('a cached task whose key differs from its last one is a cache hit of earlier inputs', () => {
    const before = components({ seed: 7 });
    expect(decide(facts({ cached: true }, components(), before))).toEqual({ action: 'cached', reason: 'cache hit: these inputs were computed before' });
  });

  it('an uncached task names what changed since its last key', () => {
    const before = components({ kernel: h('0'), datasets: { regions_fx: h('1') } });
    expect(decide(facts({}, components(), before))).toEqual({ action: 'run', reason: `kernel changed: ${KERNEL}; input changed: regions_fx` });
  });

  it('an uncached task whose key did not change says its cache entry is missing', () => {
    expect(decide(facts())).toEqual({ action: 'run', reason: 'cache entry missing' });
  });

  // issue 16: `run?` was shown for states that certainly rerun (their own file changed, a new
  // seed), and only the pending input was named
  it('with inputs pending, a state whose own parts changed certainly reruns: not provisional, its own changes named first', () => {
    const pendingInputs = [{ dataset: 'customers_fx', producer: 'fx.S1' }];
    const before = components();
    const kernelEdit = decide(facts({ pendingInputs, key: undefined, components: undefined, ownComponents: components({ kernel: h('9'), datasets: {} }) }, components(), before));
    expect(kernelEdit).toEqual({ action: 'run', reason: `kernel changed: ${KERNEL}; input changed: customers_fx (fx.S1 reruns)` });
    const newSeed = decide(facts({ pendingInputs, key: undefined, components: undefined, ownComponents: components({ seed: 99, datasets: {} }) }, components(), before));
    expect(newSeed.provisional ?? false).toBe(false);
    expect(newSeed.reason).toMatch(/seed.*; input changed: customers_fx \(fx\.S1 reruns\)$/);
    // own parts unchanged: a cache hit is still possible if the input comes out the same
    const same = decide(facts({ pendingInputs, key: undefined, components: undefined, ownComponents: components({ datasets: {} }) }, components(), before));
    expect(same).toEqual({ action: 'run', reason: 'input changed: customers_fx (fx.S1 reruns)', provisional: true });
  });

  it('pending inputs make a provisional run naming each input and the state that reruns it', () => {
    const d = decide(facts({ key: undefined, components: undefined, pendingInputs: [{ dataset: 'customers_fx', producer: 'fx.S1' }, { dataset: 'gate fx', producer: 'fx.S3' }] }));
    expect(d).toEqual({ action: 'run', reason: 'input changed: customers_fx (fx.S1 reruns), gate fx (fx.S3 reruns)', provisional: true });
  });

  it('pending inputs of a task never computed: a definite run, reason new', () => {
    // Guards a fixed bug: decide() reports `input changed: ... (provisional)` before looking at `previous`,
    // so `dag plan` on a fresh project promises runs that "may be served from the cache", and its
    // reason differs from the run's (`new`).
    const d = decide(facts({ key: undefined, components: undefined, previous: undefined, pendingInputs: [{ dataset: 'regions_fx', producer: 'fx.S0' }] }));
    expect(d.action).toBe('run');
    expect(d.reason).toBe('new');
    expect(d.provisional ?? false).toBe(false);
  });

  it('--no-cache runs every task with reason --no-cache, cached or not', () => {
    expect(decide(facts({ noCache: true, cached: true }))).toEqual({ action: 'run', reason: '--no-cache' });
    expect(decide(facts({ noCache: true }, components(), null))).toEqual({ action: 'run', reason: '--no-cache' });
  });

  it('--no-cache with pending inputs: the same reason as the run will record, and not provisional', () => {
    // Guards a fixed bug: `input changed: regions_fx (fx.S0 reruns)` with provisional false; at run time
    // the inputs are known and the ledger says `--no-cache`, so plan and run disagree.
    const d = decide(facts({ noCache: true, key: undefined, components: undefined, pendingInputs: [{ dataset: 'regions_fx', producer: 'fx.S0' }] }));
    expect(d.action).toBe('run');
    expect(d.reason).toBe('--no-cache');
    expect(d.provisional ?? false).toBe(false);
  });

  it('--from: staging wins over everything, then forcing', () => {
    const stage = 'upstream of --from fx.S2: staged from abc';
    expect(decide(facts({ stageReason: stage, forcedReason: 'forced: --from fx.S2', noCache: true, cached: true }))).toEqual({ action: 'stage', reason: stage });
    expect(decide(facts({ forcedReason: 'forced: --from fx.S2', cached: true }))).toEqual({ action: 'run', reason: 'forced: --from fx.S2' });
    const pending = [{ dataset: 'merchants_fx', producer: 'fx.S2' }];
    const d = decide(facts({ forcedReason: 'downstream of fx.S2', pendingInputs: pending, key: undefined }));
    expect(d).toEqual({ action: 'run', reason: 'downstream of fx.S2' });
    expect(d.provisional).toBeUndefined(); // forced: it runs whatever its inputs turn out to be
  });
});

describe('changeReasons', () => {
  const f = { kernelPath: KERNEL, pointersChanged: () => [] as string[] };

  it('nothing differs: no reasons', () => {
    expect(changeReasons(components(), components(), f)).toEqual([]);
  });

  it('names each kind of change, in a fixed order', () => {
    const a = components();
    const b = components({
      kernel: h('1'),
      prelude: h('2'),
      manifest: h('3'),
      contracts: { 'contracts/fx.yaml': h('4') },
      files: { 'config/params.yaml': h('5'), 'config/new.yaml': h('6') },
      datasets: { regions_fx: h('7'), extra_fx: h('8') },
      gates: { fx: 'digest' },
      seed: 7,
      scenario: 'stress',
      versions: { dag: '0.2.0', duckdb: '1.5.6' },
    });
    expect(changeReasons(a, b, f)).toEqual([
      `kernel changed: ${KERNEL}`,
      'kernel_prelude changed',
      'manifest changed',
      'contract changed: contracts/fx.yaml',
      'file added: config/new.yaml',
      'file changed: config/params.yaml',
      'input changed: extra_fx',
      'input changed: regions_fx',
      'gate changed: fx',
      'seed changed: 42 -> 7',
      'scenario changed: null -> stress',
      'versions changed: dag 0.1.0 -> 0.2.0, duckdb 1.5.6 -> 1.5.6',
    ]);
  });

  it('a changed document names its JSON pointers, asking with the file and both digests', () => {
    const pointersChanged = vi.fn(() => ['/customers_per_region', '/amount/mean']);
    const a = components();
    const b = components({ files: { 'config/params.yaml': h('9') } });
    expect(changeReasons(a, b, { kernelPath: KERNEL, pointersChanged })).toEqual(['file changed: config/params.yaml (/customers_per_region, /amount/mean)']);
    expect(pointersChanged).toHaveBeenCalledWith('config/params.yaml', h('e'), h('9'));
  });

  it('a removed file input is named as removed', () => {
    expect(changeReasons(components(), components({ files: {} }), f)).toEqual(['file removed: config/params.yaml']);
  });

  it('the DuckDB version alone is a change too', () => {
    expect(changeReasons(components(), components({ versions: { dag: '0.1.0', duckdb: '1.6.0' } }), f)).toEqual(['versions changed: dag 0.1.0 -> 0.1.0, duckdb 1.5.6 -> 1.6.0']);
  });

});
