import { Redis } from 'ioredis';
import { DagError, EXIT } from '../project/diagnostics.js';

/**
 * A client of the Redis at `url` that answered a PING within `timeoutMs`: an unreachable server
 * is a diagnostic at once, not a run waiting on a queue nobody can reach. BullMQ needs
 * maxRetriesPerRequest null (its blocking commands wait as long as they must).
 */
export async function connectRedis(url: string, timeoutMs = 5000): Promise<Redis> {
  const client = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  client.on('error', () => {}); // reconnects on its own; a server never reached is the ping's failure below
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
    ]);
    return client;
  } catch (e) {
    client.disconnect();
    throw new DagError([{ code: 'redis-unreachable', file: url, message: `cannot reach Redis at ${url}: ${(e as Error).message}`, fix: 'start the server (redis-server), or point DAG_REDIS_URL at one' }], EXIT.refused);
  } finally {
    clearTimeout(timer);
  }
}
