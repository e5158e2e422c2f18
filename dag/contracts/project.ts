import type { Diagnostics } from '../project/diagnostics.js';
import { readProjectFiles, type ProjectFiles } from '../project/load.js';
import { ContractRegistry } from './registry.js';

/** Everything read from disk, validated file by file: dag.yaml, the manifests and the contracts. */
export interface Project extends ProjectFiles {
  contracts: ContractRegistry;
}

/** Reads dag.yaml, every states/**\/*.yaml manifest and the contracts; all problems go to `diags` (the contracts' too when dag.yaml is missing). */
export function loadProject(root: string, diags: Diagnostics): Project | undefined {
  const files = readProjectFiles(root, diags);
  const contracts = ContractRegistry.load(root, diags);
  return files && { ...files, contracts };
}
