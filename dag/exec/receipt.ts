import { existsSync } from 'node:fs';
import type { CompiledProject } from '../graph/compile.js';
import { DagError, EXIT } from '../project/diagnostics.js';
import { overwriteReceiptInPlace, readReceipt, writeReceipt, type LedgerEntry, type RunReceipt } from '../store/runs.js';
import type { Prepared, RunRequest } from './prepare.js';
import { versions } from '../fingerprint/versions.js';

/** The receipt of a new run: what it runs (targets, seed, scenarios, profile, base), on which versions. */
export function newReceipt(cp: CompiledProject, prep: Prepared, opts: RunRequest & { groupId?: string; sweep?: { id: string; candidate: string } }, runId: string): RunReceipt {
  const v = versions(cp.project.root, cp.project.config.version);
  return {
    run_id: runId,
    created_utc: new Date().toISOString(),
    finished_utc: null,
    status: 'running',
    seed: prep.seed,
    scenarios: prep.scenarios,
    profile: opts.profile ?? null,
    overrides: opts.overrides ?? [],
    targets: opts.targets,
    parameter_hash: prep.lineage.parameterHash,
    manifest_fingerprint: prep.lineage.manifestFingerprint,
    staged_from_run_id: prep.base?.id ?? null,
    from_state: opts.from ?? null,
    no_cache: opts.noCache === true,
    group_id: opts.groupId ?? null,
    sweep: opts.sweep ?? null,
    engine_version: v.engine,
    dag_version: v.dag,
    git_commit: v.git,
    duckdb_version: v.duckdb,
    project: cp.project.config.name,
  };
}

/** A run stopped by its own machinery's error says failed, when the disk still takes that much, so it is not left 'running'. */
export function markFailed(runDir: string): void {
  try {
    const r = readReceipt(runDir);
    if (!r || r.status !== 'running') return;
    const failed = { ...r, status: 'failed' as const, finished_utc: new Date().toISOString() };
    try {
      writeReceipt(runDir, failed);
    } catch {
      overwriteReceiptInPlace(runDir, failed);
    }
  } catch {
    /* the disk took nothing more: dag runs shows a running receipt without its lock as interrupted */
  }
}

/** True when the run covered every gate state of the project and each sealed a passing bundle (without gates: every state). */
export function allGatesPassed(cp: CompiledProject, done: ReadonlyMap<string, LedgerEntry>): boolean {
  const gates = [...cp.gates.values()];
  const entries = [...done.values()];
  // a project without gates: its newest succeeded full run (every state published) is last-good
  if (gates.length === 0) {
    const published = new Set(entries.map((e) => e.state));
    return cp.states.size > 0 && [...cp.states.keys()].every((s) => published.has(s));
  }
  return gates.every((g) => {
    const mine = entries.filter((e) => e.state === g);
    return mine.length > 0 && mine.every((e) => e.gate?.passed === true);
  });
}

/** A run folder is never reused: an existing one is refused (exit 3) with advice that is true of it. */
export function refuseExisting(runDir: string, runId: string): void {
  if (!existsSync(runDir)) return;
  // the advice must be true: a folder without a receipt cannot be resumed, only removed
  const existing = readReceipt(runDir);
  const fix = !existing ? 'it has no receipt (killed before it started), so it cannot be resumed: dag prune removes it; or start a new run' : existing.status === 'succeeded' ? 'it succeeded: start a new run with another run id (or none)' : `resume run ${runId}, or start a new run`;
  throw new DagError([{ code: 'run-exists', file: runDir, message: `run ${runId} already exists; a run folder is never reused`, fix }], EXIT.refused);
}
