/**
 * One delivery of a queued kernel job (ORCHESTRATOR.md §11a): what the coordinator puts on the
 * queue, how a worker moves the job into a folder of its own inside the attempt's folder, and how
 * the coordinator checks what a worker answers before taking it as the kernel's result.
 *
 * Delivery is at least once: a worker that dies or stalls loses its job to another, and both may
 * write at the same time. Each delivery writes beneath its own folder (`<attempt>/w-<token>`), so
 * two never touch the same file, and the coordinator takes only the first answer carrying its
 * token, after rehashing every file it names.
 */
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileSha256 } from '../fingerprint/digest.js';
import type { KernelAnswer, KernelFailure, KernelJob, KernelResult, WorkerMessage } from './job.js';

/** A job on the queue: the fully bound kernel job and where its run expects the outputs. */
export interface QueuedKernel {
  /** This submission's own mark: an answer without it belongs to another submission of the same id. */
  token: string;
  job: KernelJob;
  /** The attempt folder (run/.tmp/<task>): the job's output, scratch and spill paths lie beneath it. */
  attempt: string;
  /** Folders the kernel process may write beneath (the run's .tmp, a configured spill folder). */
  writable: string[];
  /** The run, for the worker's own lines. */
  runId: string;
  /** The coordinator's dag and DuckDB: equal bytes (and the cache key's promise) need a worker on the same ones. */
  versions: { dag: string; duckdb: string };
}

/** Why a worker must not run this job (its dag or DuckDB is not the coordinator's), if so. */
export function versionMismatch(q: QueuedKernel, mine: { dag: string; duckdb: string }): string | undefined {
  if (q.versions.dag === mine.dag && q.versions.duckdb === mine.duckdb) return undefined;
  return `this worker runs dag ${mine.dag} with DuckDB ${mine.duckdb}, the run dag ${q.versions.dag} with DuckDB ${q.versions.duckdb} (the cache key names them: other versions may write other bytes); install the coordinator's versions on the worker's machine`;
}

/** A worker's answer: the kernel's, and the delivery folder its files are in. */
export interface DeliveryAnswer {
  token: string;
  /** Which worker (host:pid) ran it. */
  worker: string;
  delivery: string;
  answer: Exclude<KernelAnswer, 'interrupted'>;
}

/** A step, progress or log line of a running delivery, passed to the coordinator. */
export interface DeliveryMessage {
  token: string;
  message: WorkerMessage;
}

/** The folder a delivery writes beneath. */
export function deliveryDir(attempt: string, delivery: string): string {
  return join(attempt, `w-${delivery.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
}

/**
 * The job as this delivery runs it: every path beneath the attempt folder moved beneath the
 * delivery's (outputs, scratch, spill); a spill folder elsewhere (duckdb.temp_directory) gets a
 * sibling of its own. Inputs (the run's published files, the project's) are untouched.
 */
export function relocateJob(job: KernelJob, attempt: string, delivery: string): KernelJob {
  const move = (p: string) => (p === attempt || p.startsWith(attempt + '/') ? delivery + p.slice(attempt.length) : p);
  const spill = job.duckdb.temp_directory;
  return {
    ...job,
    scratchDir: move(job.scratchDir),
    duckdb: { ...job.duckdb, temp_directory: move(spill) !== spill ? move(spill) : `${spill}-${delivery.split('/').pop()}` },
    outputs: job.outputs.map((o) => ({ ...o, file: move(o.file) })),
  };
}

/**
 * Takes a worker's answer as the kernel's, or says why not: a result's every file must lie in
 * the delivery's output folders, with the size and sha256 it claims (rehashed here, never
 * trusted). Then the delivery's output folders become the attempt's (`<attempt>/out.out<i>`,
 * where a local kernel would have written them), and the result names them there.
 */
export async function acceptDelivery(d: DeliveryAnswer, attempt: string): Promise<{ result: KernelResult } | { failure: KernelFailure }> {
  if ('failure' in d.answer) return d.answer;
  const result = d.answer.result;
  const refuse = (message: string): { failure: KernelFailure } => ({ failure: { message: `the answer of worker ${d.worker} was refused: ${message}`, rule: 'delivery', step: 'write outputs' } });
  const within = relative(attempt, d.delivery);
  if (within === '' || within.startsWith('..') || within.includes(sep)) return refuse(`its folder ${d.delivery} is not a delivery folder of ${attempt}`);
  for (const f of result.files) {
    const rel = relative(d.delivery, f.file);
    if (!/^out\.out\d+$/.test(rel.split(sep)[0] ?? '') || rel.split(sep).includes('..')) return refuse(`${f.file} is outside its output folders`);
    const st = statSync(f.file, { throwIfNoEntry: false });
    if (!st) return refuse(`${f.file} is missing`);
    if (st.size !== f.bytes) return refuse(`${f.file} has ${st.size} bytes, the answer says ${f.bytes}`);
    const actual = await fileSha256(f.file);
    if (actual !== f.sha256) return refuse(`${f.file} hashes to ${actual.slice(0, 12)}, the answer says ${f.sha256.slice(0, 12)}`);
  }
  for (const name of existsSync(d.delivery) ? readdirSync(d.delivery) : []) {
    if (!/^out\.out\d+$/.test(name)) continue;
    rmSync(join(attempt, name), { recursive: true, force: true });
    renameSync(join(d.delivery, name), join(attempt, name));
  }
  rmSync(d.delivery, { recursive: true, force: true });
  const files = result.files.map((f) => ({ ...f, file: join(attempt, relative(d.delivery, f.file)) }));
  return { result: { ...result, files } };
}
