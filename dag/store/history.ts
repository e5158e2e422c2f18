import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import type { LedgerEntry } from './runs.js';

const TIMINGS = join('.cache', 'timings.json');

/** The last recorded `ran` seconds per state (kept in runs/.cache/timings.json, one small file). */
export function lastTimings(runsDir: string): Map<string, number> {
  try {
    return new Map(Object.entries(JSON.parse(readFileSync(join(runsDir, TIMINGS), 'utf8')) as Record<string, number>));
  } catch {
    return new Map();
  }
}

/** Records the seconds of every state that ran, for the next run's ETAs and plan estimates. */
export function recordTimings(runsDir: string, entries: LedgerEntry[]): void {
  const ran = entries.filter((e) => e.action === 'ran');
  if (ran.length === 0) return;
  const t = lastTimings(runsDir);
  for (const e of ran) t.set(e.state, e.seconds);
  writeFileAtomic(join(runsDir, TIMINGS), JSON.stringify(Object.fromEntries([...t].sort())));
}
