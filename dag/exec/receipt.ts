import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { CompiledProject } from '../graph/compile.js';
import { DagError, EXIT } from '../project/diagnostics.js';
import { BUILD } from '../project/load.js';
import { overwriteReceiptInPlace, readReceipt, writeReceipt, type LedgerEntry, type RunReceipt } from '../store/runs.js';
import type { InputKind, RecordedFile, RunInputs } from '../store/inputs.js';
import { canonicalJson, sha256Hex } from '../project/canonical.js';
import type { Lineage } from '../fingerprint/lineage.js';
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
    // the spec's one-state field stays for its readers (the first --from; null without); the list is whole
    from_state: opts.from?.[0] ?? null,
    from_states: opts.from ?? [],
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

/**
 * The run's inputs.json: every file of the lineage (the whole project's, as its hashes are) and every
 * manifest, with the file a profile put in its place, its digest and, for YAML/JSON file inputs and
 * manifests, the document itself.
 */
/**
 * What determines inputsRecordOf's record: every digest the lineage took (and the file read for
 * it, a profile's), each manifest's bytes, the prelude list and this build of dag (which fills a
 * manifest's defaults). Cheap: no manifest is serialized.
 */
export function inputsIdentity(cp: CompiledProject, lineage: Lineage): string {
  const h = createHash('sha256').update(`${BUILD}\n${JSON.stringify(cp.project.config.kernel_prelude)}\n`);
  for (const [path, digest] of [...lineage.digests].sort((a, b) => (a[0] < b[0] ? -1 : 1))) h.update(`${path}\0${lineage.resolved.get(path) ?? path}\0${digest}\n`);
  for (const s of cp.states.values()) h.update(`${s.manifest.file}\0${s.manifest.digest}\n`);
  return h.digest('hex');
}

export function inputsRecordOf(cp: CompiledProject, lineage: Lineage): RunInputs {
  const files = new Map<string, RecordedFile>();
  const add = (path: string, kind: InputKind): RecordedFile => {
    let f = files.get(path);
    if (!f) {
      f = { path, kind, read: lineage.resolved.get(path) ?? path, sha256: lineage.digests.get(path)! };
      files.set(path, f);
    }
    return f;
  };
  for (const s of cp.states.values()) {
    for (const input of s.fileInputs) {
      const f = add(input.file, 'input');
      f.role = input.role;
      if (input.keys) f.keys = { ...f.keys, [s.id]: input.keys };
      const doc = f.document === undefined ? lineage.documents.get(input.file) : undefined;
      if (doc !== undefined) f.document = JSON.parse(doc) as unknown;
    }
    add(s.kernel, 'kernel');
    const data = canonicalJson(s.manifest.data);
    files.set(s.manifest.file, { path: s.manifest.file, kind: 'manifest', read: s.manifest.file, sha256: sha256Hex(data), document: JSON.parse(data) as unknown });
  }
  for (const p of cp.project.config.kernel_prelude) add(p, 'prelude');
  for (const c of cp.project.contracts.files) if (lineage.digests.has(c)) add(c, 'contract');
  return { files: [...files.values()].filter((f) => f.sha256 !== undefined).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
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
