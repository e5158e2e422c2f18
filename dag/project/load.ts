import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { posix } from 'node:path';
import { canonicalJson, sha256Hex, type Sha256Hex } from './canonical.js';
import { FileMemo } from './filememo.js';
import { Diagnostics } from './diagnostics.js';
import { listFiles } from './files.js';
import { PROJECT_FILE } from './root.js';
import { manifestSchema, projectSchema, type ManifestData, type ProjectConfig } from './schema.js';
import { YamlSource } from './yamlsource.js';
import { zodDiagnostics } from './zodDiagnostics.js';

export const STATES_DIR = 'states';

/** A state manifest as written, with where it came from. */
export interface Manifest {
  data: ManifestData;
  /** Project-relative path of the manifest. */
  file: string;
  /** Project-relative folder of the manifest (kernels sit beside it). */
  dir: string;
  source: YamlSource;
  /** sha256 of the manifest file's bytes, as read. */
  digest: string;
  /** The cache key's manifest part (madeDigestOf), remembered with the snapshot: not recomputed on every run. */
  madeDigest: Sha256Hex;
}

/**
 * sha256 of the canonical JSON of what a manifest makes: all of it, defaults filled in, but the
 * views `dag query` defines over its outputs and its DuckDB settings, which change no byte of them.
 */
export function madeDigestOf(data: ManifestData): Sha256Hex {
  const { views: _views, duckdb: _duckdb, ...made } = data;
  return sha256Hex(canonicalJson(made));
}

/**
 * dag.yaml and the manifests, read from disk and validated file by file (the contracts are read by
 * contracts/project.ts, a layer up; cross-file rules live in graph/compile).
 */
export interface ProjectFiles {
  root: string;
  config: ProjectConfig;
  configSource: YamlSource;
  manifests: Manifest[];
  /** What could be read of manifests that failed validation, so others' references to them do not fail too. */
  broken: BrokenManifest[];
  /** Plain files seen under states/ while listing the manifests (kernels sit there). */
  stateFiles: Set<string>;
}

export interface BrokenManifest {
  id?: string;
  datasets: string[];
  gate: boolean;
}

function salvage(data: unknown): BrokenManifest {
  const d = (data ?? {}) as { id?: unknown; outputs?: unknown; gate?: unknown };
  const outputs = Array.isArray(d.outputs) ? d.outputs : [];
  return {
    id: typeof d.id === 'string' ? d.id : undefined,
    datasets: outputs.map((o) => (o as { dataset?: unknown })?.dataset).filter((x): x is string => typeof x === 'string'),
    gate: d.gate !== undefined,
  };
}

/** Reads and checks dag.yaml alone (what a command over the runs folder needs); its problems go to `diags`. */
export function readProjectConfig(root: string, diags: Diagnostics): { config?: ProjectConfig; source?: YamlSource } {
  // dag.yaml through the parsed-file cache of the runs folder it most likely names (the default,
  // or DAG_RUNS_DIR): a command on an unchanged project then never loads the YAML parser
  const guess = posix.join(process.env.DAG_RUNS_DIR ?? posix.join(root, 'runs'), '.cache');
  YamlSource.useCache(existsSync(guess) ? posix.join(guess, 'parsed') : undefined);
  const configRead = YamlSource.read(posix.join(root, PROJECT_FILE), PROJECT_FILE);
  configRead.errors.forEach((e) => diags.add(e));
  if (!configRead.source) return {};
  const parsed = projectSchema.safeParse(configRead.source.data ?? {});
  if (parsed.success) return { config: parsed.data, source: configRead.source };
  zodDiagnostics(parsed.error, configRead.source, 'project-file').forEach((d) => diags.add(d));
  return { source: configRead.source };
}

/** Reads dag.yaml and every states/**\/*.yaml manifest; all problems go to `diags`. */
export function readProjectFiles(root: string, diags: Diagnostics): ProjectFiles | undefined {
  const read = readProjectConfig(root, diags);
  const configRead = { source: read.source };
  let config: ProjectConfig | undefined = read.config;
  if (config && configRead.source) {
    config.kernel_prelude.forEach((f, i) => {
      if (!existsSync(posix.join(root, f)))
        diags.add({ code: 'missing-file', file: PROJECT_FILE, line: configRead.source!.lineOf(['kernel_prelude', i]), pointer: `/kernel_prelude/${i}`, message: `kernel_prelude file does not exist: ${f}` });
    });
    for (const [profile, map] of Object.entries(config.profiles)) {
      for (const [original, alternate] of Object.entries(map)) {
        for (const f of [original, alternate]) {
          if (!existsSync(posix.join(root, f)))
            diags.add({ code: 'missing-file', file: PROJECT_FILE, line: configRead.source.lineOf(['profiles', profile, original]), pointer: `/profiles/${profile}/${original}`, message: `profile '${profile}' names a file that does not exist: ${f}` });
        }
      }
    }
  }

  // Parsed YAML is kept by content digest under the runs folder, once one exists: an unchanged
  // project loads from JSON, and a read-only command on a fresh project writes nothing.
  const runsDir = process.env.DAG_RUNS_DIR ?? posix.join(root, config?.runs_dir ?? 'runs');
  const cacheDir = existsSync(posix.join(runsDir, '.cache')) ? posix.join(runsDir, '.cache') : undefined;
  YamlSource.useCache(cacheDir ? posix.join(cacheDir, 'parsed') : undefined);
  FileMemo.use(cacheDir);

  const manifests: Manifest[] = [];
  const broken: BrokenManifest[] = [];
  const snapshot = new ManifestSnapshot(YamlSource.cacheFolder());
  const stateFiles = new Set<string>();
  for (const file of listFiles(root, STATES_DIR, ['.yaml', '.yml'], stateFiles)) {
    const abs = posix.join(root, file);
    // an unchanged manifest is a stat (its digest remembered) and its snapshot: its text is read
    // only if a diagnostic needs a line number
    const { digest, bytes } = FileMemo.digest(abs);
    const known = snapshot.get(file, digest);
    if (known) {
      manifests.push({ data: known.data, file, dir: posix.dirname(file), source: YamlSource.known(file, known.data, () => (bytes ?? readFileSync(abs)).toString('utf8')), digest, madeDigest: known.made });
      continue;
    }
    const { source, errors } = YamlSource.read(abs, file, bytes ?? readFileSync(abs));
    errors.forEach((e) => diags.add(e));
    if (!source) continue;
    if (source.data === null || source.data === undefined) {
      // an empty file (or only comments): one diagnostic, not one per required key
      diags.add({ code: 'manifest', file, line: 1, message: 'the manifest is empty; a manifest is a YAML mapping with at least id, kernel and outputs', fix: 'write the manifest, or delete the file' });
      broken.push(salvage(source.data));
      continue;
    }
    const parsed = manifestSchema.safeParse(source.data);
    if (!parsed.success) {
      zodDiagnostics(parsed.error, source, 'manifest').forEach((d) => diags.add(d));
      broken.push(salvage(source.data));
      continue;
    }
    const madeDigest = madeDigestOf(parsed.data);
    manifests.push({ data: parsed.data, file, dir: posix.dirname(file), source, digest, madeDigest });
    snapshot.set(file, digest, parsed.data, madeDigest);
  }
  snapshot.save();
  FileMemo.save();
  if (!configRead.source) return undefined;
  // A broken dag.yaml is reported, and the manifests are still checked against the defaults.
  config ??= projectSchema.parse({ name: '(invalid dag.yaml)' });
  return { root, config, configSource: configRead.source, manifests, broken, stateFiles };
}

/**
 * Valid manifests as checked, by file and byte digest, in one file beside the parsed-file cache
 * (runs/.cache/manifests.json): an unchanged project's thousand manifests are one read and a hash
 * each, with no YAML parse and no schema check. The entries belong to one build of dag (the
 * checks and defaults are code), and the file carries a digest of its own entries, so an edited or
 * damaged snapshot is ignored, never believed.
 */
class ManifestSnapshot {
  private readonly path?: string;
  private entries: Record<string, { digest: string; data: ManifestData; made: Sha256Hex }> = {};
  private dirty = false;

  constructor(parsedDir: string | undefined) {
    if (!parsedDir) return;
    this.path = posix.join(posix.dirname(parsedDir), 'manifests.json');
    try {
      // a header line ({build, check}), then the entries' JSON, whose digest `check` is
      const text = readFileSync(this.path, 'utf8');
      const cut = text.indexOf('\n');
      const head = JSON.parse(text.slice(0, cut)) as { build?: string; check?: string };
      const body = text.slice(cut + 1);
      if (head.build === BUILD && head.check === checkOf(body)) this.entries = JSON.parse(body) as ManifestSnapshot['entries'];
    } catch {
      /* none yet, or unreadable: checked afresh */
    }
  }

  private readonly seen = new Set<string>();

  get(file: string, digest: string): { data: ManifestData; made: Sha256Hex } | undefined {
    this.seen.add(file);
    const e = this.entries[file];
    if (!e || e.digest !== digest || typeof e.made !== 'string') return undefined;
    this.kept.add(file);
    return e;
  }

  private readonly kept = new Set<string>();

  set(file: string, digest: string, data: ManifestData, made: Sha256Hex): void {
    if (!this.path) return;
    this.entries[file] = { digest, data, made };
    this.kept.add(file);
    this.dirty = true;
  }

  save(): void {
    if (!this.path) return;
    // manifests deleted (or broken) since are dropped
    for (const f of Object.keys(this.entries)) if (!this.seen.has(f) || !this.kept.has(f)) {
      delete this.entries[f];
      this.dirty = true;
    }
    if (!this.dirty) return;
    try {
      // a cache: written whole then renamed (a reader sees the old or the new file), no fsync
      const tmp = `${this.path}.tmp-${process.pid}`;
      const body = JSON.stringify(this.entries);
      writeFileSync(tmp, JSON.stringify({ build: BUILD, check: checkOf(body) }) + '\n' + body);
      renameSync(tmp, this.path);
    } catch {
      /* a snapshot that cannot be written is only slower */
    }
  }
}

const checkOf = (body: string) => createHash('sha256').update(body).digest('hex');

/** This build of dag: the module file's size and time (a rebuilt schema is a new build). */
export const BUILD = (() => {
  const st = statSync(fileURLToPath(import.meta.url));
  return `${st.size}:${st.mtimeMs}`;
})();
