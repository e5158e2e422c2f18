/**
 * The kernel process: one per state attempt. It runs the kernel in its own DuckDB database,
 * checks every table output against its contract and writes it to the attempt's temporary area.
 * It never publishes: the orchestrator renames files into place only after it reports success,
 * so a crash here (even a native one) can leave nothing at a published path.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sqlString } from '../contracts/tablecheck.js';
import { KernelError, type KernelJob, type KernelResult, type WorkerMessage } from './job.js';
import { confine, prepare } from './session.js';
import { splitStatements, splitSteps } from './steps.js';
import { runTsKernel } from './ts-kernel.js';
import { writeOutputs } from './write.js';

/** The remedy when a kernel's DuckDB ran out of spill room (its cap, or the disk). */
function spillHint(message: string, job: KernelJob): string {
  if (/max_temp_directory_size/i.test(message)) return ` (the spill cap: duckdb.max_temp_directory_size ${job.duckdb.max_temp_directory_size ?? ''} in dag.yaml; raise it, or duckdb.memory_limit, if the disk has room)`;
  if (/No space left on device/i.test(message)) return ` (the disk under ${job.duckdb.temp_directory} is full: free space, point duckdb.temp_directory at a larger disk, or set duckdb.max_temp_directory_size so a kernel stops before the disk fills)`;
  return '';
}

function send(msg: WorkerMessage): void {
  process.send?.(msg);
}

/** DuckDB closing after the last job's answer was sent: the next job waits for it, the orchestrator does not. */
let closing: Promise<void> = Promise.resolve();

/**
 * Runs a job; `answer` gets its result before DuckDB is closed (closing a database of several GB
 * took up to 2 s at full scale, with every output already written and hashed).
 */
async function runJob(job: KernelJob, answer: (r: KernelResult) => void = () => {}): Promise<KernelResult> {
  await closing;
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
      await runTsKernel(con, job, steps, (s) => (currentStep = s), send);
    }
    currentStep = 'publish';
    send({ type: 'step', name: 'write outputs', index: steps.length, count: steps.length + 1 });
    const t0 = performance.now();
    const result = await writeOutputs(con, job);
    steps.push({ name: 'write outputs', seconds: (performance.now() - t0) / 1000 });
    const done = { ...result, steps };
    answer(done);
    return done;
  } catch (e) {
    if (e instanceof KernelError) throw e;
    const err = e as NodeJS.ErrnoException & { resource?: string; permission?: string };
    if (err.code === 'ERR_ACCESS_DENIED') throw new KernelError({ message: `${err.message} (${err.permission ?? 'file access'}${err.resource ? ` of ${err.resource}` : ''}: outside the folders a kernel may write)`, step: currentStep, rule: 'sandbox' });
    throw new KernelError({ message: (e as Error).message, step: currentStep });
  } finally {
    closing = new Promise((resolve) => setImmediate(() => {
      try {
        con.closeSync();
        instance.closeSync();
      } catch {
        /* the answer is sent; a database that cannot close is dropped with the process */
      }
      resolve();
    }));
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
    runJob(msg.job, (result) => send({ type: 'done', result })).then(
      () => undefined,
      (e: unknown) => send({ type: 'failed', failure: e instanceof KernelError ? e.failure : { message: String((e as Error)?.stack ?? e) } }),
    );
  });
}
