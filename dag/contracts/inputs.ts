import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import type { CompiledProject } from '../graph/compile.js';
import type { Diagnostic, Diagnostics } from '../project/diagnostics.js';
import { fromPointer, YamlSource } from '../project/yamlsource.js';

/** Extensions read as structured documents (YAML is a superset of JSON). */
export const documentExtensions = ['.yaml', '.yml', '.json'];

export function isDocumentFile(file: string): boolean {
  return documentExtensions.some((x) => file.endsWith(x));
}

/**
 * The files a state may read in place of `file`: the file itself and its alternate in every
 * profile. Each must satisfy the input's schema, so a profile cannot smuggle in a bad prior.
 */
export function variantsOf(cp: CompiledProject, file: string): string[] {
  const out = [file];
  for (const map of Object.values(cp.project.config.profiles)) {
    const alt = map[file];
    if (alt && !out.includes(alt)) out.push(alt);
  }
  return out;
}

/** Validates every YAML/JSON input file that declares a JSON Schema (and its profile alternates). */
export function validateDocumentInputs(cp: CompiledProject, diags: Diagnostics): void {
  const done = new Set<string>();
  for (const id of cp.order) {
    for (const input of cp.states.get(id)!.fileInputs) {
      if (!input.schema || !isDocumentFile(input.file)) continue;
      if ('error' in cp.project.contracts.resolve(input.schema, undefined)) continue; // reported by the compiler
      if (cp.project.contracts.kindOf(input.schema) !== 'json') continue;
      for (const file of variantsOf(cp, input.file)) {
        const key = `${file}|${input.schema}`;
        if (done.has(key) || !existsSync(posix.join(cp.project.root, file))) continue;
        done.add(key);
        validateDocument(cp, file, input.schema).forEach((d) => diags.add(d));
      }
    }
  }
}

export function validateDocument(cp: CompiledProject, file: string, schemaRef: string): Diagnostic[] {
  const { source, errors } = YamlSource.read(posix.join(cp.project.root, file), file);
  if (!source) return errors;
  let validate;
  try {
    validate = cp.project.contracts.validator(schemaRef);
  } catch (e) {
    return [{ code: 'schema-ref', file: schemaRef.split('#')[0]!, message: `schema ${schemaRef} cannot be compiled: ${(e as Error).message}` }];
  }
  if (validate(source.data)) return [];
  return (validate.errors ?? []).map((e) => {
    const pointer = e.keyword === 'required' ? `${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}` : e.instancePath;
    const where = e.keyword === 'required' ? e.instancePath : pointer;
    const detail = e.keyword === 'additionalProperties' ? `${e.message}: '${(e.params as { additionalProperty: string }).additionalProperty}'` : e.message;
    return {
      code: 'input-schema',
      file,
      line: source.lineOf(fromPointer(where)),
      pointer: pointer || '/',
      message: `${detail} (rule ${e.schemaPath.replace(/^https:\/\/contracts\.dag\.invalid\//, '')}, schema ${schemaRef})`,
    };
  });
}
