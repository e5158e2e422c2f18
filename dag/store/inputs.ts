import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { linkOrCopy, writeFileAtomic } from './atomic.js';

/** inputs.json of a run folder: every project file the run read, as it read it (ORCHESTRATOR.md §6). */
export const INPUTS = 'inputs.json';

/** What a project file is to the pipeline: a manifest's file input, a state's manifest, a kernel, a prelude file or a contract. */
export type InputKind = 'input' | 'manifest' | 'kernel' | 'prelude' | 'contract';

export interface RecordedFile {
  /** Logical project path, as manifests and dag.yaml name it. */
  path: string;
  kind: InputKind;
  /** The file actually read: another one under a profile. */
  read: string;
  /** Content digest (YAML/JSON over their canonical JSON); a manifest's over its data as compiled (defaults filled in). */
  sha256: string;
  /** `role:` of a file input. */
  role?: 'parameter' | 'reference';
  /** The states that declare `keys:` on this input, with the pointers they declare. */
  keys?: Record<string, string[]>;
  /** A YAML/JSON file input parsed, as the kernels got it, or a manifest as compiled: so a later `dag diff` can name the JSON pointers that changed. */
  document?: unknown;
}

export interface RunInputs {
  files: RecordedFile[];
}

/**
 * Puts the run's inputs.json in place as a hard link to `<cacheDir>/inputs/<identity>.json`, made
 * from `build()` the first time: runs of an unchanged project share one record instead of each
 * rebuilding and writing it (the engine's is ~1 MB; a no-op run of 1 000 states spent 5 % of its
 * time on it). `identity` must determine the record (receipt.ts, inputsIdentity).
 */
export function publishRunInputs(runDir: string, cacheDir: string, identity: string, build: () => RunInputs): void {
  const dir = join(cacheDir, 'inputs');
  const kept = join(dir, `${identity}.json`);
  if (!existsSync(kept)) {
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(kept, JSON.stringify(build()) + '\n');
    chmodSync(kept, 0o444);
  }
  const dest = join(runDir, INPUTS);
  rmSync(dest, { force: true }); // a resume replacing an unreadable record
  linkOrCopy(kept, dest);
}

/** The run's record of its inputs; undefined for a run made before dag kept one (or an unreadable record). */
export function readRunInputs(runDir: string): RunInputs | undefined {
  try {
    const v = JSON.parse(readFileSync(join(runDir, INPUTS), 'utf8')) as RunInputs;
    return Array.isArray(v?.files) ? v : undefined;
  } catch {
    return undefined;
  }
}
