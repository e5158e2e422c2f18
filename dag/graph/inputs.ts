import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { CompiledProject } from './compile.js';
import type { Diagnostic, Diagnostics } from '../project/diagnostics.js';
import { fromPointer, YamlSource } from '../project/yamlsource.js';
import { loadCsvChecked } from '../contracts/csv.js';

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

/**
 * Validates every YAML/JSON input file that declares a JSON Schema (and its profile alternates).
 * `skip` / `valid` as for validateTableInputs: a run passes over documents already found valid.
 */
export function validateDocumentInputs(cp: CompiledProject, diags: Diagnostics, opts: { skip?: (key: string) => boolean; valid?: (key: string) => void } = {}): void {
  const done = new Set<string>();
  for (const id of cp.order) {
    for (const input of cp.states.get(id)!.fileInputs) {
      if (!input.schema || !isDocumentFile(input.file)) continue;
      if ('error' in cp.project.contracts.resolve(input.schema, undefined)) continue; // reported by the compiler
      if (cp.project.contracts.kindOf(input.schema) !== 'json') continue;
      for (const file of variantsOf(cp, input.file)) {
        const key = `${file}|${input.schema}`;
        if (done.has(key)) continue;
        done.add(key); // before asking skip: a prior read by a thousand states is asked about once
        if (!existsSync(posix.join(cp.project.root, file)) || opts.skip?.(key)) continue;
        const problems = validateDocument(cp, file, input.schema);
        problems.forEach((d) => diags.add(d));
        if (problems.length === 0) opts.valid?.(key);
      }
    }
  }
}

export function validateDocument(cp: CompiledProject, file: string, schemaRef: string): Diagnostic[] {
  const { source, errors } = YamlSource.read(posix.join(cp.project.root, file), file);
  if (!source) return errors;
  return validateData(cp, file, source.data, schemaRef, (path) => source.lineOf(path));
}

/** The schema's violations by a document's data (`lineOf` places a pointer in the file, when it is there). */
export function validateData(cp: CompiledProject, file: string, data: unknown, schemaRef: string, lineOf: (path: string[]) => number | undefined): Diagnostic[] {
  let validate;
  try {
    validate = cp.project.contracts.validator(schemaRef);
  } catch (e) {
    return [{ code: 'schema-ref', file: schemaRef.split('#')[0]!, message: `schema ${schemaRef} cannot be compiled: ${(e as Error).message}` }];
  }
  let valid: boolean;
  try {
    valid = validate(data) as boolean;
  } catch (e) {
    // a schema that applies itself (through allOf, anyOf, ...) without descending into the data
    // recurses for ever: one diagnostic naming it, not a stack overflow
    if (e instanceof RangeError) return [{ code: 'schema-ref', file: schemaRef.split('#')[0]!, message: `schema ${schemaRef} applies itself without descending into the data (a $ref cycle through allOf, anyOf, oneOf, not or if), so validating against it never ends`, fix: 'break the cycle: a schema may refer to itself only under properties or items' }];
    throw e;
  }
  if (valid) return [];
  return (validate.errors ?? []).map((e) => {
    // a missing key is reported at its parent's line; an unknown key at its own line
    const pointer =
      e.keyword === 'required'
        ? `${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}`
        : e.keyword === 'additionalProperties'
          ? `${e.instancePath}/${(e.params as { additionalProperty: string }).additionalProperty}`
          : e.instancePath;
    const where = e.keyword === 'required' ? e.instancePath : pointer;
    const detail = e.keyword === 'additionalProperties' ? `${e.message}: '${(e.params as { additionalProperty: string }).additionalProperty}'` : e.message;
    const value = e.keyword === 'required' || e.keyword === 'additionalProperties' ? '' : quoteValue(valueAt(data, fromPointer(where)));
    return {
      code: 'input-schema',
      file,
      line: lineOf(fromPointer(where)),
      pointer: pointer || '/',
      message: `${detail}${value} (rule ${e.schemaPath.replace(/^https:\/\/contracts\.dag\.invalid\//, '')}, schema ${schemaRef})`,
    };
  });
}

/** The value at a path of a parsed document (undefined when absent). */
function valueAt(doc: unknown, path: string[]): unknown {
  let v: unknown = doc;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** `, got <value>` for a value short enough to quote on one line (a string in single quotes, as the zod checks quote it); nothing for long objects. */
function quoteValue(v: unknown): string {
  if (v === undefined) return '';
  const text = typeof v === 'string' ? `'${v}'` : JSON.stringify(v);
  return text.length <= 80 ? `, got ${text}` : '';
}

/**
 * Validates every CSV input that declares a table schema (and its profile alternates) in DuckDB:
 * header, types, nulls, enums, ranges, patterns, keys. `skip(digest)` lets a caller pass over files
 * already found valid (by content digest); `valid(digest)` is told about the ones that pass.
 */
export async function validateTableInputs(cp: CompiledProject, diags: Diagnostics, opts: { skip?: (file: string) => boolean; valid?: (file: string) => void } = {}): Promise<void> {
  const todo: { file: string; ref: string }[] = [];
  const seen = new Set<string>();
  for (const id of cp.order) {
    for (const input of cp.states.get(id)!.fileInputs) {
      if (!input.schema || !/\.csv$/i.test(input.file)) continue;
      if ('error' in cp.project.contracts.resolve(input.schema, undefined)) continue;
      if (cp.project.contracts.kindOf(input.schema) !== 'table') continue;
      for (const file of variantsOf(cp, input.file)) {
        const key = `${file}|${input.schema}`;
        if (seen.has(key)) continue;
        seen.add(key);
        if (!existsSync(posix.join(cp.project.root, file)) || opts.skip?.(key)) continue;
        todo.push({ file, ref: input.schema });
      }
    }
  }
  if (todo.length === 0) return;
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  try {
    for (const [i, t] of todo.entries()) {
      const problems = await loadCsvChecked(con, `csv_${i}`, posix.join(cp.project.root, t.file), cp.project.contracts.table(t.ref));
      if (problems.length === 0) opts.valid?.(`${t.file}|${t.ref}`);
      for (const p of problems) {
        const sample = p.sample.length ? `; e.g. ${JSON.stringify(p.sample.slice(0, 3))}` : '';
        const line = p.rule === 'missing-column' || p.rule === 'extra-column' ? 1 : lineOfRow(posix.join(cp.project.root, t.file), p.sample[0]);
        diags.add({ code: 'input-schema', file: t.file, line, pointer: p.column ? `column ${p.column}` : undefined, message: `${p.message} (rule ${p.rule}, schema ${t.ref})${sample}` });
      }
    }
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

/** The 1-based line of the first CSV line whose first field equals the sample row's first value. */
function lineOfRow(absPath: string, row: Record<string, unknown> | undefined): number | undefined {
  if (!row) return undefined;
  const first = Object.values(row)[0];
  if (first === null || first === undefined) return undefined;
  const lines = readFileSync(absPath, 'utf8').split(/\r?\n/);
  const i = lines.findIndex((l, n) => n > 0 && l.split(',')[0]!.replace(/^"(.*)"$/, '$1') === String(first));
  return i < 0 ? undefined : i + 1;
}
