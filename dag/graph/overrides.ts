import { posix } from 'node:path';
import type { Diagnostic } from '../project/diagnostics.js';
import { applyOverrides, valueText, type Override } from '../project/overrides.js';
import { YamlSource } from '../project/yamlsource.js';
import type { CompiledProject } from './compile.js';
import { isDocumentFile, validateData } from './inputs.js';

/** The overrides of one file, in the order given. */
export function overridesOf(overrides: readonly Override[], file: string): Override[] {
  return overrides.filter((o) => o.file === file);
}

/**
 * Every problem with a run's `--set` overrides, before anything runs: a file no state reads, a
 * file that is not a YAML/JSON document, one pointer set twice, a pointer whose parent the
 * document lacks, and the overridden document's violations of each contract a state reads it
 * with (naming the file, the pointer, the rule and the value). `profile`'s alternate is the
 * document overridden, as the run reads it.
 */
export function checkOverrides(cp: CompiledProject, overrides: readonly Override[], profile: string | undefined): Diagnostic[] {
  const problems: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const o of overrides) {
    const id = `${o.file}#${o.pointer}`;
    if (seen.has(id)) problems.push({ code: 'override-twice', file: '(command line)', message: `${id} is set twice`, fix: 'give each pointer one value' });
    seen.add(id);
  }
  for (const file of [...new Set(overrides.map((o) => o.file))]) {
    const readers = [...cp.states.values()].flatMap((s) => s.fileInputs.filter((f) => f.file === file));
    if (readers.length === 0) {
      problems.push({ code: 'override-unknown-file', file: '(command line)', message: `--set ${file}: no state reads ${file}`, fix: 'name a YAML or JSON file that a state declares as an input (dag show STATE lists them)' });
      continue;
    }
    if (!isDocumentFile(file)) {
      problems.push({ code: 'override-not-document', file: '(command line)', message: `--set ${file}: only YAML and JSON documents can be overridden`, fix: 'use a profile to read another file in its place' });
      continue;
    }
    const actual = (profile !== undefined ? cp.project.config.profiles[profile]?.[file] : undefined) ?? file;
    const { source, errors } = YamlSource.read(posix.join(cp.project.root, actual), actual);
    if (!source) {
      problems.push(...errors);
      continue;
    }
    const mine = overridesOf(overrides, file);
    const applied = applyOverrides(source.data, mine);
    problems.push(...applied.problems);
    if (applied.problems.length) continue;
    const given = mine.map((o) => `${o.pointer}=${valueText(o.value)}`).join(', ');
    for (const ref of new Set(readers.flatMap((f) => (f.schema && cp.project.contracts.kindOf(f.schema) === 'json' ? [f.schema] : [])))) {
      for (const d of validateData(cp, actual, applied.doc, ref, (path) => source.lineOf(path))) {
        problems.push({ ...d, code: 'override-schema', line: undefined, message: `with --set ${given}: ${d.message}`, fix: 'give a value the contract allows' });
      }
    }
  }
  return problems;
}
