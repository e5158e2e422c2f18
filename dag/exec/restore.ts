import { basename, dirname, join } from 'node:path';
import { fillPath } from '../graph/tasks.js';
import { stagedStale } from '../plan/plan.js';
import { linkOrCopy } from '../store/atomic.js';
import type { LedgerEntry } from '../store/runs.js';
import type { KeyComponents } from '../fingerprint/cachekey.js';
import type { Attempt, Outcome, Staged } from './context.js';
import { ensureDir, failAttempt, publish, stagedPath } from './publish.js';

/**
 * `--from`: publishes the base run's files of this task, each verified against the base's ledger,
 * by hard link; the gate bundle moves with them, its path following this run's variables.
 */
export async function stageFromBase(a: Attempt, components: KeyComponents | undefined): Promise<Outcome> {
  const { prep, bus } = a.run;
  const { task } = a;
  const baseRun = prep.base!;
  const base = prep.baseOutcomes!.get(task.key)!;
  const files: Staged[] = [];
  const hashedBefore = prep.cache.stat.hashedBytes;
  for (const o of base.outputs ?? []) {
    const abs = join(baseRun.dir, o.path);
    const actual = await prep.cache.stat.sha256(abs);
    if (actual !== o.sha256) return failAttempt(a, { message: `cannot stage from base run ${baseRun.id}: ${o.path} ${actual === undefined ? 'is missing' : 'changed since it was published'}`, rule: 'stage' });
    files.push({ dataset: o.dataset, template: o.template, rel: `${fillPath(o.template, task.vars)}/${basename(o.path)}`, abs, sha256: o.sha256, bytes: o.bytes, rows: o.rows });
  }
  const stale = stagedStale(prep.ctx, task, a.key, components);
  if (stale) bus.emit({ type: 'warning', warning: stale });
  const gate = base.gate && task.state.gate ? { ...base.gate, segment: task.state.segment, path: fillPath(task.state.gate.path, task.vars) } : base.gate;
  const link = (f: Staged, dest: string) => {
    linkOrCopy(f.abs, dest);
    // a new link moves the inode's ctime: re-record the digest just verified, or every later run
    // would rehash the base's file
    prep.cache.stat.remember(f.abs, f.sha256!);
  };
  return publishLinked(a, 'staged', files, gate, prep.cache.stat.hashedBytes - hashedBefore, link);
}

/**
 * Serves the task from the cache entry of its key, each object verified first. An entry that
 * cannot be served (gone, or an object damaged) is dropped, and says why: the state then reruns.
 */
export async function restoreFromCache(a: Attempt): Promise<Outcome | { notServed: string }> {
  const { prep } = a.run;
  const { task } = a;
  const key = a.key!;
  const entry = prep.cache.lookup(key);
  const hashedBefore = prep.cache.stat.hashedBytes;
  const bad = entry ? await prep.cache.firstBadObject(entry) : 'entry vanished';
  if (!entry || bad) {
    prep.cache.drop(key);
    return { notServed: bad ?? 'entry vanished' };
  }
  // (abs: no path of its own; the store puts each object's bytes in place)
  const files: Staged[] = entry.files.map((f) => ({ dataset: f.dataset, template: f.template, rel: `${fillPath(f.template, task.vars)}/${f.name}`, abs: '', sha256: f.sha256, bytes: f.bytes, rows: f.rows }));
  const gate = entry.gate && task.state.gate ? { segment: task.state.segment, path: fillPath(task.state.gate.path, task.vars), ...entry.gate } : undefined;
  return publishLinked(a, 'cached', files, gate, prep.cache.stat.hashedBytes - hashedBefore, (f, dest) => prep.cache.fetchObject(f.sha256!, dest));
}

/** Publishes files whose bytes already exist elsewhere (cache objects, a base run), each put in place by `place` (a hard link). */
function publishLinked(a: Attempt, action: 'cached' | 'staged', files: Staged[], gate: LedgerEntry['gate'], hashedBytes: number, place: (f: Staged, dest: string) => void): Outcome {
  for (const f of files) {
    const dest = stagedPath(linkBase(a), a.task, f.rel);
    ensureDir(a, dirname(dest));
    place(f, dest);
  }
  return publish(a, action, files, { gate, hashed_bytes: hashedBytes }, linkBase(a), false);
}

/** Where a task's linked folders are built: beside its attempt folder, or where the run made them ahead. */
function linkBase(a: Attempt): string {
  return a.run.prefetch?.linkBase(a.task.key) ?? a.tmp;
}
