import type { z } from 'zod';
import type { Diagnostic } from './diagnostics.js';
import { toPointer, type PathSegment, type YamlSource } from './yamlsource.js';

/**
 * Turns zod issues into diagnostics that name the file, the line and the key, and quote the value.
 * `at.base` is where the parsed value sits in the file (a contract's table schema), `at.data` the
 * value zod parsed when it is not the file's own text (the table schema with its $refs expanded).
 * One diagnostic per key: zod may report one value twice (an int over a maximum is both).
 */
export function zodDiagnostics(error: z.ZodError, source: YamlSource, code: string, at: { base?: PathSegment[]; data?: unknown } = {}): Diagnostic[] {
  const where: Where = { source, code, base: at.base ?? [], data: 'data' in at ? at.data : source.data };
  const seen = new Set<string>();
  return error.issues
    .flatMap((issue) => fromIssue(issue as Issue, [], where))
    .filter((d) => {
      const key = d.pointer ?? '';
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

interface Where {
  source: YamlSource;
  code: string;
  /** the path of the parsed value in the file */
  base: PathSegment[];
  /** the parsed value, where offending values are looked up */
  data: unknown;
}

interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: string[];
  errors?: Issue[][];
  issues?: Issue[];
}

function fromIssue(issue: Issue, prefix: PathSegment[], at: Where): Diagnostic[] {
  const path = [...prefix, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))];
  const { source, code } = at;
  const inFile = (p: PathSegment[]) => [...at.base, ...p];
  const located = (p: PathSegment[]) => ({ code, file: source.file, line: source.lineOf(inFile(p)), pointer: toPointer(inFile(p)) });
  if (issue.code === 'invalid_union' && issue.errors && issue.errors.length > 0) {
    // Report the branch that came closest, not "Invalid input".
    const best = [...issue.errors].sort((a, b) => a.length - b.length)[0]!;
    return best.flatMap((i) => fromIssue(i, path, at));
  }
  if (issue.code === 'unrecognized_keys' && issue.keys) {
    return issue.keys.map((key) => ({ ...located([...path, key]), message: `unknown key '${key}'`, fix: 'remove it or correct its spelling' }));
  }
  if (issue.code === 'invalid_type' && / received undefined$/.test(issue.message)) {
    const key = path[path.length - 1];
    return [{ ...located(path), line: source.lineOf(inFile(path.slice(0, -1))), message: `missing required key '${String(key)}'`, fix: `add '${String(key)}'` }];
  }
  if (issue.code === 'invalid_key') {
    // a record's key (a profile name) that breaks the key rule: say which rule, quote the key
    const key = path[path.length - 1];
    const rule = issue.issues?.map((i) => i.message).join('; ') ?? issue.message;
    return [{ ...located(path), message: `invalid key: ${rule}; got '${String(key)}'` }];
  }
  const got = quoted(valueAt(at.data, path));
  // a message that already names the value (a custom check's "column 'x' is not in columns") keeps its words
  const named = got === undefined || issue.message.includes(got);
  return [{ ...located(path), message: named ? issue.message : `${issue.message}; got ${got}` }];
}

function valueAt(data: unknown, path: PathSegment[]): unknown {
  let v: unknown = data;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

/** The offending value as the file spells it: a string in quotes, a number or boolean as is, an empty list or map as [] or {}; other lists and maps not at all. */
function quoted(v: unknown): string | undefined {
  if (typeof v === 'string') return `'${v.length > 80 ? v.slice(0, 77) + '...' : v}'`;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v) && v.length === 0) return '[]';
  if (v !== null && typeof v === 'object' && Object.keys(v).length === 0) return '{}';
  return undefined;
}
