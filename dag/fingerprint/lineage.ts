import { DagError } from '../project/diagnostics.js';
import { posix } from 'node:path';
import type { CompiledProject } from '../graph/compile.js';
import { canonicalJson, sha256Hex, type Sha256Hex } from '../project/canonical.js';
import { applyOverrides, type Override } from '../project/overrides.js';
import { readContent } from './digest.js';
import { FileMemo } from '../project/filememo.js';

/** The lineage of a run: hashes that name its outputs' folders and go into its receipt. */
export interface Lineage {
  /** sha256 over the sorted (path, content digest) of every `role: parameter` file. */
  parameterHash: Sha256Hex;
  /** sha256 over parameterHash and the sorted (path, digest) of every other sealed file. */
  manifestFingerprint: Sha256Hex;
  /** Content digest of every project file the pipeline reads (logical path -> digest). */
  digests: Map<string, Sha256Hex>;
  /** Logical path -> the file actually read (differs under a profile). */
  resolved: Map<string, string>;
  /**
   * Logical path -> canonical JSON of each YAML/JSON file, as hashed: kernels receive this
   * snapshot, so a run reads one version of every document however long it takes.
   */
  documents: Map<string, string>;
}

/** Maps a logical project file to the file a profile substitutes for it. */
export function profileResolver(cp: CompiledProject, profile: string | undefined): (file: string) => string {
  if (profile === undefined) return (f) => f;
  const map = cp.project.config.profiles[profile];
  if (!map) {
    const line = cp.project.configSource.lineOf(['profiles']);
    throw new DagError([{ code: 'unknown-profile', file: 'dag.yaml', ...(line ? { line } : {}), pointer: '/profiles', message: `no profile '${profile}' (known: ${Object.keys(cp.project.config.profiles).join(', ') || 'none'})`, fix: 'name a profile of dag.yaml' }]);
  }
  return (f) => map[f] ?? f;
}

/**
 * Computes the lineage over the whole project (not only the selected states), so that a partial
 * run and a full run of the same inputs publish into the same folders. `overrides` (`--set`) are
 * applied to the parsed documents before they are hashed, so a run with them has the digests, keys
 * and folders that editing the files would give (checkOverrides has found them sound).
 */
export function computeLineage(cp: CompiledProject, profile?: string, overrides: readonly Override[] = []): Lineage {
  const resolve = profileResolver(cp, profile);
  const root = cp.project.root;
  const digests = new Map<string, Sha256Hex>();
  const resolved = new Map<string, string>();
  const documents = new Map<string, string>();
  const digestOf = (file: string): Sha256Hex => {
    let d = digests.get(file);
    if (!d) {
      const actual = resolve(file);
      let content = readContent(posix.join(root, actual), actual);
      const mine = overrides.filter((o) => o.file === file);
      if (mine.length && content.canonical !== undefined) {
        const canonical = canonicalJson(applyOverrides(JSON.parse(content.canonical), mine).doc);
        content = { digest: sha256Hex(canonical), canonical };
      }
      d = content.digest;
      digests.set(file, d);
      resolved.set(file, actual);
      if (content.canonical !== undefined) documents.set(file, content.canonical);
    }
    return d;
  };
  const parameters = new Set<string>();
  const sealed = new Set<string>();
  for (const s of cp.states.values()) {
    for (const f of s.fileInputs) (f.role === 'parameter' ? parameters : sealed).add(f.file);
    sealed.add(s.kernel);
  }
  for (const f of cp.project.config.kernel_prelude) sealed.add(f);
  for (const f of cp.project.contracts.files) sealed.add(f);
  for (const f of parameters) sealed.delete(f);
  const pairs = (files: Set<string>) => [...files].sort().map((f) => [f, digestOf(f)]);
  const parameterHash = sha256Hex(canonicalJson(pairs(parameters)));
  const manifestFingerprint = sha256Hex(canonicalJson({ parameter_hash: parameterHash, sealed: pairs(sealed) }));
  FileMemo.save();
  return { parameterHash, manifestFingerprint, digests, resolved, documents };
}

/** `stream_key`: first 8 bytes (big-endian) of sha256 of `state_id|seed|scenario_id`, seed left out for world scope. */
export function streamKey(stateId: string, seed: number | undefined, scenarioId: string | undefined): bigint {
  const parts = [stateId];
  if (seed !== undefined) parts.push(String(seed));
  if (scenarioId !== undefined) parts.push(scenarioId);
  return BigInt('0x' + sha256Hex(parts.join('|')).slice(0, 16));
}
