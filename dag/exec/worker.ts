/**
 * The kernel process: one per state attempt. It runs the kernel in its own DuckDB database,
 * checks every table output against its contract and writes it to the attempt's temporary area.
 * It never publishes: the orchestrator renames files into place only after it reports success,
 * so a crash here (even a native one) can leave nothing at a published path.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeViolations, loadCsvChecked } from '../contracts/csv.js';
import { adjacentDuplicates, duplicatedKey, ident, scanTable, sqlString, type TableViolation } from '../contracts/tablecheck.js';
import { fileSha256 } from '../fingerprint/digest.js';
import { fileRanges, keyLeads, partFile, sortKeyOf } from './order.js';
import { leadSlices } from './slices.js';
import type { JobOutput, KernelFailure, KernelJob, KernelResult, WorkerMessage, WrittenFile } from './job.js';
import { splitStatements, splitSteps } from './steps.js';

/** Fixed Parquet settings, so equal data gives equal bytes. */
export const ROW_GROUP_SIZE = 122880;
export const PARQUET_OPTIONS = `FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP_SIZE}`;

class KernelError extends Error {
  constructor(readonly failure: KernelFailure) {
    super(failure.message);
  }
}

/** The remedy when a kernel's DuckDB ran out of spill room (its cap, or the disk). */
function spillHint(message: string, job: KernelJob): string {
  if (/max_temp_directory_size/i.test(message)) return ` (the spill cap: duckdb.max_temp_directory_size ${job.duckdb.max_temp_directory_size ?? ''} in dag.yaml; raise it, or duckdb.memory_limit, if the disk has room)`;
  if (/No space left on device/i.test(message)) return ` (the disk under ${job.duckdb.temp_directory} is full: free space, point duckdb.temp_directory at a larger disk, or set duckdb.max_temp_directory_size so a kernel stops before the disk fills)`;
  return '';
}

function send(msg: WorkerMessage): void {
  process.send?.(msg);
}

async function runJob(job: KernelJob): Promise<KernelResult> {
  // storage: disk keeps the kernel's tables in a database file of its own spill folder (DuckDB's
  // compressed blocks), removed with that folder
  const database = job.duckdb.storage === 'disk' ? join(job.duckdb.temp_directory, 'kernel.duckdb') : ':memory:';
  if (database !== ':memory:') mkdirSync(job.duckdb.temp_directory, { recursive: true });
  const instance = await DuckDBInstance.create(database, {
    threads: String(job.duckdb.threads),
    memory_limit: job.duckdb.memory_limit,
    temp_directory: job.duckdb.temp_directory,
    // every output is sorted explicitly before it is written, so scans need not keep their order
    // (which lets DuckDB stream large unordered COPY and CREATE TABLE AS without buffering)
    preserve_insertion_order: 'false',
  });
  const con = await instance.connect();
  // (set here, not among the options above: given with temp_directory at creation, DuckDB 1.5 shows
  // the cap but does not enforce it)
  if (job.duckdb.max_temp_directory_size) await con.run(`SET max_temp_directory_size = ${sqlString(job.duckdb.max_temp_directory_size)}`);
  const steps: KernelResult['steps'] = [];
  let currentStep = 'setup';
  try {
    await prepare(con, job);
    await confine(con, job);
    if (job.kernelKind === 'sql') {
      const script = readFileSync(job.kernelFile, 'utf8');
      const parts = splitSteps(script);
      for (let i = 0; i < parts.length; i++) {
        const step = parts[i]!;
        currentStep = step.name;
        send({ type: 'step', name: step.name, index: i, count: parts.length });
        const t0 = performance.now();
        // one statement at a time, split here: DuckDB's parser (1.5) rejects a multi-statement text,
        // and so extractStatements, when two statements define a window of the same name ("window
        // \"w\" is already defined"), which kernels do; DuckDB numbers an error's lines within the
        // statement, which the statement's first line turns into a line of the kernel file
        for (const stmt of splitStatements(step.sql, step.sqlLine)) {
          try {
            await con.run(stmt.sql);
          } catch (e) {
            const message = (e as Error).message;
            const rel = /LINE (\d+):/.exec(message);
            const at = rel ? stmt.line + Number(rel[1]) - 1 : stmt.line;
            const sandbox = /^Permission Error|disabled (by|through) configuration|while database is running|when enable_external_access is disabled/.test(message);
            const hint = sandbox ? ' (the kernel sandbox: a kernel reads only its declared inputs and writes only its outputs; declare the file as an input in the manifest)' : spillHint(message, job);
            throw new KernelError({ message: `SQL error in step '${step.name}' at ${job.kernelFile.split('/').pop()}:${at}: ${message}${hint}`, step: step.name, ...(sandbox ? { rule: 'sandbox' } : {}) });
          }
        }
        steps.push({ name: step.name, seconds: (performance.now() - t0) / 1000 });
      }
    } else {
      await runTsKernel(con, job, steps, (s) => (currentStep = s));
    }
    currentStep = 'publish';
    send({ type: 'step', name: 'write outputs', index: steps.length, count: steps.length + 1 });
    const t0 = performance.now();
    const result = await writeOutputs(con, job);
    steps.push({ name: 'write outputs', seconds: (performance.now() - t0) / 1000 });
    return { ...result, steps };
  } catch (e) {
    if (e instanceof KernelError) throw e;
    const err = e as NodeJS.ErrnoException & { resource?: string; permission?: string };
    if (err.code === 'ERR_ACCESS_DENIED') throw new KernelError({ message: `${err.message} (${err.permission ?? 'file access'}${err.resource ? ` of ${err.resource}` : ''}: outside the folders a kernel may write)`, step: currentStep, rule: 'sandbox' });
    throw new KernelError({ message: (e as Error).message, step: currentStep });
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

async function prepare(con: DuckDBConnection, job: KernelJob): Promise<void> {
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
async function confine(con: DuckDBConnection, job: KernelJob): Promise<void> {
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

async function relationExists(con: DuckDBConnection, name: string): Promise<boolean> {
  const r = await con.runAndReadAll(`SELECT count(*) AS n FROM information_schema.tables WHERE table_name = ${sqlString(name)}`);
  return Number(r.getRowObjectsJS()[0]?.n ?? 0) > 0;
}

async function writeOutputs(con: DuckDBConnection, job: KernelJob): Promise<Omit<KernelResult, 'steps'>> {
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

/** The context a TypeScript kernel receives (ORCHESTRATOR.md §5). */
export interface TsKernelContext {
  con: DuckDBConnection;
  stateId: string;
  variables: Record<string, unknown>;
  log: (message: string) => void;
  progress: (fraction: number, message?: string) => void;
  step: <T>(name: string, body: () => Promise<T>) => Promise<T>;
}

async function runTsKernel(con: DuckDBConnection, job: KernelJob, steps: KernelResult['steps'], onStep: (s: string) => void): Promise<void> {
  const ts = await import('typescript');
  const source = readFileSync(job.kernelFile, 'utf8');
  const out = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }, fileName: job.kernelFile, reportDiagnostics: true });
  const syntax = (out.diagnostics ?? []).find((d) => d.category === ts.DiagnosticCategory.Error);
  if (syntax) {
    const at = syntax.file && syntax.start !== undefined ? syntax.file.getLineAndCharacterOfPosition(syntax.start) : undefined;
    const where = at ? `${job.kernelFile.split('/').pop()}:${at.line + 1}:${at.character + 1}` : job.kernelFile.split('/').pop();
    throw new KernelError({ message: `TypeScript syntax error at ${where}: ${ts.flattenDiagnosticMessageText(syntax.messageText, ' ')}`, step: 'compile', rule: 'ts-syntax' });
  }
  const js = out.outputText;
  mkdirSync(job.scratchDir, { recursive: true });
  const file = join(job.scratchDir, 'kernel.mjs');
  writeFileSync(file, js);
  const mod = (await import(pathToFileURL(file).href)) as { default?: (ctx: TsKernelContext) => Promise<void>; run?: (ctx: TsKernelContext) => Promise<void> };
  const fn = mod.default ?? mod.run;
  if (typeof fn !== 'function') throw new KernelError({ message: `TypeScript kernel ${job.kernelFile} must export a default function (or 'run')`, rule: 'ts-kernel' });
  const variables: Record<string, unknown> = {};
  for (const v of job.variables) variables[v.name] = v.sqlType === 'JSON' ? JSON.parse(v.value) : v.sqlType === 'VARCHAR' ? v.value : BigInt(v.value);
  let index = 0;
  const ctx: TsKernelContext = {
    con,
    stateId: job.stateId,
    variables,
    log: (message) => send({ type: 'log', level: 'info', message }),
    progress: (fraction, message) => send({ type: 'progress', fraction, message }),
    step: async (name, body) => {
      onStep(name);
      send({ type: 'step', name, index: index++, count: 0 });
      const t0 = performance.now();
      const r = await body();
      steps.push({ name, seconds: (performance.now() - t0) / 1000 });
      return r;
    },
  };
  try {
    await fn(ctx);
  } catch (e) {
    if (e instanceof KernelError) throw e;
    const err = e as NodeJS.ErrnoException & { resource?: string; permission?: string };
    if (err.code === 'ERR_ACCESS_DENIED') {
      throw new KernelError({ message: `TypeScript kernel failed: ${err.message} (ERR_ACCESS_DENIED: ${err.permission ?? 'file access'}${err.resource ? ` of ${err.resource}` : ''}; the kernel sandbox: a TypeScript kernel writes only beneath its build folder, and reads and writes its data through ctx.con)`, rule: 'sandbox' });
    }
    throw new KernelError({ message: `TypeScript kernel failed: ${err.message}` });
  }
}

// Entry point when forked by the orchestrator: one job at a time, for as long as it is kept.
// Run directly with a job file (DAG_DUMP_JOBS), it replays that job and prints its steps' seconds.
if (!process.send && process.argv[2] && import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const job = JSON.parse(readFileSync(process.argv[2], 'utf8')) as KernelJob;
  if (process.argv[3]) job.kernelFile = process.argv[3];
  runJob(job).then(
    (r) => console.log(JSON.stringify({ steps: r.steps, files: r.files.map((f) => ({ file: f.file, rows: f.rows })) }, null, 1)),
    (e: unknown) => { console.error(e instanceof KernelError ? e.failure : e); process.exitCode = 1; },
  );
}
if (process.send) {
  // Orchestrator gone: stop at once, even mid-query (exit() would wait for DuckDB's threads).
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  // Ctrl-C reaches the whole process group: the orchestrator, not each kernel, decides what it
  // means (it marks the run interrupted and kills its kernels), so a kernel ignores it
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  process.on('message', (msg: { type: 'run'; job: KernelJob }) => {
    if (msg.type !== 'run') return;
    runJob(msg.job).then(
      (result) => send({ type: 'done', result }),
      (e: unknown) => send({ type: 'failed', failure: e instanceof KernelError ? e.failure : { message: String((e as Error)?.stack ?? e) } }),
    );
  });
}
