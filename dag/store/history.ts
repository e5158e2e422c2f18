import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import type { LedgerEntry } from './runs.js';

const TIMINGS = join('.cache', 'timings.json');
/** Runs of a state remembered per profile; the estimate is their median. */
export const KEPT_TIMINGS = 5;

/** The key of a state's timings under a profile (no profile: the project's own inputs). */
const slot = (state: string, profile: string | undefined) => `${state}|${profile ?? ''}`;

/**
 * runs/.cache/timings.json: the seconds of each state's last runs that ran, per (state, profile),
 * newest last. The older form (one number per state, profile unknown) counts as a run without a
 * profile.
 */
function readTimings(runsDir: string): Record<string, number[]> {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(join(runsDir, TIMINGS), 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
  const out: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === 'number') out[k.includes('|') ? k : slot(k, undefined)] = [v];
    else if (Array.isArray(v)) out[k] = v.filter((x): x is number => typeof x === 'number');
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Estimated seconds per state for a run under `profile`: the median of that state's last
 * KEPT_TIMINGS runs under the same profile (a full-world run never sets the dev estimate).
 */
export function lastTimings(runsDir: string, profile?: string): Map<string, number> {
  const out = new Map<string, number>();
  const suffix = `|${profile ?? ''}`;
  for (const [k, xs] of Object.entries(readTimings(runsDir))) if (k.endsWith(suffix) && xs.length > 0) out.set(k.slice(0, -suffix.length), median(xs));
  return out;
}

/** Records the seconds of every state that ran under `profile`, for later ETAs and plan estimates. */
export function recordTimings(runsDir: string, entries: LedgerEntry[], profile?: string): void {
  const ran = entries.filter((e) => e.action === 'ran');
  if (ran.length === 0) return;
  const t = readTimings(runsDir);
  for (const e of ran) {
    const k = slot(e.state, profile);
    t[k] = [...(t[k] ?? []), e.seconds].slice(-KEPT_TIMINGS);
  }
  writeFileAtomic(join(runsDir, TIMINGS), JSON.stringify(Object.fromEntries(Object.entries(t).sort(([a], [b]) => (a < b ? -1 : 1)))));
}
