import type { Command } from 'commander';
import type { ProjectConfig } from '../project/schema.js';
import { DEFAULT_QUEUE, redisUrlOf } from '../exec/queue-address.js';
import type { WorkerEvent } from '../exec/queue-worker.js';
import { globalOptions, openRunStore, out } from './context.js';
import { parseInteger } from './request.js';

interface WorkerFlags {
  redis?: string;
  queue?: string;
  concurrency: number;
  lockMs: number;
  stalledMs: number;
  maxStalled: number;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('take kernel jobs from the bullmq queue of `dag run --executor bullmq` and run them (any number of workers, on any machine that mounts the project and runs folder at the same paths)')
    .option('--redis <url>', 'the Redis server of the queue (default: DAG_REDIS_URL, else dag.yaml executor.bullmq.redis)')
    .option('--queue <name>', `the queue (default: dag.yaml executor.bullmq.queue, else ${DEFAULT_QUEUE})`)
    .option('--concurrency <n>', 'kernel jobs at once', parseInteger('--concurrency', 1, 64), 1)
    .option('--lock-ms <ms>', "a running job's lock: a worker silent this long (dead) loses its job to another", parseInteger('--lock-ms', 100, 3_600_000), 30_000)
    .option('--stalled-ms <ms>', 'how often to look for jobs whose worker died', parseInteger('--stalled-ms', 100, 3_600_000), 15_000)
    .option('--max-stalled <n>', 'times a job may lose its worker before the queue fails it', parseInteger('--max-stalled', 1, 100), 3)
    .action(async (flags: WorkerFlags, cmd: Command) => {
      // a worker needs no project; a dag.yaml found here may name the queue
      let config: ProjectConfig | undefined;
      try {
        config = openRunStore(globalOptions(cmd)).config;
      } catch {
        config = undefined;
      }
      const url = redisUrlOf(flags.redis, config?.executor?.bullmq.redis, '(command line)');
      const queue = flags.queue ?? config?.executor?.bullmq.queue ?? DEFAULT_QUEUE;
      const { startWorker } = await import('../exec/queue-worker.js');
      const worker = await startWorker({ url, queue, concurrency: flags.concurrency, lockMs: flags.lockMs, stalledMs: flags.stalledMs, maxStalled: flags.maxStalled }, (e) => out(workerLine(e, url)));
      const stopped = new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      });
      const sig = await stopped;
      out(`worker ${worker.name}: ${sig}, stopping (its running jobs go to other workers)`);
      await worker.close();
      process.exitCode = sig === 'SIGTERM' ? 143 : 130;
    });
}

/** A worker's event in words. */
function workerLine(e: WorkerEvent, url: string): string {
  const short = (id: string) => (id.length > 16 ? id.slice(0, 12) : id);
  if (e.type === 'ready') return `worker ${e.worker} ready: queue ${e.queue} at ${url.replace(/\/\/[^@/]*@/, '//***@')}, ${e.concurrency} at once`;
  if (e.type === 'job-start') return `took ${e.state} (job ${short(e.id)}, run ${e.runId.slice(0, 8)}${e.delivery > 1 ? `, delivery ${e.delivery}` : ''})`;
  const tail = `${e.state} in ${e.seconds.toFixed(1)} s (job ${short(e.id)})`;
  if (e.outcome === 'done') return `done ${tail}`;
  if (e.outcome === 'gone') return `dropped ${tail}: its run is gone`;
  return `failed ${tail}: ${e.message ?? ''}`;
}
