import type { DuckDBConnection } from '@duckdb/node-api';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describeViolations, loadCsvChecked } from '../contracts/csv.js';
import { ident, sqlString } from '../contracts/tablecheck.js';
import { KernelError, type KernelJob } from './job.js';

/** The kernel's DuckDB session before its first statement: the prelude, variables, CSV tables checked against their contracts, views over dataset inputs. */
export async function prepare(con: DuckDBConnection, job: KernelJob): Promise<void> {
  for (const f of job.preludeFiles) {
    try {
      await con.run(readFileSync(f, 'utf8'));
    } catch (e) {
      throw new KernelError({ message: `kernel_prelude ${f} failed: ${(e as Error).message}`, step: 'prelude' });
    }
  }
  for (const v of job.variables) {
    await con.run(`SET VARIABLE ${ident(v.name)} = ${sqlString(v.value)}::${v.sqlType}`);
  }
  for (const t of job.csvTables) {
    if (!t.table) {
      await con.run(`CREATE TABLE ${ident(t.name)} AS SELECT * FROM read_csv(${sqlString(t.path)}, header = true, auto_detect = true)`);
      continue;
    }
    const problems = await loadCsvChecked(con, t.name, t.path, t.table);
    if (problems.length) throw new KernelError({ message: `input file ${t.file} breaks its contract ${t.schemaRef}: ${describeViolations(problems)}`, step: 'inputs', column: problems[0]!.column, rule: problems[0]!.rule });
  }
  for (const v of job.views) {
    const files = `[${v.files.map(sqlString).join(', ')}]`;
    const reader = v.format === 'parquet' ? `read_parquet(${files})` : `read_json(${files}, format = 'newline_delimited')`;
    await con.run(`CREATE VIEW ${ident(v.name)} AS SELECT ${v.columns.map(ident).join(', ')} FROM ${reader}`);
  }
}

/**
 * The kernel's sandbox (ORCHESTRATOR.md, "Kernels"): from here on this DuckDB reaches no file but
 * the state's declared dataset inputs (allowed_paths), its output folders, its scratch folder and
 * its spill folder (allowed_directories); no extension is installed or loaded, no database is
 * attached elsewhere, and a kernel cannot undo any of it. CSV
 * inputs were loaded into tables and documents bound as variables before, so a kernel needs no path.
 */
export async function confine(con: DuckDBConnection, job: KernelJob): Promise<void> {
  const dirs = [...new Set([...job.outputs.map((o) => dirname(o.file)), job.scratchDir, job.duckdb.temp_directory])].map((d) => (d.endsWith('/') ? d : d + '/'));
  for (const d of dirs) mkdirSync(d, { recursive: true });
  const files = [...new Set(job.views.flatMap((v) => v.files))];
  const list = (xs: string[]) => `[${xs.map(sqlString).join(', ')}]`;
  await con.run(`SET allowed_directories = ${list(dirs)}`);
  if (files.length) await con.run(`SET allowed_paths = ${list(files)}`);
  await con.run('SET autoinstall_known_extensions = false');
  await con.run('SET autoload_known_extensions = false');
  await con.run('SET enable_external_access = false');
  // (not lock_configuration: the publisher sets preserve_insertion_order per phase, and DuckDB
  // already refuses, once external access is off, to turn it back on or to change
  // allowed_directories, allowed_paths or temp_directory: test/exec/sandbox.test.ts tries each)
}
