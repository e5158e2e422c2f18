import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fillPath, type Task } from '../graph/tasks.js';
import type { LedgerEntry } from '../store/runs.js';
import type { KernelFailure, KernelResult } from './job.js';
import type { Attempt, Outcome, Staged } from './context.js';

/** The one builder of a ledger entry: the task's identity and time, then what happened. */
export function ledgerEntry(task: Task, fields: Omit<LedgerEntry, 'ts' | 'state' | 'scenario'>): LedgerEntry {
  return { ts: new Date().toISOString(), state: task.state.id, scenario: task.scenario, ...fields };
}

/**
 * Publishes an attempt's staged files: one rename per output folder, then the ledger line that
 * makes them count. `durable` fsyncs that line (a kernel's fresh bytes); links to bytes that
 * already exist elsewhere (cache, base run) need not wait for it.
 */
export function publish(a: Attempt, action: 'ran' | 'cached' | 'staged', files: Staged[], extra: Pick<LedgerEntry, 'steps' | 'gate' | 'hashed_bytes'>, outDir: string, durable: boolean): Outcome {
  publishFolders(a, outDir);
  const entry = ledgerEntry(a.task, {
    action,
    reason: a.reason,
    cache_key: a.key,
    seconds: (performance.now() - a.started) / 1000,
    ...(extra.steps ? { steps: extra.steps } : {}),
    rows: rowsByDataset(files),
    bytes: files.reduce((n, f) => n + (f.bytes ?? 0), 0),
    ...(extra.hashed_bytes !== undefined ? { hashed_bytes: extra.hashed_bytes } : {}),
    outputs: files.map((f) => ({ dataset: f.dataset, path: f.rel, template: f.template, sha256: f.sha256!, bytes: f.bytes!, rows: f.rows })),
    gate: extra.gate,
  });
  a.run.ledger.append(entry, durable);
  // only a kernel makes the attempt's folder; cached and staged files were linked straight into `.out<i>`
  if (action === 'ran') rmSync(a.tmp, { recursive: true, force: true });
  return { action, entry };
}

/** Records the attempt as failed (its temporary files removed): the failure is a structured value. */
export function failAttempt(a: Attempt, failure: KernelFailure, steps?: KernelResult['steps']): Outcome {
  rmSync(a.tmp, { recursive: true, force: true });
  const entry = ledgerEntry(a.task, {
    action: 'failed',
    reason: failure.message,
    seconds: (performance.now() - a.started) / 1000,
    steps,
    error: { message: `${a.task.state.id}: ${failure.message}`, step: failure.step, output: failure.output, column: failure.column, rule: failure.rule },
  });
  a.run.ledger.append(entry);
  return { action: 'failed', entry };
}

const folders = new WeakMap<Task, readonly string[]>();

/** The run-relative folders a task publishes, in a fixed order (worked out once per task: every staged file asks). */
export function outputFolders(task: Task): readonly string[] {
  let f = folders.get(task);
  if (!f) {
    f = [...new Set(task.state.outputs.map((o) => fillPath(o.path, task.vars)))].sort();
    folders.set(task, f);
  }
  return f;
}

/** Where a file bound for run-relative `rel` is built: `<tmp>.out<i>/<name>`, i its folder's index. */
export function stagedPath(tmp: string, task: Task, rel: string): string {
  const folders = outputFolders(task);
  const i = folders.findIndex((f) => rel.startsWith(f + '/'));
  if (i < 0) throw new Error(`${rel} is outside the output folders of ${task.key}`);
  return join(`${tmp}.out${i}`, rel.slice(folders[i]!.length + 1));
}

/** Makes `dir` (and its parents) once per run. */
export function ensureDir(a: Attempt, dir: string): void {
  const { dirs } = a.run;
  if (dirs.has(dir)) return;
  if (a.run.prefetch?.has(dir)) {
    dirs.add(dir);
    return;
  }
  if (dirs.has(dirname(dir))) {
    // one system call when the parent is known to exist (a recursive mkdir makes two or three)
    try {
      mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  } else mkdirSync(dir, { recursive: true });
  dirs.add(dir);
}

/**
 * One rename per output folder; a folder left by a crash without a ledger record is replaced
 * (found by the rename itself: a fresh run's folders do not exist, and asking first would cost a
 * system call per folder).
 */
function publishFolders(a: Attempt, outDir: string): void {
  outputFolders(a.task).forEach((dir, i) => {
    const final = join(a.run.runDir, dir);
    ensureDir(a, dirname(final));
    try {
      renameSync(`${outDir}.out${i}`, final);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      rmSync(final, { recursive: true, force: true });
      renameSync(`${outDir}.out${i}`, final);
    }
  });
}

/** Outputs a crash left behind without a ledger record. */
export function removeUnpublished(runDir: string, task: Task): void {
  for (const o of task.state.outputs) rmSync(join(runDir, fillPath(o.path, task.vars)), { recursive: true, force: true });
}

/** Rows per dataset over its files (a split output has several). */
function rowsByDataset(files: Staged[]): Record<string, number> {
  const rows: Record<string, number> = {};
  for (const f of files) if (f.rows !== undefined) rows[f.dataset] = (rows[f.dataset] ?? 0) + f.rows;
  return rows;
}
