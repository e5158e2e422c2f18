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

/** How a table is checked: the sample size, and the order it is written in (for the key check). */
export interface CheckOptions {
  sampleSize?: number;
  /** The sort key of the published output: a primary key that leads it is checked on adjacent rows. */
  sortedBy?: string[];
}

/** Every violation, and the relation's row count (counted in the same scan). */
export interface TableCheck {
  violations: TableViolation[];
  rows: number;
}

/** True when the first columns of `sortedBy` are exactly the key's columns (in any order). */
export function keyLeads(key: string[], sortedBy: string[] | undefined): boolean {
  if (!sortedBy || sortedBy.length < key.length) return false;
  const lead = new Set(sortedBy.slice(0, key.length));
  return key.every((c) => lead.has(c)) && lead.size === key.length;
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
 * rows of the rules that failed. A primary key leading `sortedBy` is checked by comparing each row
 * with the previous one in key order (a sort of the key columns) instead of a GROUP BY.
 */
export async function scanTable(con: DuckDBConnection, rel: string, schema: TableSchema, opts: CheckOptions = {}): Promise<TableCheck> {
  const sampleSize = opts.sampleSize ?? 5;
  const described = await con.runAndReadAll(`DESCRIBE ${ident(rel)}`);
  const actual = new Map(described.getRowObjectsJS().map((r) => [String(r.column_name), String(r.column_type)]));
  const violations: TableViolation[] = [];
  for (const [name, col] of Object.entries(schema.columns)) {
    const type = actual.get(name);
    if (type === undefined) violations.push({ column: name, rule: 'missing-column', message: `column '${name}' (${col.type}) is missing`, sample: [] });
    else if (type !== duckdbTypeOf[col.type]) violations.push({ column: name, rule: 'type', message: `column '${name}' has type ${type}, the contract says ${col.type} (${duckdbTypeOf[col.type]})`, sample: [] });
  }
  for (const name of actual.keys()) {
    if (!(name in schema.columns)) violations.push({ column: name, rule: 'extra-column', message: `column '${name}' is not in the contract`, sample: [] });
  }
  if (violations.length > 0) return { violations, rows: Number.NaN };

  const rules: { column?: string; rule: TableViolation['rule']; where: string; message: string }[] = [];
  for (const [name, col] of Object.entries(schema.columns)) {
    const c = ident(name);
    if (!col.nullable) rules.push({ column: name, rule: 'not-null', where: `${c} IS NULL`, message: `null in non-nullable column '${name}'` });
    if (col.enum) rules.push({ column: name, rule: 'enum', where: `${c} NOT IN (${col.enum.map(sqlLiteral).join(', ')})`, message: `column '${name}' holds values outside its enum [${col.enum.join(', ')}]` });
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
  if (schema.primary_key) keySets.push({ cols: schema.primary_key, rule: 'primary-key' });
  for (const u of schema.unique ?? []) keySets.push({ cols: u, rule: 'unique' });
  for (const { cols, rule } of keySets) {
    const sorted = rule === 'primary-key' && keyLeads(cols, opts.sortedBy);
    if (sorted && !(await adjacentDuplicates(con, rel, opts.sortedBy!.slice(0, cols.length)))) continue;
    const list = cols.map(ident).join(', ');
    const dup = await con.runAndReadAll(`SELECT ${list}, count(*) AS copies FROM ${ident(rel)} GROUP BY ALL HAVING count(*) > 1 ORDER BY copies DESC, ${list} LIMIT ${sampleSize}`);
    const found = dup.getRowObjectsJson() as Record<string, unknown>[];
    if (found.length > 0) violations.push({ column: cols.join(', '), rule, message: `${rule === 'primary-key' ? 'primary key' : 'unique key'} (${cols.join(', ')}) is duplicated`, sample: found });
  }
  return { violations, rows };
}

/** True when two rows adjacent in `key` order carry equal keys (NULL key parts equal, as in GROUP BY). */
async function adjacentDuplicates(con: DuckDBConnection, rel: string, key: string[]): Promise<boolean> {
  const cols = key.map(ident);
  const previous = cols.map((c, i) => `lag(${c}) OVER w AS p${i}`).join(', ');
  const equal = cols.map((c, i) => `${c} IS NOT DISTINCT FROM p${i}`).join(' AND ');
  const r = await con.runAndReadAll(`SELECT count(*) AS n FROM (SELECT ${cols.join(', ')}, ${previous}, row_number() OVER w AS i FROM ${ident(rel)} WINDOW w AS (ORDER BY ${cols.join(', ')})) WHERE i > 1 AND ${equal}`);
  return Number(r.getRowObjectsJS()[0]?.n ?? 0) > 0;
}
