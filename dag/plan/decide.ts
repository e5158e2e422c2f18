import type { CacheKey, KeyComponents } from '../fingerprint/cachekey.js';

/**
 * The staleness rule, shared by `dag plan` and `dag run`: given what is known about a task, what
 * to do with it and why. Pure: every fact arrives as a value or a lookup function.
 */
export type Action = 'run' | 'cached' | 'stage';

export interface Decision {
  action: Action;
  reason: string;
  /**
   * True when an input will only be known after an upstream state reruns: the run may then find
   * the inputs unchanged and serve the state from the cache (early cutoff).
   */
  provisional?: boolean;
}

export interface TaskFacts {
  /** Set when `--from` stages this task from a base run. */
  stageReason?: string;
  /** Set when `--from` forces this task to run. */
  forcedReason?: string;
  noCache: boolean;
  /** Input datasets whose producers rerun in this run (their digests are not known yet). */
  pendingInputs: { dataset: string; producer: string }[];
  key?: CacheKey;
  components?: KeyComponents;
  /** With inputs pending: the key components of the task's own parts (its datasets and gates not yet known). */
  ownComponents?: KeyComponents;
  /** Whether the cache holds an entry for `key`. */
  cached: boolean;
  /** The key and components the task was last computed or served with. */
  previous?: { key: CacheKey; components: KeyComponents };
  kernelPath: string;
  /** Names the JSON pointers that differ between two versions of an input document, if known. */
  pointersChanged: (file: string, before: string, after: string) => string[];
}

export function decide(f: TaskFacts): Decision {
  if (f.stageReason) return { action: 'stage', reason: f.stageReason };
  if (f.forcedReason) return { action: 'run', reason: f.forcedReason };
  if (f.noCache) return { action: 'run', reason: '--no-cache' };
  if (f.pendingInputs.length > 0) {
    // never computed before: nothing in the cache can serve it, whatever its inputs turn out to be
    if (!f.previous) return { action: 'run', reason: 'new' };
    const names = f.pendingInputs.map((p) => `${p.dataset} (${p.producer} reruns)`).join(', ');
    // its own changes (kernel, manifest, contracts, files, seed, ...) are named too, and then it
    // certainly reruns: `run?` is left for states a cache hit can still serve
    const prev = f.previous.components;
    const own = f.ownComponents && prev ? changeReasons(prev, { ...f.ownComponents, datasets: prev.datasets, gates: prev.gates }, f) : [];
    if (own.length > 0) return { action: 'run', reason: `${own.join('; ')}; input changed: ${names}` };
    return { action: 'run', reason: `input changed: ${names}`, provisional: true };
  }
  if (f.cached) return { action: 'cached', reason: f.previous && f.previous.key !== f.key ? 'cache hit: these inputs were computed before' : 'unchanged' };
  // (a previous key whose components are lost with a damaged latest file is no record to compare with)
  if (!f.previous || !f.components || !f.previous.components) return { action: 'run', reason: 'new' };
  const why = changeReasons(f.previous.components, f.components, f);
  return { action: 'run', reason: why.length ? why.join('; ') : 'cache entry missing' };
}

/** What differs between two key components, in words a user can act on. */
export function changeReasons(a: KeyComponents, b: KeyComponents, f: Pick<TaskFacts, 'kernelPath' | 'pointersChanged'>): string[] {
  const out: string[] = [];
  if (a.kernel !== b.kernel) out.push(`kernel changed: ${f.kernelPath}`);
  if (a.prelude !== b.prelude) out.push('kernel_prelude changed');
  if (a.manifest !== b.manifest) out.push('manifest changed');
  for (const file of keysOf(a.contracts, b.contracts)) if (a.contracts[file] !== b.contracts[file]) out.push(`contract changed: ${file}`);
  for (const file of keysOf(a.files, b.files)) {
    const before = a.files[file];
    const after = b.files[file];
    if (before === after) continue;
    if (!before || !after) out.push(`${before ? 'file removed' : 'file added'}: ${file}`);
    else {
      const ptrs = f.pointersChanged(file, before, after);
      out.push(`file changed: ${file}${ptrs.length ? ` (${ptrs.join(', ')})` : ''}`);
    }
  }
  for (const ds of keysOf(a.datasets, b.datasets)) if (a.datasets[ds] !== b.datasets[ds]) out.push(`input changed: ${ds}`);
  for (const seg of keysOf(a.gates, b.gates)) if (a.gates[seg] !== b.gates[seg]) out.push(`gate changed: ${seg}`);
  if (a.seed !== b.seed) out.push(`seed changed: ${a.seed} -> ${b.seed}`);
  if (a.scenario !== b.scenario) out.push(`scenario changed: ${a.scenario} -> ${b.scenario}`);
  if (a.versions.dag !== b.versions.dag || a.versions.duckdb !== b.versions.duckdb) out.push(`versions changed: dag ${a.versions.dag} -> ${b.versions.dag}, duckdb ${a.versions.duckdb} -> ${b.versions.duckdb}`);
  return out;
}

function keysOf(a: Record<string, unknown> = {}, b: Record<string, unknown> = {}): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}
