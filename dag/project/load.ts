import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import { ContractRegistry } from '../contracts/registry.js';
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

/** Everything read from disk, validated file by file; cross-file rules live in graph/compile. */
export interface Project {
  root: string;
  config: ProjectConfig;
  configSource: YamlSource;
  manifests: Manifest[];
  contracts: ContractRegistry;
}

/** Reads dag.yaml, every states/**\/*.yaml manifest and the contracts; all problems go to `diags`. */
export function loadProject(root: string, diags: Diagnostics): Project | undefined {
  const configRead = YamlSource.read(posix.join(root, PROJECT_FILE), PROJECT_FILE);
  configRead.errors.forEach((e) => diags.add(e));
  let config: ProjectConfig | undefined;
  if (configRead.source) {
    const parsed = projectSchema.safeParse(configRead.source.data ?? {});
    if (parsed.success) config = parsed.data;
    else zodDiagnostics(parsed.error, configRead.source, 'project-file').forEach((d) => diags.add(d));
  }
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

  const manifests: Manifest[] = [];
  for (const file of listFiles(root, STATES_DIR, ['.yaml', '.yml'])) {
    const { source, errors } = YamlSource.read(posix.join(root, file), file);
    errors.forEach((e) => diags.add(e));
    if (!source) continue;
    const parsed = manifestSchema.safeParse(source.data ?? {});
    if (!parsed.success) {
      zodDiagnostics(parsed.error, source, 'manifest').forEach((d) => diags.add(d));
      continue;
    }
    manifests.push({ data: parsed.data, file, dir: posix.dirname(file), source });
  }
  const contracts = ContractRegistry.load(root, diags);
  if (!config || !configRead.source) return undefined;
  return { root, config, configSource: configRead.source, manifests, contracts };
}
