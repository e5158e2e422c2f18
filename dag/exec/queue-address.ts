import { DagError } from '../project/diagnostics.js';

/** The queue's name when dag.yaml names none. */
export const DEFAULT_QUEUE = 'dag-kernels';

/** Where the queue is: `--redis`, else DAG_REDIS_URL, else dag.yaml `executor.bullmq.redis`. */
export function redisUrlOf(flag: string | undefined, configured: string | undefined, where: string): string {
  const url = flag ?? process.env.DAG_REDIS_URL ?? configured;
  if (url === undefined) throw new DagError([{ code: 'no-redis', file: where, message: 'the bullmq executor needs a Redis server, and none is named', fix: 'set DAG_REDIS_URL=redis://host:6379 (or dag.yaml executor: {bullmq: {redis: redis://host:6379}}, or --redis for dag worker)' }]);
  if (!/^rediss?:\/\/[^\s]+$/.test(url)) throw new DagError([{ code: 'bad-redis-url', file: where, message: `a Redis URL is redis://[user:password@]host[:port][/db] (or rediss://), got '${url}'` }]);
  return url;
}
