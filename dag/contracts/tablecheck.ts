import type { DuckDBConnection } from '@duckdb/node-api';
import { duckdbTypeOf, type TableSchema } from './table.js';

/** One broken rule of a table schema, with a few offending rows. */
export interface TableViolation {
  column?: string;
  rule: 'missing-column' | 'extra-column' | 'type' | 'not-null' | 'enum' | 'minimum' | 'maximum' | 'pattern' | 'primary-key' | 'unique';
  message: string;
  sample: Record<string, unknown>[];
}

export const ident = (name: string): string => '"' + name.replace(/"/g, '""') + '"';
export const sqlString = (s: string): string => "'" + s.replace(/'/g, "''") + "'";

function sqlLiteral(v: string | number | boolean): string {
  return typeof v === 'string' ? sqlString(v) : String(v);
}

/** How a table is checked. */
export interface CheckOptions {
  sampleSize?: number;
  /** Leave the primary key to the caller, which checks it on the sorted rows (`adjacentDuplicates`). */
  skipPrimaryKey?: boolean;
}

/** Every violation, and the relation's row count (counted in the same scan). */
export interface TableCheck {
  violations: TableViolation[];
  rows: number;
}

/**
 * Checks relation `rel` (a table or view) against a table schema in DuckDB: exact column set and
 * types, nulls, enums, ranges, patterns, primary key and unique sets. Returns every violation.
 */
export async function checkTable(con: DuckDBConnection, rel: string, schema: TableSchema, sampleSize = 5): Promise<TableViolation[]> {
  return (await scanTable(con, rel, schema, { sampleSize })).violations;
}

/**
 * The same checks in as few scans as possible: the column set from DESCRIBE, then one aggregate
 * holding every rule's violation count and the row count, then queries only for the offending
 * rows of the rules that failed, then the key sets (GROUP BY).
 */
export async function scanTable(con: DuckDBConnection, rel: string, schema: TableSchema, opts: CheckOptions = {}): Promise<TableCheck> {
  const sampleSize = opts.sampleSize ?? 5;
  const described = await con.runAndReadAll(`DESCRIBE ${ident(rel)}`);
  const actual = new Map(described.getRowObjectsJS().map((r) => [String(r.column_name), String(r.column_type)]));
  const violations: TableViolation[] = [];
  for (const [name, col] of Object.entries(schema.columns)) {
    const type = actual.get(name);
    if (type === undefined) violations.push({ column: name, rule: 'missing-column', message: `column '${name}' (${col.type}) is missing`, sample: [] });
    // a string column may be a DuckDB ENUM in the kernel's table: the file holds UTF-8 strings either way
    else if (type !== duckdbTypeOf[col.type] && !(col.type === 'string' && type.startsWith('ENUM('))) violations.push({ column: name, rule: 'type', message: `column '${name}' has type ${type}, the contract says ${col.type} (${duckdbTypeOf[col.type]})`, sample: [] });
  }
  for (const name of actual.keys()) {
    if (!(name in schema.columns)) violations.push({ column: name, rule: 'extra-column', message: `column '${name}' is not in the contract`, sample: [] });
  }
  if (violations.length > 0) return { violations, rows: Number.NaN };

  const rules: { column?: string; rule: TableViolation['rule']; where: string; message: string }[] = [];
  for (const [name, col] of Object.entries(schema.columns)) {
    const c = ident(name);
    if (!col.nullable) rules.push({ column: name, rule: 'not-null', where: `${c} IS NULL`, message: `null in non-nullable column '${name}'` });
    if (col.enum) rules.push({ column: name, rule: 'enum', where: `${col.type === 'string' ? `${c}::VARCHAR` : c} NOT IN (${col.enum.map(sqlLiteral).join(', ')})`, message: `column '${name}' holds values outside its enum [${col.enum.join(', ')}]` });
    if (col.minimum !== undefined) rules.push({ column: name, rule: 'minimum', where: `${c} < ${col.minimum}`, message: `column '${name}' holds values below its minimum ${col.minimum}` });
    if (col.maximum !== undefined) rules.push({ column: name, rule: 'maximum', where: `${c} > ${col.maximum}`, message: `column '${name}' holds values above its maximum ${col.maximum}` });
    if (col.pattern !== undefined) rules.push({ column: name, rule: 'pattern', where: `NOT regexp_full_match(${c}::VARCHAR, ${sqlString(col.pattern)})`, message: `column '${name}' holds values not matching ${col.pattern}` });
  }
  const counts = await con.runAndReadAll(`SELECT ${['count(*) AS n', ...rules.map((r, i) => `count(*) FILTER (WHERE ${r.where}) AS v${i}`)].join(', ')} FROM ${ident(rel)}`);
  const row = counts.getRowObjectsJS()[0] ?? {};
  const rows = Number(row.n ?? 0);
  for (let i = 0; i < rules.length; i++) {
    const n = Number(row[`v${i}`] ?? 0);
    if (n === 0) continue;
    const r = rules[i]!;
    const sample = await con.runAndReadAll(`SELECT * FROM ${ident(rel)} WHERE ${r.where} LIMIT ${sampleSize}`);
    violations.push({ column: r.column, rule: r.rule, message: `${r.message}: ${n} row(s)`, sample: sample.getRowObjectsJson() as Record<string, unknown>[] });
  }
  const keySets: { cols: string[]; rule: 'primary-key' | 'unique' }[] = [];
  if (schema.primary_key && !opts.skipPrimaryKey) keySets.push({ cols: schema.primary_key, rule: 'primary-key' });
  for (const u of schema.unique ?? []) keySets.push({ cols: u, rule: 'unique' });
  for (const { cols, rule } of keySets) {
    const v = await duplicatedKey(con, rel, cols, rule, sampleSize);
    if (v) violations.push(v);
  }
  return { violations, rows };
}

/** The key's duplicated values (GROUP BY, most copies first), as a violation; undefined if none. */
export async function duplicatedKey(con: DuckDBConnection, rel: string, cols: string[], rule: 'primary-key' | 'unique', sampleSize = 5): Promise<TableViolation | undefined> {
  const list = cols.map(ident).join(', ');
  const dup = await con.runAndReadAll(`SELECT ${list}, count(*) AS copies FROM ${ident(rel)} GROUP BY ALL HAVING count(*) > 1 ORDER BY copies DESC, ${list} LIMIT ${sampleSize}`);
  const found = dup.getRowObjectsJson() as Record<string, unknown>[];
  return found.length > 0 ? { column: cols.join(', '), rule, message: `${rule === 'primary-key' ? 'primary key' : 'unique key'} (${cols.join(', ')}) is duplicated`, sample: found } : undefined;
}

/**
 * True when two consecutive rows of `sorted`, `rows` rows written sorted by a key that starts with
 * `key`, carry equal keys (NULL parts equal, as in GROUP BY): one sequential scan, each row beside
 * the next (POSITIONAL JOIN). `sorted` is a table (row numbers `rowid`) or, with `from` and
 * `rowNumber` given, any relation such as a Parquet file (`read_parquet(...)`, `file_row_number`).
 * Needs preserve_insertion_order on, so that a scan returns rows in order.
 */
export async function adjacentDuplicates(con: DuckDBConnection, sorted: string, key: string[], rows: number, source?: { from: string; rowNumber: string }): Promise<boolean> {
  if (rows < 2) return false;
  const from = source?.from ?? ident(sorted);
  const rowNumber = source?.rowNumber ?? 'rowid';
  const cols = key.map(ident);
  const next = cols.map((c, i) => `${c} AS n${i}`).join(', ');
  const equal = cols.map((c, i) => `${c} IS NOT DISTINCT FROM n${i}`).join(' AND ');
  const r = await con.runAndReadAll(`SELECT count(*) AS n FROM (SELECT ${cols.join(', ')} FROM ${from} WHERE ${rowNumber} < ${rows - 1}) POSITIONAL JOIN (SELECT ${next} FROM ${from} WHERE ${rowNumber} >= 1) WHERE ${equal}`);
  return Number(r.getRowObjectsJS()[0]?.n ?? 0) > 0;
}
