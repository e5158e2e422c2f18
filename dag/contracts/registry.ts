import type { Ajv2020 as Ajv2020Class, ValidateFunction } from 'ajv/dist/2020.js';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import { Diagnostics, type Diagnostic } from '../project/diagnostics.js';
import { listFiles } from '../project/files.js';
import { fromPointer, toPointer, YamlSource } from '../project/yamlsource.js';
import { zodDiagnostics } from '../project/zodDiagnostics.js';
import { isTableSchema, tableSchemaSchema, type TableSchema } from './table.js';

export const CONTRACTS_DIR = 'contracts';
const URI_BASE = 'https://contracts.dag.invalid/';

/** Where a schema ref was written, for diagnostics. */
export interface RefSite {
  file: string;
  line?: number;
  pointer?: string;
}

interface Resolved {
  file: string;
  pointer: string;
  value: unknown;
}

export type ContractKind = 'table' | 'json';

/**
 * Every schema under contracts/, addressed `file#/json/pointer`. `$ref`s inside a file resolve
 * against that file (same-file `#/$defs/x`, `other.yaml#/x`, `#anchor`) wherever they sit:
 * nested `$id`s are dropped, so a sub-schema never loses its file's `$defs`.
 */
export class ContractRegistry {
  private readonly sources = new Map<string, YamlSource>();
  private ajvInstance?: InstanceType<typeof Ajv2020Class>;
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly tables = new Map<string, TableSchema>();
  private readonly checked = new Map<string, Diagnostic[]>();

  /** Contract files that did not parse (their own diagnostic is reported once). */
  private readonly unreadable = new Set<string>();

  private constructor(readonly root: string) {}

  /** ajv with every contract file added, made on the first validator asked for (a run whose documents are all known valid never loads it). */
  private get ajv(): InstanceType<typeof Ajv2020Class> {
    if (!this.ajvInstance) {
      const { Ajv2020 } = createRequire(import.meta.url)('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
      const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false, logger: false });
      addSumKeyword(ajv);
      addUniqueByKeyword(ajv);
      for (const [file, source] of this.sources) ajv.addSchema(absolutize(source.data, file) as object, uriOf(file), undefined, false);
      this.ajvInstance = ajv;
    }
    return this.ajvInstance;
  }

  static load(root: string, diags: Diagnostics): ContractRegistry {
    const reg = new ContractRegistry(root);
    for (const file of listFiles(root, CONTRACTS_DIR, ['.yaml', '.yml', '.json'])) {
      const { source, errors } = YamlSource.read(posix.join(root, file), file);
      // one diagnostic for a file that does not parse (the parser's follow-on errors are noise)
      if (errors.length > 0) diags.add(errors.length > 1 ? { ...errors[0]!, message: `${errors[0]!.message} (and ${errors.length - 1} follow-on error(s) the parser reports after it)` } : errors[0]!);
      if (!source) {
        reg.unreadable.add(file);
        continue;
      }
      reg.sources.set(file, source);
    }
    return reg;
  }

  get files(): string[] {
    return [...this.sources.keys()];
  }

  source(file: string): YamlSource | undefined {
    return this.sources.get(file);
  }

  /** True when `ref` points into a contract file that did not parse (its error is already reported). */
  inUnreadableFile(ref: string): boolean {
    return this.unreadable.has(ref.split('#')[0]!);
  }

  /** Checks that `ref` and every `$ref` reachable from it resolve; returns the problems. */
  check(ref: string, site: RefSite): Diagnostic[] {
    // a ref into a contract file that did not parse is not a second error: that file's is reported
    if (this.unreadable.has(ref.split('#')[0]!)) return [];
    const first = this.resolve(ref, undefined);
    if ('error' in first) return [{ code: 'schema-ref', ...site, message: `schema ref '${ref}' does not resolve: ${first.error}`, fix: `add the schema under ${CONTRACTS_DIR}/ or correct the ref` }];
    let memo = this.checked.get(ref);
    if (!memo) {
      memo = this.checkResolved(ref, first);
      this.checked.set(ref, memo);
    }
    return memo;
  }

  /** Problems inside the schema `ref` resolves to: its $refs, $ref loops, the table dialect. */
  private checkResolved(ref: string, first: Resolved): Diagnostic[] {
    const problems: Diagnostic[] = [];
    const seen = new Set<string>();
    const walk = (r: Resolved) => {
      const key = `${r.file}#${r.pointer}`;
      if (seen.has(key)) return;
      seen.add(key);
      visitRefs(r.value, fromPointer(r.pointer), (target, at) => {
        const next = this.resolve(target, r.file);
        if ('error' in next) {
          const src = this.sources.get(r.file)!;
          problems.push({
            code: 'schema-ref',
            file: r.file,
            line: src.lineOf([...at, '$ref']),
            pointer: toPointer([...at, '$ref']),
            message: `$ref '${target}' (reached from '${ref}') does not resolve: ${next.error}`,
            fix: 'point the $ref at an existing file and JSON pointer',
          });
        } else walk(next);
      });
    };
    walk(first);
    const loop = this.refOnlyLoop(first);
    if (loop) problems.push({ code: 'schema-ref', file: first.file, line: this.sources.get(first.file)!.lineOf(fromPointer(first.pointer)), pointer: first.pointer, message: `schema ref '${ref}' is a $ref cycle with no schema in it: ${loop}`, fix: 'make one of the $refs point at a real schema' });
    if (problems.length === 0 && isTableSchema(first.value)) {
      let expanded: unknown;
      try {
        expanded = this.deref(first.value, first.file);
      } catch (e) {
        const src = this.sources.get(first.file)!;
        return [{ code: 'schema-ref', file: first.file, line: src.lineOf(fromPointer(first.pointer)), pointer: first.pointer, message: `table schema '${ref}' cannot be expanded: ${(e as Error).message}` }];
      }
      const parsed = tableSchemaSchema.safeParse(expanded);
      if (!parsed.success) {
        const src = this.sources.get(first.file)!;
        const base = fromPointer(first.pointer);
        problems.push(...zodDiagnostics(parsed.error, src, 'table-schema', { base, data: expanded }));
      }
    }
    return problems;
  }

  /** `a -> b -> a` when following `$ref`s from `start` (through objects that are only a $ref) loops. */
  private refOnlyLoop(start: Resolved): string | undefined {
    const seen: string[] = [];
    let cur: Resolved | { error: string } = start;
    while (!('error' in cur)) {
      const here = `${cur.file}#${cur.pointer}`;
      if (seen.includes(here)) return [...seen.slice(seen.indexOf(here)), here].join(' -> ');
      seen.push(here);
      const v = cur.value as Record<string, unknown> | null;
      if (v === null || typeof v !== 'object' || typeof v.$ref !== 'string') return undefined;
      cur = this.resolve(v.$ref, cur.file);
    }
    return undefined;
  }

  kindOf(ref: string): ContractKind {
    return isTableSchema(this.resolveOrThrow(ref).value) ? 'table' : 'json';
  }

  /** The table schema at `ref` (its `$ref`s expanded), parsed into the typed model. */
  table(ref: string): TableSchema {
    let t = this.tables.get(ref);
    if (!t) {
      const r = this.resolveOrThrow(ref);
      t = tableSchemaSchema.parse(this.deref(r.value, r.file));
      this.tables.set(ref, t);
    }
    return t;
  }

  /** An ajv validator (draft 2020-12, all errors) for the JSON Schema at `ref`. */
  validator(ref: string): ValidateFunction {
    let v = this.validators.get(ref);
    if (!v) {
      const r = this.resolveOrThrow(ref);
      v = this.ajv.compile({ $ref: uriOf(r.file) + '#' + r.pointer });
      this.validators.set(ref, v);
    }
    return v;
  }

  /** Resolves `ref` (`file#/pointer`, `#/pointer` or `#anchor`), relative to `fromFile` if given. */
  resolve(ref: string, fromFile: string | undefined): Resolved | { error: string } {
    const hash = ref.indexOf('#');
    const filePart = hash < 0 ? ref : ref.slice(0, hash);
    const fragment = hash < 0 ? '' : ref.slice(hash + 1);
    let file: string;
    if (filePart === '') {
      if (fromFile === undefined) return { error: 'a schema ref needs a file: contracts/<file>.yaml#/pointer' };
      file = fromFile;
    } else {
      file = fromFile === undefined ? posix.normalize(filePart) : posix.join(posix.dirname(fromFile), filePart);
    }
    const src = this.sources.get(file);
    if (!src) {
      const where = existsSync(posix.join(this.root, file)) ? `${file} is not under ${CONTRACTS_DIR}/` : `no contract file ${file}`;
      return { error: where };
    }
    if (fragment !== '' && !fragment.startsWith('/')) {
      const at = findAnchor(src.data, fragment, []);
      return at ? { file, pointer: toPointer(at.path), value: at.value } : { error: `no $anchor '${fragment}' in ${file}` };
    }
    let value: unknown = src.data;
    const segs = fromPointer(fragment);
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i]!;
      if (value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, seg)) {
        value = (value as Record<string, unknown>)[seg];
      } else {
        return { error: `${file} has nothing at ${toPointer(segs.slice(0, i + 1))}` };
      }
    }
    return { file, pointer: toPointer(segs), value };
  }

  private resolveOrThrow(ref: string): Resolved {
    const r = this.resolve(ref, undefined);
    if ('error' in r) throw new Error(`schema ref '${ref}': ${r.error}`);
    return r;
  }

  /** A copy of `value` with every `$ref` replaced by its target (for table schemas). */
  private deref(value: unknown, file: string, depth = 0): unknown {
    if (depth > 50) throw new Error(`$refs nest deeper than 50 levels in ${file}: a $ref cycle`);
    if (Array.isArray(value)) return value.map((v) => this.deref(v, file, depth));
    if (value === null || typeof value !== 'object') return value;
    const obj = value as Record<string, unknown>;
    if (typeof obj.$ref === 'string') {
      const r = this.resolve(obj.$ref, file);
      if ('error' in r) throw new Error(r.error);
      const { $ref: _drop, ...rest } = obj;
      const target = this.deref(r.value, r.file, depth + 1);
      return target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as object), ...(this.deref(rest, file, depth) as object) } : target;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = this.deref(v, file, depth);
    return out;
  }
}

function uriOf(file: string): string {
  return URI_BASE + file;
}

/** Copy of a contract file with every `$ref` made absolute and nested `$id`s dropped. */
function absolutize(value: unknown, file: string): unknown {
  if (Array.isArray(value)) return value.map((v) => absolutize(v, file));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === '$id') continue; // the file path is the schema's identity
    if (k === '$ref' && typeof v === 'string') {
      const hash = v.indexOf('#');
      const filePart = hash < 0 ? v : v.slice(0, hash);
      const frag = hash < 0 ? '' : v.slice(hash);
      const target = filePart === '' ? file : posix.join(posix.dirname(file), filePart);
      out[k] = uriOf(target) + frag;
    } else out[k] = absolutize(v, file);
  }
  return out;
}

function visitRefs(value: unknown, path: (string | number)[], onRef: (ref: string, at: (string | number)[]) => void): void {
  if (Array.isArray(value)) value.forEach((v, i) => visitRefs(v, [...path, i], onRef));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === '$ref' && typeof v === 'string') onRef(v, path);
      else visitRefs(v, [...path, k], onRef);
    }
  }
}

function findAnchor(value: unknown, anchor: string, path: (string | number)[]): { path: (string | number)[]; value: unknown } | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (!Array.isArray(value) && (value as Record<string, unknown>).$anchor === anchor) return { path, value };
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const hit = findAnchor(v, anchor, [...path, Array.isArray(value) ? Number(k) : k]);
    if (hit) return hit;
  }
  return undefined;
}

/**
 * `x-sum`: the numbers of an object's values (or an array's items) must add up to `to`, within
 * `tolerance` (default 1e-9); with `property`, the values are objects and that property is summed.
 * For mixes and priors: a share table that does not sum to 1 is an error naming its pointer.
 */
function addSumKeyword(ajv: InstanceType<typeof Ajv2020Class>): void {
  ajv.addKeyword({
    keyword: 'x-sum',
    type: ['object', 'array'],
    schemaType: 'object',
    errors: true,
    validate: function check(spec: { to: number; tolerance?: number; property?: string }, data: unknown): boolean {
      const items = Array.isArray(data) ? data : Object.values(data as Record<string, unknown>);
      const nums = items.map((v) => (spec.property !== undefined ? (v as Record<string, unknown> | null)?.[spec.property] : v)).filter((v): v is number => typeof v === 'number');
      const sum = nums.reduce((a, b) => a + b, 0);
      const tol = spec.tolerance ?? 1e-9;
      if (Math.abs(sum - spec.to) <= tol) return true;
      (check as unknown as { errors: object[] }).errors = [{ keyword: 'x-sum', message: `${spec.property ? `'${spec.property}' values` : 'values'} sum to ${sum}, not ${spec.to} (tolerance ${tol})`, params: { sum, to: spec.to } }];
      return false;
    },
  });
}

/**
 * `x-unique-by`: the items of an array (objects) must differ in `property` (values compared as
 * JSON, so null is a value too). For ordered rule lists where two rules for one case would collide:
 * the error names the two items' indexes and the repeated value.
 */
function addUniqueByKeyword(ajv: InstanceType<typeof Ajv2020Class>): void {
  ajv.addKeyword({
    keyword: 'x-unique-by',
    type: 'array',
    schemaType: 'string',
    errors: true,
    validate: function check(property: string, data: unknown[], _parent?: unknown, cxt?: { instancePath?: string }): boolean {
      const seen = new Map<string, number>();
      for (const [i, item] of data.entries()) {
        const v = item !== null && typeof item === 'object' ? (item as Record<string, unknown>)[property] : undefined;
        const key = JSON.stringify(v ?? null);
        const first = seen.get(key);
        if (first !== undefined) {
          (check as unknown as { errors: object[] }).errors = [{ keyword: 'x-unique-by', instancePath: `${cxt?.instancePath ?? ''}/${i}/${property}`, message: `items ${first} and ${i} have the same '${property}' (${key}): they collide`, params: { property, value: v ?? null, first, second: i } }];
          return false;
        }
        seen.set(key, i);
      }
      return true;
    },
  });
}
