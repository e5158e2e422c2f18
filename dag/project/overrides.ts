import { DagError, type Diagnostic } from './diagnostics.js';
import { fromPointer, yamlLibrary } from './yamlsource.js';

/**
 * `--set FILE#/json/pointer=VALUE`: one value put into a parsed input document for one run, as a
 * profile puts in a whole file. Recorded in the run receipt as given here.
 */
export interface Override {
  /** Project-relative logical path of the document (the file states name, not a profile's alternate). */
  file: string;
  /** RFC 6901 pointer into the document; its parent must exist. */
  pointer: string;
  /** The value, parsed as YAML (a scalar or a flow list / map). */
  value: unknown;
}

const CLI = '(command line)';

/** `FILE#/pointer` of a flag's text, and the text after the first `=` that follows it. */
export function splitAssignment(text: string, flag: string): { file: string; pointer: string; valueText: string } {
  const hash = text.indexOf('#');
  const eq = hash < 0 ? -1 : text.indexOf('=', hash);
  const file = hash < 0 ? '' : text.slice(0, hash);
  const pointer = eq < 0 ? '' : text.slice(hash + 1, eq);
  if (!file || !pointer.startsWith('/') || eq < 0) {
    throw new DagError([{ code: 'bad-override', file: CLI, message: `${flag} takes FILE#/json/pointer=VALUE, got '${text}'`, fix: `e.g. ${flag} config/x.yaml#/lambda/base=0.3` }]);
  }
  return { file: file.replace(/^\.\//, ''), pointer, valueText: text.slice(eq + 1) };
}

/** A VALUE as YAML reads it: `0.3` a number, `true` a boolean, `[1, 2]` a list, `{a: 1}` a map, else a string. */
export function parseValue(text: string, flag: string, where: string): unknown {
  try {
    return yamlLibrary().parse(text) as unknown;
  } catch (e) {
    throw new DagError([{ code: 'bad-override', file: CLI, message: `${flag} ${where}: VALUE '${text}' is not YAML: ${(e as Error).message.split('\n')[0]}`, fix: "quote a string that YAML reads otherwise: '\"a: b\"'" }]);
  }
}

/** `--set FILE#/ptr=VALUE` parsed. */
export function parseOverride(text: string): Override {
  const { file, pointer, valueText } = splitAssignment(text, '--set');
  return { file, pointer, value: parseValue(valueText, '--set', `${file}#${pointer}`) };
}

/**
 * The comma-separated values of `--grid FILE#/ptr=v1,v2,...`, split at commas outside brackets,
 * braces and quotes, so `[1, 2],[3]` is two lists.
 */
export function splitValues(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let cur = '';
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  out.push(cur.trim());
  return out;
}

/** The printed form of an override's value: its YAML flow text, as the user would type it. */
export function valueText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The document with the overrides of `file` applied, in order (a copy: `doc` is left as it was).
 * A pointer whose parent is missing, or is not a map or list, is a diagnostic naming it.
 */
export function applyOverrides(doc: unknown, overrides: readonly Override[]): { doc: unknown; problems: Diagnostic[] } {
  if (overrides.length === 0) return { doc, problems: [] };
  const copy = structuredClone(doc);
  const problems: Diagnostic[] = [];
  for (const o of overrides) {
    const path = fromPointer(o.pointer);
    if (path.length === 0) {
      problems.push({ code: 'override-pointer', file: o.file, pointer: o.pointer, message: `--set ${o.file}#${o.pointer} names the whole document`, fix: 'point at a key inside it; to swap the whole file use a profile' });
      continue;
    }
    const parentPath = path.slice(0, -1);
    const leaf = path[path.length - 1]!;
    let parent: unknown = copy;
    let reached = 0;
    for (const k of parentPath) {
      const next = parent !== null && typeof parent === 'object' ? (parent as Record<string, unknown>)[k] : undefined;
      if (next === undefined) break;
      parent = next;
      reached++;
    }
    const missing = reached < parentPath.length;
    const fail = (why: string) =>
      problems.push({ code: 'override-pointer', file: o.file, pointer: o.pointer, message: `--set ${o.file}#${o.pointer}: ${why}`, fix: 'give a pointer whose parent exists in the document (a new key may be added to an existing map)' });
    if (missing) fail(`the document has nothing at ${'/' + parentPath.slice(0, reached + 1).join('/')}`);
    else if (Array.isArray(parent)) {
      const i = leaf === '-' ? parent.length : /^(0|[1-9]\d*)$/.test(leaf) ? Number(leaf) : NaN;
      if (!(i <= parent.length)) fail(`${o.pointer.slice(0, o.pointer.lastIndexOf('/')) || '/'} is a list of ${parent.length}: '${leaf}' is not an index of it (0..${parent.length}, or - to append)`);
      else parent[i] = o.value;
    } else if (parent !== null && typeof parent === 'object') (parent as Record<string, unknown>)[leaf] = o.value;
    else fail(`${'/' + parentPath.join('/')} is ${JSON.stringify(parent)}, not a map or a list`);
  }
  return { doc: copy, problems };
}
