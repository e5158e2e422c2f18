import { existsSync, readFileSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import { sha256Hex } from '../project/canonical.js';
import type { CacheKey, KeyComponents } from '../fingerprint/cachekey.js';
import { contentDigest } from '../fingerprint/digest.js';
import type { Task } from '../graph/tasks.js';
import { decide } from '../plan/decide.js';
import { taskFacts } from '../plan/plan.js';
import type { CachedFile } from '../store/cache.js';
import type { LedgerEntry } from '../store/runs.js';
import type { Attempt, Outcome, RunContext } from './context.js';
import { runKernel } from './kernel.js';
import { failAttempt } from './publish.js';
import { restoreFromCache, stageFromBase } from './restore.js';

const TMP = '.tmp';

/** The attempt folder of a task under the run's .tmp. */
export function attemptDir(runDir: string, task: Task): string {
  return join(runDir, TMP, task.key.replace(/[^A-Za-z0-9_.@-]/g, '_'));
}

/**
 * One task: decide with the rule `dag plan` uses (taskFacts + decide), then act on the decision:
 * stage from the base run, restore from the cache, or run the kernel (and cache what it made).
 */
export async function runTask(run: RunContext, task: Task): Promise<Outcome> {
  const started = performance.now();
  const { prep } = run;
  const { facts, key, components } = taskFacts(prep.ctx, task, run.known);
  const decision = decide(facts);
  const attempt = (reason: string): Attempt => ({ run, task, tmp: attemptDir(run.runDir, task), started, reason, key });

  if (decision.action === 'stage') {
    const outcome = await stageFromBase(attempt(decision.reason), components);
    if (outcome !== 'interrupted' && outcome.action !== 'failed') remember(run, task, key, components);
    return outcome;
  }
  let reason = decision.reason;
  if (decision.action === 'cached') {
    const served = await restoreFromCache(attempt(reason));
    if (typeof served === 'string' || !('notServed' in served)) {
      remember(run, task, key, components);
      return served;
    }
    run.bus.emit({ type: 'warning', warning: { code: 'cache-not-served', task: task.key, entry: key!, problem: served.notServed } });
    reason = `cache entry not served: ${served.notServed}`;
  }
  // another run of this `dag run` computing the same key (a world-scoped state under --seeds on
  // workers): wait for it, then decide again, which its cache entry now serves
  const other = key ? run.flights.get(key) : undefined;
  if (other) {
    await other.catch(() => undefined);
    return run.aborted() ? 'interrupted' : runTask(run, task);
  }
  const a = attempt(reason);
  const changed = changedSinceStart(run, task);
  if (changed) return failAttempt(a, { message: `${changed} changed after this run started; the run reads one version of the project, so rerun it (resume it after restoring the file, or start a new run)`, rule: 'changed-during-run', step: 'inputs' });
  const flight = (async () => {
    const outcome = await runKernel(a);
    if (outcome !== 'interrupted' && outcome.action === 'ran') {
      remember(run, task, key, components);
      if (key && components) await cacheResult(run, task, outcome.entry, key, components);
    }
    return outcome;
  })();
  if (!key) return flight;
  run.flights.set(key, flight);
  try {
    return await flight;
  } finally {
    run.flights.delete(key);
  }
}

/** Records the task's key as its latest (and the documents it read), so plan and prune see this run. */
function remember(run: RunContext, task: Task, key: CacheKey | undefined, components: KeyComponents | undefined): void {
  if (!key || !components) return;
  const { prep } = run;
  prep.cache.setLatest(task.key, { key, components });
  if (task.vars.seed !== undefined) prep.cache.setLatest(`${task.key}#${task.vars.seed}`, { key, components });
  for (const f of task.state.fileInputs) {
    if (f.keys && prep.lineage.documents.has(f.file)) {
      // a keyed input's key part is its listed subtrees: kept under their digest, so a later change names the pointer
      const k = prep.ctx.parts.keyedDigest(f.file, f.keys);
      prep.cache.rememberDocument(k.digest, k.canonical);
      continue;
    }
    const d = prep.lineage.digests.get(f.file)!;
    const doc = prep.documents.get(d);
    if (doc) prep.cache.rememberDocument(d, doc);
  }
}

async function cacheResult(run: RunContext, task: Task, entry: LedgerEntry, key: CacheKey, components: KeyComponents): Promise<void> {
  const files: CachedFile[] = (entry.outputs ?? []).map((o) => ({ dataset: o.dataset, template: o.template, name: basename(o.path), sha256: o.sha256, bytes: o.bytes, rows: o.rows }));
  const abs = new Map((entry.outputs ?? []).map((o) => [`${o.template}/${basename(o.path)}`, join(run.runDir, o.path)]));
  await run.prep.cache.put({ key, state: task.state.id, scenario: task.scenario ?? null, created_utc: entry.ts, seconds: entry.seconds, components, files, gate: entry.gate ? { passed: entry.gate.passed, digest: entry.gate.digest } : undefined, run_id: basename(run.runDir) }, abs);
}

/**
 * The first file this task reads from disk (kernel, prelude, CSV and other non-document inputs)
 * whose content differs from what the run saw when it started, if any: an edit during an hour-long
 * run must not give it half old, half new inputs. YAML/JSON inputs and contracts need no check:
 * kernels get the run's snapshot of them.
 */
function changedSinceStart(run: RunContext, task: Task): string | undefined {
  const { cp, prep } = run;
  const root = cp.project.root;
  if (sha256Hex(readFileSync(posix.join(root, task.state.kernel))) !== prep.ctx.parts.kernelDigest(task.state)) return task.state.kernel;
  const files = [...cp.project.config.kernel_prelude, ...task.state.fileInputs.map((f) => f.file)].filter((f) => !prep.lineage.documents.has(f));
  for (const f of files) {
    const before = prep.lineage.digests.get(f);
    const actual = prep.lineage.resolved.get(f) ?? f;
    if (before === undefined) continue;
    if (!existsSync(posix.join(root, actual)) || contentDigest(posix.join(root, actual), actual) !== before) return actual;
  }
  return undefined;
}
