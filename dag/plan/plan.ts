import { datasetDigest, type CacheKey, type KeyComponents, type KeyParts } from '../fingerprint/cachekey.js';
import type { Sha256Hex } from '../project/canonical.js';
import type { CompiledProject } from '../graph/compile.js';
import { selectWithAncestors } from '../graph/select.js';
import type { Task } from '../graph/tasks.js';
import { changeReasons, decide, type Action, type Decision } from './decide.js';

/**
 * `plan` decides, `exec` acts. `planRun` walks the tasks in order and, for each, asks `decide`
 * (the one staleness rule) what a run would do, simulating what each decision makes known:
 * a cached or staged task's output digests are known in advance, a rerun task's are not.
 * The executor calls `taskFacts` + `decide` with real digests at the moment a task is ready.
 */
export type { Action } from './decide.js';

export interface PlannedState {
  state: string;
  task: string;
  scenario?: string;
  action: Action;
  reason: string;
  provisional?: boolean;
  /** Seconds from the last recorded timing (runs only; cached and staged cost ~0). */
  estimateSeconds?: number;
  key?: string;
}

export interface Plan {
  states: PlannedState[];
  counts: Record<Action, number>;
  estimateSeconds: number;
  unestimated: number;
  /** Runs that may turn out cached (their inputs come from states that rerun). */
  provisional: number;
  baseRunId?: string;
  /** What `dag run` would warn about: states staged from the base although their inputs changed since. */
  warnings: StagedStale[];
}

/** What is known of a task's published outputs once it is done (or decided, in a plan). */
export interface Known {
  /** dataset -> digest over its files */
  datasets: Map<string, Sha256Hex>;
  /** Flag digest of a gate state's bundle; null when its verdict failed. */
  gateDigest?: string | null;
}

/** Read-only view of the cache and of past decisions. */
export interface CacheView {
  has(key: CacheKey): boolean;
  /** Output digests of a cache entry (for simulating a hit in a plan). */
  known(key: CacheKey): Known | undefined;
  previous(taskId: string, seed: number | undefined): { key: CacheKey; components: KeyComponents } | undefined;
  /** The key components of a cache entry, when the cache has it. */
  components(key: CacheKey): KeyComponents | undefined;
  pointersChanged(file: string, before: string, after: string): string[];
}

/** How `--from` splits the tasks. */
export interface FromSplit {
  /** The --from states, in execution order. */
  states: string[];
  /** Each state downstream of a --from state (or one itself) -> that --from state, for its reason. */
  forced: Map<string, string>;
  baseRunId: string;
  /** Output digests of the base run's tasks. */
  base: Map<string, Known>;
  /** The cache key each of the base run's tasks had. */
  baseKeys: Map<string, string>;
}

export interface PlanContext {
  cp: CompiledProject;
  parts: KeyParts;
  cache: CacheView;
  noCache: boolean;
  from?: FromSplit;
  seed: number;
}

export function fromSplit(cp: CompiledProject, states: readonly string[], baseRunId: string, base: Map<string, Known>, baseKeys: Map<string, string> = new Map()): FromSplit {
  const chosen = new Set(states);
  const forced = new Map<string, string>();
  // in execution order every state's upstream is decided before it: one pass over the edges
  for (const s of cp.order) {
    if (chosen.has(s)) forced.set(s, s);
    else cp.graph.forEachInNeighbor(s, (n) => {
      if (!forced.has(s) && forced.has(n)) forced.set(s, forced.get(n)!);
    });
  }
  return { states: cp.order.filter((s) => chosen.has(s)), forced, baseRunId, base, baseKeys };
}

/** A task staged from the base run although its inputs changed since the base ran it (its cache key differs). */
export interface StagedStale {
  code: 'staged-stale';
  task: string;
  state: string;
  base: string;
  /** What changed, one reason per input (changeReasons), or that the key differs. */
  changes: string[];
}

/**
 * The fact that `task`, staged from the base, is stale, with what changed; undefined when it is
 * not. `dag plan --from` and `dag run --from` report the same facts.
 */
export function stagedStale(ctx: PlanContext, task: Task, key: CacheKey | undefined, components: KeyComponents | undefined): StagedStale | undefined {
  const was = ctx.from?.baseKeys.get(task.key);
  if (!ctx.from || !key || !was || was === key) return undefined;
  const before = ctx.cache.components(was as CacheKey);
  const changes = before && components ? changeReasons(before, components, { kernelPath: task.state.kernel, pointersChanged: ctx.cache.pointersChanged }) : ['its cache key differs'];
  return { code: 'staged-stale', task: task.key, state: task.state.id, base: ctx.from.baseRunId, changes };
}

/** The facts `decide` needs about `task`, given what is known of the tasks it reads. */
export function taskFacts(ctx: PlanContext, task: Task, known: ReadonlyMap<string, Known | 'pending'>): { facts: Parameters<typeof decide>[0]; key?: CacheKey; components?: KeyComponents } {
  const { cp } = ctx;
  const state = task.state;
  const datasets: Record<string, Sha256Hex> = {};
  const gates: Record<string, string> = {};
  const pendingInputs: { dataset: string; producer: string }[] = [];
  const producerTask = (stateId: string) => task.deps.find((d) => d === stateId || d === `${stateId}@${task.scenario}`) ?? stateId;
  for (const ds of state.datasetInputs) {
    const producer = producerTask(cp.producers.get(ds)!);
    const k = known.get(producer);
    if (k === undefined || k === 'pending') pendingInputs.push({ dataset: ds, producer });
    else datasets[ds] = k.datasets.get(ds)!;
  }
  for (const seg of state.requiresPass) {
    const producer = producerTask(cp.gates.get(seg)!);
    const k = known.get(producer);
    if (k === undefined || k === 'pending') pendingInputs.push({ dataset: `gate ${seg}`, producer });
    else gates[seg] = k.gateDigest ?? 'not passed';
  }
  let stageReason: string | undefined;
  let forcedReason: string | undefined;
  if (ctx.from) {
    const via = ctx.from.forced.get(state.id);
    if (via === undefined) stageReason = `upstream of --from ${ctx.from.states.join(', ')}: staged from ${ctx.from.baseRunId}`;
    else forcedReason = via === state.id ? `forced: --from ${state.id}` : `downstream of ${via}`;
  }
  let key: CacheKey | undefined;
  let components: KeyComponents | undefined;
  let ownComponents: KeyComponents | undefined;
  if (pendingInputs.length === 0) {
    components = ctx.parts.components(state, task.vars.seed, task.scenario, datasets, gates);
    key = ctx.parts.keyOf(components);
  } else ownComponents = ctx.parts.components(state, task.vars.seed, task.scenario, {}, {});
  return {
    key,
    components,
    facts: {
      stageReason,
      forcedReason,
      noCache: ctx.noCache,
      pendingInputs,
      key,
      components,
      ownComponents,
      cached: key !== undefined && ctx.cache.has(key),
      previous: ctx.cache.previous(task.key, task.vars.seed),
      kernelPath: state.kernel,
      pointersChanged: ctx.cache.pointersChanged,
    },
  };
}

/** Digests of a task's outputs from its published files (path-free, in path order). */
export function knownFromFiles(files: { dataset: string; path: string; sha256: string }[], gateDigest?: string | null): Known {
  const by = new Map<string, { path: string; sha256: string }[]>();
  for (const f of files) by.set(f.dataset, [...(by.get(f.dataset) ?? []), f]);
  const datasets = new Map<string, Sha256Hex>();
  for (const [ds, list] of by) datasets.set(ds, datasetDigest(list.sort((a, b) => (a.path < b.path ? -1 : 1)).map((f) => f.sha256)));
  return { datasets, gateDigest };
}

export function planRun(ctx: PlanContext, tasks: Task[], timings?: ReadonlyMap<string, number>): Plan {
  const known = new Map<string, Known | 'pending'>();
  const states: PlannedState[] = [];
  const warnings: StagedStale[] = [];
  for (const task of tasks) {
    const { facts, key, components } = taskFacts(ctx, task, known);
    const d: Decision = decide(facts);
    if (d.action === 'stage') {
      known.set(task.key, ctx.from!.base.get(task.key) ?? 'pending');
      const stale = stagedStale(ctx, task, key, components);
      if (stale) warnings.push(stale);
    }
    else if (d.action === 'cached') known.set(task.key, ctx.cache.known(key!) ?? 'pending');
    else known.set(task.key, 'pending');
    states.push({ state: task.state.id, task: task.key, scenario: task.scenario, action: d.action, reason: d.reason, provisional: d.provisional, estimateSeconds: d.action === 'run' ? timings?.get(task.state.id) : 0, key });
  }
  return { ...summarize(states), baseRunId: ctx.from?.baseRunId, warnings };
}

export function summarize(states: PlannedState[]): Plan {
  const counts: Record<Action, number> = { run: 0, cached: 0, stage: 0 };
  let estimateSeconds = 0;
  let unestimated = 0;
  let provisional = 0;
  for (const s of states) {
    counts[s.action]++;
    if (s.provisional) provisional++;
    if (s.action !== 'run') continue;
    if (s.estimateSeconds === undefined) unestimated++;
    else estimateSeconds += s.estimateSeconds;
  }
  return { states, counts, estimateSeconds, unestimated, provisional, warnings: [] };
}

export { selectWithAncestors };
