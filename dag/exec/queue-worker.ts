/**
 * `dag worker`: takes kernel jobs from the queue and runs each as the local pool does (the same
 * kernel processes, worker.ts), in a delivery folder of its own inside the run's attempt folder
 * (delivery.ts), then answers with the kernel's result. It needs no project: a job is fully
 * bound (paths, variables, DuckDB settings). It never publishes, caches or writes a ledger.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { versions } from '../fingerprint/versions.js';
import { deliveryDir, relocateJob, versionMismatch, type DeliveryAnswer, type DeliveryMessage, type QueuedKernel } from './delivery.js';
import { KernelPool } from './pool.js';
import { connectRedis } from './redis.js';

export interface WorkerSettings {
  url: string;
  queue: string;
  /** Kernel jobs at once. */
  concurrency: number;
  /** BullMQ's lock on a running job (renewed at half of it); a worker silent this long has lost its job. */
  lockMs: number;
  /** How often workers look for jobs whose lock lapsed (their worker died) and put them back on the queue. */
  stalledMs: number;
  /** Times a job may lose its worker before the queue fails it. */
  maxStalled: number;
}

/** What a worker does, as facts; the CLI puts them into words. */
export type WorkerEvent =
  | { type: 'ready'; worker: string; queue: string; concurrency: number }
  /** `delivery`: 1, or more when the job's earlier workers died (or stalled) with it. */
  | { type: 'job-start'; id: string; state: string; runId: string; delivery: number }
  | { type: 'job-end'; id: string; state: string; runId: string; outcome: 'done' | 'failed' | 'gone'; seconds: number; message?: string };

/** A running worker: `close()` stops taking jobs and kills its kernels (their jobs go to other workers once their locks lapse). */
export interface KernelWorker {
  readonly name: string;
  close(): Promise<void>;
}

export async function startWorker(s: WorkerSettings, onEvent: (e: WorkerEvent) => void): Promise<KernelWorker> {
  const name = `${hostname()}:${process.pid}`;
  const client: Redis = await connectRedis(s.url);
  const pools = new Pools(s.concurrency);
  let stopping = false;

  const process1 = async (job: Job): Promise<DeliveryAnswer> => {
    const q = job.data as QueuedKernel;
    const t0 = performance.now();
    const base = { id: job.id!, state: q.job.stateId, runId: q.runId };
    const end = (outcome: 'done' | 'failed' | 'gone', message?: string) => onEvent({ type: 'job-end', ...base, outcome, seconds: (performance.now() - t0) / 1000, message });
    // (BullMQ counts the times a job lost its worker; this delivery is the one after those)
    onEvent({ type: 'job-start', ...base, delivery: 1 + (job.stalledCounter ?? 0) });
    // the run made the attempt's folder before it queued the job; without it the run has ended or
    // started over, and nothing is to be written there
    if (!existsSync(q.attempt)) {
      end('gone');
      return { token: q.token, worker: name, delivery: '', answer: { failure: { message: `the attempt folder ${q.attempt} is gone (its run ended or restarted)`, rule: 'delivery' } } };
    }
    const mismatch = versionMismatch(q, versions(process.cwd()));
    if (mismatch) {
      end('failed', mismatch);
      return { token: q.token, worker: name, delivery: '', answer: { failure: { message: mismatch, rule: 'versions' } } };
    }
    const delivery = deliveryDir(q.attempt, `${name}-${randomBytes(4).toString('hex')}`);
    mkdirSync(delivery); // not recursive: inside the attempt folder only
    const local = relocateJob(q.job, q.attempt, delivery);
    const answer = await pools.run(q.writable, local, (message) => {
      const m: DeliveryMessage = { token: q.token, message };
      job.updateProgress(m as unknown as object).catch(() => {});
    });
    rmSync(local.scratchDir, { recursive: true, force: true });
    rmSync(local.duckdb.temp_directory, { recursive: true, force: true });
    if (answer === 'interrupted' || stopping) {
      // this worker is stopping: never answer, so the job's lock lapses and another worker runs it
      return new Promise<never>(() => {});
    }
    end('failure' in answer ? 'failed' : 'done', 'failure' in answer ? answer.failure.message : undefined);
    return { token: q.token, worker: name, delivery, answer };
  };

  const worker = new Worker(s.queue, process1, {
    connection: client,
    concurrency: s.concurrency,
    lockDuration: s.lockMs,
    stalledInterval: s.stalledMs,
    maxStalledCount: s.maxStalled,
    autorun: true,
  });
  worker.on('error', () => {}); // a lost connection is retried by the client; a job's own error is its answer
  await worker.waitUntilReady();
  onEvent({ type: 'ready', worker: name, queue: s.queue, concurrency: s.concurrency });
  return {
    name,
    async close() {
      stopping = true;
      pools.close();
      await Promise.race([worker.close(true), new Promise((r) => setTimeout(r, 2000))]);
      client.disconnect();
    },
  };
}

/**
 * Kernel processes by the folders they may write beneath (one run's .tmp): reused from job to job
 * of a run, as the local pool does, and closed when more runs than `keep` have come since.
 */
class Pools {
  private readonly pools = new Map<string, { pool: KernelPool; busy: number }>();

  constructor(private readonly keep: number) {}

  async run(writable: string[], ...args: Parameters<KernelPool['run']>): ReturnType<KernelPool['run']> {
    const k = writable.join('\0');
    let p = this.pools.get(k);
    if (!p) {
      p = { pool: new KernelPool(), busy: 0 };
      p.pool.confineWrites(writable);
      this.pools.set(k, p);
      for (const [other, q] of this.pools) if (this.pools.size > this.keep && q.busy === 0 && other !== k) (q.pool.close(), this.pools.delete(other));
    }
    this.pools.delete(k);
    this.pools.set(k, p); // most recent last
    p.busy++;
    try {
      return await p.pool.run(...args);
    } finally {
      p.busy--;
    }
  }

  close(): void {
    for (const p of this.pools.values()) p.pool.close();
    this.pools.clear();
  }
}
