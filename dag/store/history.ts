import { listRuns, readLedger } from './runs.js';

/** The last recorded `ran` seconds per state, from the newest runs (bounded look-back). */
export function lastTimings(runsDir: string, lookBack = 20): Map<string, number> {
  const timings = new Map<string, number>();
  for (const run of listRuns(runsDir).slice(0, lookBack)) {
    for (const e of readLedger(run.dir)) {
      if (e.action === 'ran' && !timings.has(e.state)) timings.set(e.state, e.seconds);
    }
  }
  return timings;
}
