import type { DuckDBConnection } from '@duckdb/node-api';
import { closeSync, openSync, readSync } from 'node:fs';
import { duckdbTypeOf, type TableSchema } from './table.js';
import { checkTable, ident, sqlString, type TableViolation } from './tablecheck.js';

/** The header of a CSV file (its first line, split on commas; quotes stripped). */
export function csvHeader(absPath: string): string[] {
  const fd = openSync(absPath, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const first = buf.subarray(0, n).toString('utf8').split(/\r?\n/)[0] ?? '';
    return first.split(',').map((h) => h.trim().replace(/^"(.*)"$/, '$1'));
  } finally {
    closeSync(fd);
  }
}

/**
 * Loads a CSV input as table `name`, typed by its table schema (columns in the file's order), and
 * checks it against every rule of the schema. Returns the problems; the table exists only if none.
 */
export async function loadCsvChecked(con: DuckDBConnection, name: string, absPath: string, schema: TableSchema): Promise<TableViolation[]> {
  const header = csvHeader(absPath);
  const expected = Object.keys(schema.columns);
  const missing = expected.filter((c) => !header.includes(c));
  const extra = header.filter((c) => !expected.includes(c));
  if (missing.length || extra.length) {
    return [
      ...missing.map((c): TableViolation => ({ column: c, rule: 'missing-column', message: `column '${c}' is missing from the header`, sample: [] })),
      ...extra.map((c): TableViolation => ({ column: c, rule: 'extra-column', message: `column '${c}' is not in the contract`, sample: [] })),
    ];
  }
  const columns = header.map((c) => `${sqlString(c)}: ${sqlString(duckdbTypeOf[schema.columns[c]!.type])}`).join(', ');
  try {
    await con.run(`CREATE TABLE ${ident(name)} AS SELECT * FROM read_csv(${sqlString(absPath)}, header = true, auto_detect = false, columns = {${columns}})`);
  } catch (e) {
    return [csvReadViolation((e as Error).message, schema)];
  }
  const problems = await checkTable(con, name, schema);
  if (problems.length) await con.run(`DROP TABLE ${ident(name)}`);
  return problems;
}

export function describeViolations(v: TableViolation[]): string {
  const first = v[0]!;
  const more = v.length > 1 ? ` (and ${v.length - 1} more: ${v.slice(1).map((x) => x.rule + (x.column ? ` ${x.column}` : '')).join(', ')})` : '';
  const sample = first.sample.length ? `; e.g. ${JSON.stringify(first.sample.slice(0, 3))}` : '';
  return `${first.message} [${first.rule}]${more}${sample}`;
}

/**
 * DuckDB's CSV error kept to what a user needs: the line, the column, the value and the type the
 * contract expects (its message spreads them over several lines among sniffer settings).
 */
export function csvReadViolation(message: string, schema: TableSchema): TableViolation {
  const line = /CSV Error on Line: (\d+)/.exec(message)?.[1];
  const conv = /converting column "([^"]+)"\. Could not convert string "([^"]*)" to '([^']+)'/.exec(message);
  if (line && conv) {
    const [, column, value, type] = conv;
    const declared = schema.columns[column!]?.type;
    return { column, rule: 'type', message: `line ${line}, column '${column}': value '${value}' does not convert to ${declared ?? type}, the contract's type${declared ? ` (${type} in DuckDB)` : ''}`, sample: [] };
  }
  const first = message.split('\n')[0]!;
  return { rule: 'type', message: `cannot be read with the contract's types: ${first}${line && !first.includes(line) ? ` (line ${line})` : ''}`, sample: [] };
}
