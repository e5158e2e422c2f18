import type { DuckDBConnection } from '@duckdb/node-api';
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { adjacentDuplicates, duplicatedKey, ident, scanTable, sqlString, type TableViolation } from '../contracts/tablecheck.js';
import { fileSha256 } from '../fingerprint/digest.js';
import { KernelError, type JobOutput, type KernelJob, type KernelResult, type WrittenFile } from './job.js';
import { fileRanges, keyLeads, partFile, sortKeyOf } from './order.js';
import { leadSlices } from './slices.js';

/** Fixed Parquet settings, so equal data gives equal bytes. */
export const ROW_GROUP_SIZE = 122880;
export const PARQUET_OPTIONS = `FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP_SIZE}`;

/**
 * Writes the kernel's outputs to the attempt's temporary area: each table checked against its
 * contract and written sorted (split into files of publish.rows_per_file), each JSON document read
 * from its one-row table, and a gate state's verdict read from gate_verdict.
 */
export async function writeOutputs(con: DuckDBConnection, job: KernelJob): Promise<Omit<KernelResult, 'steps'>> {
  const files: WrittenFile[] = [];
  const docs: Record<string, string> = {};
  for (const out of job.outputs) {
    if (!(await relationExists(con, out.dataset))) {
      throw new KernelError({ message: `the kernel left no table '${out.dataset}' for output ${out.dataset}`, output: out.dataset, rule: 'missing-output' });
    }
    if (out.format === 'json') docs[out.dataset] = await readDoc(con, out);
    else files.push(...(await writeTable(con, out)));
  }
  let gatePassed: boolean | undefined;
  if (job.gate) {
    if (!(await relationExists(con, 'gate_verdict'))) throw new KernelError({ message: "a gate state must leave a one-row table 'gate_verdict' with a boolean column 'passed'", rule: 'gate-verdict' });
    const r = (await con.runAndReadAll('SELECT passed FROM gate_verdict')).getRowObjectsJS();
    if (r.length !== 1 || typeof r[0]!.passed !== 'boolean') throw new KernelError({ message: `gate_verdict must have exactly one row with a boolean 'passed' (found ${r.length} rows)`, rule: 'gate-verdict' });
    gatePassed = r[0]!.passed as boolean;
  }
  return { files, docs, gatePassed };
}

async function readDoc(con: DuckDBConnection, out: JobOutput): Promise<string> {
  let rows;
  try {
    rows = (await con.runAndReadAll(`SELECT doc::VARCHAR AS doc FROM ${ident(out.dataset)}`)).getRowObjectsJS();
  } catch (e) {
    throw new KernelError({ message: `json output ${out.dataset} must be a table with one column 'doc': ${(e as Error).message}`, output: out.dataset, rule: 'json-doc' });
  }
  if (rows.length !== 1 || typeof rows[0]!.doc !== 'string') throw new KernelError({ message: `json output ${out.dataset} must have exactly one non-null row in column 'doc' (found ${rows.length})`, output: out.dataset, rule: 'json-doc' });
  return rows[0]!.doc as string;
}

async function writeTable(con: DuckDBConnection, out: JobOutput): Promise<WrittenFile[]> {
  const table = out.table!;
  const columns = Object.keys(table.columns);
  const order = sortKeyOf(out.orderBy ?? [], columns, table.primary_key);
  // a primary key leading the sort key is checked on the sorted rows, beside each other
  const keyBySort = keyLeads(table.primary_key, order);
  const { violations, rows } = await scanTable(con, out.dataset, table, { skipPrimaryKey: keyBySort });
  const fail = (all: TableViolation[]) => {
    const v = all[0]!;
    const more = all.length > 1 ? ` (and ${all.length - 1} more: ${all.slice(1).map((x) => x.rule + (x.column ? ` ${x.column}` : '')).join(', ')})` : '';
    const sample = v.sample.length ? `; e.g. ${JSON.stringify(v.sample.slice(0, 3))}` : '';
    return new KernelError({ message: `output ${out.dataset} breaks its contract: ${v.message}${more}${sample}`, output: out.dataset, column: v.column, rule: v.rule, sample: v.sample });
  };
  // the key's place among the rules is before the unique sets, as in scanTable
  const withKey = (v: TableViolation) => {
    const at = violations.findIndex((x) => x.rule === 'unique');
    violations.splice(at < 0 ? violations.length : at, 0, v);
    return fail(violations);
  };
  const keyViolation = async () => (await duplicatedKey(con, out.dataset, table.primary_key!, 'primary-key'))!;
  if (violations.length > 0) {
    const dup = keyBySort && !Number.isNaN(rows) ? await duplicatedKey(con, out.dataset, table.primary_key!, 'primary-key') : undefined;
    throw dup ? withKey(dup) : fail(violations);
  }
  mkdirSync(dirname(out.file), { recursive: true });
  const key = keyBySort ? order.slice(0, table.primary_key!.length) : undefined;
  const slices = out.format !== 'parquet' ? undefined : rows <= out.rowsPerFile ? [{ where: '' }] : await leadSlices(con, out.dataset, order[0]!, rows, out.rowsPerFile);
  const files = slices ? await writeSlices(con, out, columns, order, slices, key, rows) : await writeSorted(con, out, columns, order, key, rows);
  if (!files) throw withKey(await keyViolation());
  return files;
}

const ORDER = (order: string[]) => order.map((c) => `${ident(c)} NULLS LAST`).join(', ');
/**
 * One `COPY ... ORDER BY` per slice, each file checked for adjacent duplicate keys as it is read
 * back. Undefined when a key repeats (the caller reports it).
 */
async function writeSlices(con: DuckDBConnection, out: JobOutput, columns: string[], order: string[], slices: { where: string }[], key: string[] | undefined, rows: number): Promise<WrittenFile[] | undefined> {
  await con.run('SET preserve_insertion_order = true');
  try {
    const files: WrittenFile[] = [];
    let total = 0;
    for (const [i, slice] of slices.entries()) {
      const file = slices.length === 1 ? out.file : partFile(out.file, i);
      const where = slice.where ? ` WHERE ${slice.where}` : '';
      const copied = await con.runAndReadAll(`COPY (SELECT ${columns.map(ident).join(', ')} FROM ${ident(out.dataset)}${where} ORDER BY ${ORDER(order)}) TO ${sqlString(file)} (${PARQUET_OPTIONS})`);
      const n = Number(Object.values(copied.getRowObjectsJS()[0] ?? {})[0] ?? 0);
      total += n;
      if (key && (await adjacentDuplicates(con, '', key, n, { from: `read_parquet(${sqlString(file)})`, rowNumber: 'file_row_number' }))) return undefined;
      files.push(await written(out.dataset, file, n));
    }
    if (total !== rows) throw new KernelError({ message: `output ${out.dataset}: its files hold ${total} rows, the table ${rows}`, output: out.dataset, rule: 'internal' });
    return files;
  } finally {
    await con.run('SET preserve_insertion_order = false');
  }
}

/**
 * Sort once into a table (its row ids follow the sorted order), then write each file from a
 * contiguous range of row ids; a scan keeps row-id order only with insertion order preserved.
 * For JSON, and for a lead sort column whose values cannot cut files. Undefined when a key repeats.
 */
async function writeSorted(con: DuckDBConnection, out: JobOutput, columns: string[], order: string[], key: string[] | undefined, rows: number): Promise<WrittenFile[] | undefined> {
  const ranges = out.format === 'parquet' && rows > out.rowsPerFile ? fileRanges(rows, out.rowsPerFile) : [{ offset: 0, rows }];
  if (ranges.length > 10_000) throw new KernelError({ message: `output ${out.dataset} would need ${ranges.length} files of ${out.rowsPerFile} rows (at most 10000): raise publish.rows_per_file`, output: out.dataset, rule: 'rows-per-file' });
  const sorted = `__dag_sorted_${out.dataset}`;
  await con.run(`CREATE TEMP TABLE ${ident(sorted)} AS SELECT ${columns.map(ident).join(', ')} FROM ${ident(out.dataset)} ORDER BY ${ORDER(order)}`);
  await con.run('SET preserve_insertion_order = true');
  try {
    if (key && (await adjacentDuplicates(con, sorted, key, rows))) return undefined;
    const files: WrittenFile[] = [];
    for (const [i, r] of ranges.entries()) {
      const file = ranges.length === 1 ? out.file : partFile(out.file, i);
      const slice = ranges.length === 1 ? '' : ` WHERE rowid >= ${r.offset} AND rowid < ${r.offset + r.rows}`;
      await con.run(`COPY (SELECT * FROM ${ident(sorted)}${slice}) TO ${sqlString(file)} (${out.format === 'parquet' ? PARQUET_OPTIONS : 'FORMAT json'})`);
      files.push(await written(out.dataset, file, r.rows));
    }
    return files;
  } finally {
    await con.run('SET preserve_insertion_order = false');
    await con.run(`DROP TABLE IF EXISTS ${ident(sorted)}`);
  }
}

async function written(dataset: string, file: string, rows: number): Promise<WrittenFile> {
  return { dataset, file, rows, sha256: await fileSha256(file), bytes: statSync(file).size };
}

async function relationExists(con: DuckDBConnection, name: string): Promise<boolean> {
  const r = await con.runAndReadAll(`SELECT count(*) AS n FROM information_schema.tables WHERE table_name = ${sqlString(name)}`);
  return Number(r.getRowObjectsJS()[0]?.n ?? 0) > 0;
}
