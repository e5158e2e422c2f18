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

/** How many fields KeyComponents has (KeyParts.keyOf writes each by name). */
const COMPONENT_FIELDS = 10;

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

  /** Per state, the parts of its key that every task of it shares in this run (one object each, so their JSON is written once). */
  private readonly fixed = new Map<StateNode, Pick<KeyComponents, 'manifest' | 'kernel' | 'prelude' | 'contracts' | 'files'>>();

  private fixedOf(state: StateNode): Pick<KeyComponents, 'manifest' | 'kernel' | 'prelude' | 'contracts' | 'files'> {
    let f = this.fixed.get(state);
    if (!f) {
      const t = state.rerun.triggers;
      const contracts: Record<string, Sha256Hex> = {};
      for (const o of state.outputs) {
        const file = o.schema.split('#')[0]!;
        contracts[file] = this.contractDigest(file);
      }
      const files: Record<string, Sha256Hex> = {};
      if (t.includes('files')) for (const fi of state.fileInputs) files[fi.file] = fi.keys ? this.keyedDigest(fi.file, fi.keys).digest : this.fileDigest(fi.file);
      f = { manifest: this.manifestDigest(state), kernel: t.includes('kernel') ? this.kernelDigest(state) : null, prelude: t.includes('kernel') ? this.prelude : null, contracts: Object.freeze(contracts), files: Object.freeze(files) };
      this.fixed.set(state, f);
    }
    return f;
  }

  components(state: StateNode, seed: number | undefined, scenario: string | undefined, datasets: Record<string, Sha256Hex>, gates: Record<string, string>): KeyComponents {
    const t = state.rerun.triggers;
    const f = this.fixedOf(state);
    return {
      manifest: f.manifest,
      kernel: f.kernel,
      prelude: f.prelude,
      contracts: f.contracts,
      files: f.files,
      datasets: t.includes('inputs') ? datasets : {},
      gates,
      seed: state.scope !== 'world' && t.includes('seed') && seed !== undefined ? seed : null,
      scenario: state.scope === 'scenario' ? (scenario ?? null) : null,
      versions: this.versions,
    };
  }

  /** Canonical JSON of the shared parts (contracts, files, versions), by object: written once per state, not once per task. */
  private readonly json = new WeakMap<object, string>();

  private jsonOf(o: object): string {
    let s = this.json.get(o);
    if (s === undefined) {
      s = canonicalJson(o);
      this.json.set(o, s);
    }
    return s;
  }

  /**
   * The cache key of `c`: the digest cacheKeyOf(c) gives, its canonical JSON written field by field
   * in sorted order, with the shared parts' JSON written once (test/fingerprint/cachekey.test.ts
   * checks the two agree). Components of another shape take the general path.
   */
  keyOf(c: KeyComponents): CacheKey {
    if (Object.keys(c).length !== COMPONENT_FIELDS) return cacheKeyOf(c);
    const text = `{"contracts":${this.jsonOf(c.contracts)},"datasets":${canonicalJson(c.datasets)},"files":${this.jsonOf(c.files)},"gates":${canonicalJson(c.gates)},"kernel":${JSON.stringify(c.kernel)},"manifest":${JSON.stringify(c.manifest)},"prelude":${JSON.stringify(c.prelude)},"scenario":${JSON.stringify(c.scenario)},"seed":${JSON.stringify(c.seed)},"versions":${this.jsonOf(c.versions)}}`;
    return sha256Hex(text) as unknown as CacheKey;
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
