/**
 * The bullmq executor, the coordinator's side (ORCHESTRATOR.md §11a): each kernel job the
 * scheduler hands over goes on a BullMQ queue under its cache key as job id; `dag worker`
 * processes take it, run the kernel and answer with its result. The coordinator goes on doing
 * everything else (decide, verify, ledger, publish, cache), and takes an answer only once its files
 * verify (delivery.ts).
 */
import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import PQueue from 'p-queue';
import { versions } from '../fingerprint/versions.js';
import { acceptDelivery, type DeliveryAnswer, type DeliveryMessage, type QueuedKernel } from './delivery.js';
import type { KernelAnswer, KernelJob, WorkerMessage } from './job.js';
import { connectRedis } from './redis.js';
import type { Executor, JobAddress, KernelRunner } from './runner.js';

interface Waiter {
  token: string;
  /** The job id it is under (the cache key, or one of its own when another submission holds that). */
  id: string;
  runner: QueueRunner;
  /** Set once the queue was seen holding this submission under its id (before that, a 'failed' of the id is another's). */
  confirmed: boolean;
  onMessage: (m: WorkerMessage) => void;
  settle: (a: DeliveryAnswer | { failure: { message: string; rule: string } } | 'interrupted') => void;
}

export class QueueExecutor implements Executor {
  readonly kind = 'bullmq';
  /** Submissions waiting for their answer, by job id. */
  private readonly waiters = new Map<string, Waiter>();
  /** `--jobs`: kernel jobs in flight at once, over every run of this `dag run`. */
  private readonly slots: PQueue;

  private constructor(
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly clients: Redis[],
    inFlight: number,
  ) {
    this.slots = new PQueue({ concurrency: Math.max(1, inFlight) });
    events.on('completed', ({ jobId, returnvalue }) => {
      const answer = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as DeliveryAnswer | undefined;
      const w = this.waiters.get(jobId);
      if (!w || answer?.token !== w.token) return; // another submission's answer under the same id
      this.waiters.delete(jobId);
      w.settle(answer);
    });
    events.on('failed', ({ jobId, failedReason }) => {
      const w = this.waiters.get(jobId);
      if (!w || !w.confirmed) return;
      this.waiters.delete(jobId);
      // the queue itself gave up (its workers kept dying on it: BullMQ's stalled-job limit)
      w.settle({ failure: { message: `the queue gave up on the job: ${failedReason}`, rule: 'executor' } });
    });
    events.on('progress', ({ jobId, data }) => {
      const w = this.waiters.get(jobId);
      const m = data as unknown as DeliveryMessage;
      if (w && typeof m === 'object' && m?.token === w.token) w.onMessage(m.message);
    });
  }

  /** Connects to the queue `name` at `url` (a server that does not answer is a diagnostic). */
  static async open(url: string, name: string, inFlight: number): Promise<QueueExecutor> {
    const [a, b] = await Promise.all([connectRedis(url), connectRedis(url)]);
    const queue = new Queue(name, { connection: a });
    const events = new QueueEvents(name, { connection: b });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    return new QueueExecutor(queue, events, [a, b], inFlight);
  }

  /** Workers connected to the queue now (BullMQ's CLIENT LIST of its name). */
  async workers(): Promise<number> {
    return (await this.queue.getWorkers()).length;
  }

  forRun(): KernelRunner {
    return new QueueRunner(this);
  }

  /**
   * Puts one job on the queue and waits for its answer. The job id is the cache key: the same work
   * is one job however many runs ask for it. An id the queue already holds for another submission
   * (another coordinator on the same key, or the job of this run's coordinator before a crash) is
   * not taken over: this submission goes under an id of its own.
   */
  submit(runner: QueueRunner, job: KernelJob, onMessage: (m: WorkerMessage) => void, at: JobAddress, data: Omit<QueuedKernel, 'token' | 'job' | 'attempt'>): Promise<KernelAnswer> {
    return this.slots.add(async () => {
      if (runner.closed) return 'interrupted' as const;
      const token = randomBytes(8).toString('hex');
      let settle!: Waiter['settle'];
      const answered = new Promise<Parameters<Waiter['settle']>[0]>((resolve) => (settle = resolve));
      const base = at.id.replace(/:/g, '_'); // BullMQ keeps ':' for its own key names
      const waiter: Waiter = { token, id: base, runner, confirmed: false, onMessage, settle };
      runner.pending.add(waiter);
      for (;;) {
        const id = waiter.id;
        this.waiters.set(id, waiter);
        const queued: QueuedKernel = { token, job, attempt: at.attempt, ...data };
        await this.queue.add(job.stateId, queued, { jobId: id, removeOnComplete: true, removeOnFail: true, attempts: 1 });
        const there = await this.queue.getJob(id);
        if ((there?.data as QueuedKernel | undefined)?.token === token) {
          waiter.confirmed = true;
          break;
        }
        if (this.waiters.get(id) !== waiter) break; // answered already (a very quick job, removed on completion)
        this.waiters.delete(id);
        if (runner.closed) break;
        if (there) waiter.id = `${base}.${token}`; // held by another submission: ours under an id of its own
        // else: the id's job ended between our add (then a no-op) and the look; add again
      }
      const answer = await answered;
      runner.pending.delete(waiter);
      if (answer === 'interrupted') {
        await this.queue.remove(waiter.id).catch(() => 0); // a job no worker took yet is dropped; a running one ends unread
        return 'interrupted' as const;
      }
      if ('token' in answer) return acceptDelivery(answer, at.attempt);
      return answer;
    }) as Promise<KernelAnswer>;
  }

  /** Forgets a runner's waiting submissions: each answers 'interrupted'. */
  interrupt(runner: QueueRunner): void {
    for (const w of runner.pending) {
      if (this.waiters.get(w.id) === w) this.waiters.delete(w.id);
      w.settle('interrupted');
    }
  }

  async close(): Promise<void> {
    this.slots.clear();
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    for (const c of this.clients) c.disconnect();
  }
}

/** One run's view of the queue: its submissions, which closing it interrupts. */
class QueueRunner implements KernelRunner {
  closed = false;
  readonly pending = new Set<Waiter>();
  private writable: string[] = [];

  constructor(private readonly executor: QueueExecutor) {}

  confineWrites(folders: string[]): void {
    this.writable = folders;
  }

  run(job: KernelJob, onMessage: (m: WorkerMessage) => void, at: JobAddress): Promise<KernelAnswer> {
    if (this.closed) return Promise.resolve('interrupted');
    const { dag, duckdb } = versions(process.cwd());
    return this.executor.submit(this, job, onMessage, at, { writable: this.writable, runId: at.runId, versions: { dag, duckdb } });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.executor.interrupt(this);
  }
}
