import type { CompiledProject, StateNode } from '../graph/compile.js';
import { canonicalJson, sha256Hex, type Sha256Hex } from '../project/canonical.js';
import { valueAt } from './jsondiff.js';
import type { Lineage } from './lineage.js';

/** A state's cache key: equal keys promise byte-identical outputs. Branded: not a file digest. */
export type CacheKey = string & { readonly __brand: 'cache-key' };

/**
 * Everything that decides a state's outputs (ORCHESTRATOR.md §7), field by field. The key is the
 * sha256 of this value's canonical JSON. Lineage that only names folders (parameter_hash,
 * manifest_fingerprint) is left out, so equal data is found across runs whatever their paths.
 */
export interface KeyComponents {
  /** Canonical JSON digest of the manifest as compiled (defaults filled in). */
  manifest: Sha256Hex;
  /** Bytes of the kernel file; null when `rerun.triggers` omits `kernel`. */
  kernel: Sha256Hex | null;
  /** Bytes of every kernel_prelude file, in order; null when triggers omit `kernel`. */
  prelude: Sha256Hex | null;
  /** Contract files the outputs are checked against (file -> content digest). */
  contracts: Record<string, Sha256Hex>;
  /** Input files: logical path -> content digest of the file read (after profiles); {} when triggers omit `files`. */
  files: Record<string, Sha256Hex>;
  /** Input datasets: id -> sha256 over their files' digests; {} when triggers omit `inputs`. */
  datasets: Record<string, Sha256Hex>;
  /** Flag digests of the segments this state `requires_pass` (segment -> digest). */
  gates: Record<string, string>;
  /** Seed (seed and scenario scope, and `seed` in triggers), else null. */
  seed: number | null;
  /** Scenario (scenario scope), else null. */
  scenario: string | null;
  /** Orchestrator and DuckDB versions: a new engine may write other bytes. */
  versions: { dag: string; duckdb: string };
}

export function cacheKeyOf(c: KeyComponents): CacheKey {
  return sha256Hex(canonicalJson(c)) as unknown as CacheKey;
}

/** Digest of a dataset instance: sha256 over its published files' (path-free) digests, in order. */
export function datasetDigest(fileDigests: string[]): Sha256Hex {
  return sha256Hex(canonicalJson(fileDigests));
}

/**
 * Digests of the parts that are the same for every task of the project, all taken from the
 * lineage, i.e. read once when the run started (a file edited later is seen as a change).
 */
export class KeyParts {
  readonly prelude: Sha256Hex;

  constructor(
    private readonly cp: CompiledProject,
    private readonly lineage: Lineage,
    readonly versions: { dag: string; duckdb: string },
  ) {
    this.prelude = sha256Hex(canonicalJson(cp.project.config.kernel_prelude.map((f) => [f, this.fileDigest(f)])));
  }

  kernelDigest(state: StateNode): Sha256Hex {
    return this.fileDigest(state.kernel);
  }

  fileDigest(file: string): Sha256Hex {
    const d = this.lineage.digests.get(file);
    if (!d) throw new Error(`no digest for ${file}`);
    return d;
  }

  components(state: StateNode, seed: number | undefined, scenario: string | undefined, datasets: Record<string, Sha256Hex>, gates: Record<string, string>): KeyComponents {
    const t = state.rerun.triggers;
    const contracts: Record<string, Sha256Hex> = {};
    for (const o of state.outputs) {
      const file = o.schema.split('#')[0]!;
      contracts[file] = this.contractDigest(file);
    }
    const files: Record<string, Sha256Hex> = {};
    if (t.includes('files')) for (const f of state.fileInputs) files[f.file] = f.keys ? this.keyedDigest(f.file, f.keys).digest : this.fileDigest(f.file);
    return {
      manifest: this.manifestDigest(state),
      kernel: t.includes('kernel') ? this.kernelDigest(state) : null,
      prelude: t.includes('kernel') ? this.prelude : null,
      contracts,
      files,
      datasets: t.includes('inputs') ? datasets : {},
      gates,
      seed: state.scope !== 'world' && t.includes('seed') && seed !== undefined ? seed : null,
      scenario: state.scope === 'scenario' ? (scenario ?? null) : null,
      versions: this.versions,
    };
  }

  /** The canonical digest of what the state's manifest makes (taken when the manifest was checked, and remembered with it). */
  private manifestDigest(state: StateNode): Sha256Hex {
    return state.manifest.madeDigest;
  }

  private readonly keyed = new Map<string, { digest: Sha256Hex; canonical: string }>();

  /**
   * The digest of only the subtrees `keys` point at in a document input (`keys:` of the manifest),
   * and the canonical JSON it is taken over ({pointer: value}), so a change can be named by pointer.
   */
  keyedDigest(file: string, keys: string[]): { digest: Sha256Hex; canonical: string } {
    const id = `${file}|${keys.join('|')}`;
    let v = this.keyed.get(id);
    if (!v) {
      const text = this.lineage.documents.get(file);
      if (text === undefined) throw new Error(`keys: given for ${file}, which is not a YAML or JSON document`);
      const doc = JSON.parse(text) as unknown;
      // the listed subtrees at their own places (a document of only those), so the JSON pointers
      // of a later change read as in the file: /devices/type_mix/phone
      const picked: Record<string, unknown> = {};
      for (const k of [...keys].sort()) setAt(picked, k, valueAt(doc, k) ?? null);
      const canonical = canonicalJson(picked);
      v = { digest: sha256Hex(canonical), canonical };
      this.keyed.set(id, v);
    }
    return v;
  }

  private contractDigest(file: string): Sha256Hex {
    return this.lineage.digests.get(file) ?? sha256Hex(canonicalJson(this.cp.project.contracts.source(file)?.data ?? null));
  }
}

/** Sets the value at a JSON pointer, making objects on the way. */
function setAt(doc: Record<string, unknown>, pointer: string, value: unknown): void {
  const path = pointer.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  let o = doc;
  path.forEach((k, i) => {
    if (i === path.length - 1) o[k] = value;
    else {
      if (o[k] === null || typeof o[k] !== 'object') o[k] = {};
      o = o[k] as Record<string, unknown>;
    }
  });
}
