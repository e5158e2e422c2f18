import { existsSync } from 'node:fs';
import { posix } from 'node:path';
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
  YamlSource.useCache(existsSync(posix.join(runsDir, '.cache')) ? posix.join(runsDir, '.cache', 'parsed') : undefined);

  const manifests: Manifest[] = [];
  const broken: BrokenManifest[] = [];
  for (const file of listFiles(root, STATES_DIR, ['.yaml', '.yml'])) {
    const { source, errors } = YamlSource.read(posix.join(root, file), file);
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
    manifests.push({ data: parsed.data, file, dir: posix.dirname(file), source });
  }
  if (!configRead.source) return undefined;
  // A broken dag.yaml is reported, and the manifests are still checked against the defaults.
  config ??= projectSchema.parse({ name: '(invalid dag.yaml)' });
  return { root, config, configSource: configRead.source, manifests, broken };
}
