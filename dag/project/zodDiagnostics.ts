import type { z } from 'zod';
import type { Diagnostic } from './diagnostics.js';
import { toPointer, type PathSegment, type YamlSource } from './yamlsource.js';

/** Turns zod issues into diagnostics that name the file, the line and the key. */
export function zodDiagnostics(error: z.ZodError, source: YamlSource, code: string): Diagnostic[] {
  return error.issues.flatMap((issue) => fromIssue(issue as Issue, [], source, code));
}

interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: string[];
  errors?: Issue[][];
}

function fromIssue(issue: Issue, prefix: PathSegment[], source: YamlSource, code: string): Diagnostic[] {
  const path = [...prefix, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))];
  if (issue.code === 'invalid_union' && issue.errors && issue.errors.length > 0) {
    // Report the branch that came closest, not "Invalid input".
    const best = [...issue.errors].sort((a, b) => a.length - b.length)[0]!;
    return best.flatMap((i) => fromIssue(i, path, source, code));
  }
  if (issue.code === 'unrecognized_keys' && issue.keys) {
    return issue.keys.map((key) => ({
      code,
      file: source.file,
      line: source.lineOf([...path, key]),
      pointer: toPointer([...path, key]),
      message: `unknown key '${key}'`,
      fix: 'remove it or correct its spelling',
    }));
  }
  if (issue.code === 'invalid_type' && / received undefined$/.test(issue.message)) {
    const key = path[path.length - 1];
    return [{ code, file: source.file, line: source.lineOf(path.slice(0, -1)), pointer: toPointer(path), message: `missing required key '${String(key)}'`, fix: `add '${String(key)}'` }];
  }
  const got = quoted(valueAt(source.data, path));
  return [{ code, file: source.file, line: source.lineOf(path), pointer: toPointer(path), message: got === undefined ? issue.message : `${issue.message}; got ${got}` }];
}

function valueAt(data: unknown, path: PathSegment[]): unknown {
  let v: unknown = data;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

/** The offending value as the file spells it: a string in quotes, a number or boolean as is; a map or list not at all. */
function quoted(v: unknown): string | undefined {
  if (typeof v === 'string') return `'${v.length > 80 ? v.slice(0, 77) + '...' : v}'`;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return undefined;
}
