import { checkScenarios, checkSeed } from '../project/names.js';
import { KeyParts } from '../fingerprint/cachekey.js';
import { changedPointers } from '../fingerprint/jsondiff.js';
import { computeLineage, type Lineage } from '../fingerprint/lineage.js';
import type { CompiledProject } from '../graph/compile.js';
import { selectWithAncestors } from '../graph/select.js';
import { fromSplit, knownFromFiles, type CacheView, type FromSplit, type Known, type PlanContext } from '../plan/plan.js';
import { DagError } from '../project/diagnostics.js';
import type { Override } from '../project/overrides.js';
import { CacheStore } from '../store/cache.js';
import { LabelStore } from '../store/labels.js';
import { latestOutcomes, listRuns, readLedger, resolveRun, runsDirOf, type LedgerEntry, type RunInfo } from '../store/runs.js';
import { isPublished } from '../store/verify.js';
import { buildTasks, type Task } from '../graph/tasks.js';
import { versions } from '../fingerprint/versions.js';

export interface RunRequest {
  targets: string[];
  seed?: number;
  scenarios?: string[];
  profile?: string;
  /** `--set` values put into parsed input documents (checked by checkOverrides). */
  overrides?: Override[];
  /** The --from states: each with its downstream reruns, every other state is staged from the base. */
  from?: string[];
  base?: string;
  noCache?: boolean;
}

/** Everything `dag plan` and `dag run` need to decide, computed the same way for both. */
export interface Prepared {
  runsDir: string;
  lineage: Lineage;
  cache: CacheStore;
  ctx: PlanContext;
  tasks: Task[];
  seed: number;
  scenarios: string[];
  /** Current canonical JSON of each structured input file, by content digest. */
  documents: Map<string, string>;
  base?: RunInfo;
  /** The base run's last ledger entry per task (`--from`), read once. */
  baseOutcomes?: Map<string, LedgerEntry>;
}

/** `cache`: a cache view shared with other runs of this process (runs of a --seeds matrix at once). */
export function prepareRun(cp: CompiledProject, req: RunRequest, shared?: CacheStore): Prepared {
  const runsDir = runsDirOf(cp);
  const lineage = computeLineage(cp, req.profile, req.overrides);
  const v = versions(cp.project.root, cp.project.config.version);
  const parts = new KeyParts(cp, lineage, { dag: v.dag, duckdb: v.duckdb });
  const cache = shared ?? new CacheStore(runsDir);
  const seed = checkSeed(req.seed ?? cp.project.config.defaults.seed);
  const scenarios = req.scenarios !== undefined ? checkScenarios(req.scenarios) : cp.project.config.defaults.scenarios;
  const documents = new Map<string, string>();
  for (const [file, canonical] of lineage.documents) documents.set(lineage.digests.get(file)!, canonical);
  // the key part of each `keys:`-scoped input, so a plan names the pointers that changed in it
  for (const s of cp.states.values()) {
    for (const f of s.fileInputs) {
      if (!f.keys || !lineage.documents.has(f.file)) continue;
      const k = parts.keyedDigest(f.file, f.keys);
      documents.set(k.digest, k.canonical);
    }
  }
  const view: CacheView = {
    has: (key) => cache.has(key),
    known: (key) => {
      const e = cache.lookup(key);
      return e ? knownFromFiles(e.files.map((f) => ({ dataset: f.dataset, path: `${f.template}/${f.name}`, sha256: f.sha256 })), e.gate?.digest ?? null) : undefined;
    },
    previous: (taskId, s) => cache.latest(`${taskId}#${s}`) ?? cache.latest(taskId),
    components: (key) => cache.lookup(key)?.components,
    pointersChanged: (_file, before, after) => {
      const a = cache.document(before);
      const b = documents.has(after) ? JSON.parse(documents.get(after)!) : cache.document(after);
      return a === undefined || b === undefined ? [] : changedPointers(a, b);
    },
  };
  const selected = selectWithAncestors(cp, req.targets);
  const tasks = buildTasks(cp, selected, { seed, scenarios, parameterHash: lineage.parameterHash, manifestFingerprint: lineage.manifestFingerprint });
  let from: FromSplit | undefined;
  let base: RunInfo | undefined;
  let baseOutcomes: Map<string, LedgerEntry> | undefined;
  if (req.from !== undefined && req.from.length > 0) {
    base = req.base !== undefined ? resolveRun(runsDir, req.base) : defaultBase(runsDir, seed);
    const outcomes = latestOutcomes(readLedger(base.dir));
    baseOutcomes = outcomes;
    const known = new Map<string, Known>();
    const baseKeys = new Map<string, string>();
    for (const [k, e] of outcomes) {
      if (!isPublished(e)) continue;
      known.set(k, knownFromFiles(e.outputs ?? [], e.gate?.digest ?? null));
      if (e.cache_key) baseKeys.set(k, e.cache_key);
    }
    from = fromSplit(cp, req.from, base.id, known, baseKeys);
    if (base.receipt.seed !== seed && tasks.some((t) => t.state.scope !== 'world' && !from!.forced.has(t.state.id))) {
      throw new DagError([{ code: 'base-seed', file: base.dir, message: `base run ${base.id} has seed ${base.receipt.seed}, this run seed ${seed}: staging would publish another seed's data`, fix: `pass --seed ${base.receipt.seed}, or --base a run with seed ${seed}` }]);
    }
    const missing = tasks.filter((t) => !from!.forced.has(t.state.id) && !known.has(t.key)).map((t) => t.key);
    if (missing.length) {
      throw new DagError([{ code: 'base-incomplete', file: base.dir, message: `base run ${base.id} has no published outputs for ${missing.join(', ')}, which --from ${req.from.join(', ')} would stage`, fix: 'choose another --base, or --from an earlier state' }]);
    }
  }
  return { runsDir, lineage, cache, ctx: { cp, parts, cache: view, noCache: req.noCache ?? false, from, seed }, tasks, seed, scenarios, documents, base, baseOutcomes };
}

/** The base of `--from` without `--base`: the run labelled last-good, else the newest succeeded run, of this seed. */
export function defaultBase(runsDir: string, seed: number): RunInfo {
  const runs = listRuns(runsDir).filter((r) => r.receipt.seed === seed);
  const lastGood = new LabelStore(runsDir).runsWith('last-good')[0];
  const good = runs.find((r) => r.id === lastGood) ?? runs.find((r) => r.receipt.status === 'succeeded');
  if (!good) throw new DagError([{ code: 'no-base', file: runsDir, message: `--from needs a base run, and there is no succeeded run with seed ${seed}`, fix: 'run the pipeline once (dag run), or name one with --base RUN' }]);
  return good;
}
