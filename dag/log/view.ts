import type { EventBus } from '../exec/events.js';
import { attachLines } from './lines.js';
import { attachLive, type Terminal } from './live.js';

export type ViewMode = 'live' | 'plain' | 'quiet' | 'json';

/**
 * The terminal's view of a run: `live` redraws the running states and an overall line (log/live.ts);
 * `plain` prints a line per event, for logs and pipes, and `quiet` only problems and the summary
 * (log/lines.ts); `json` prints nothing (the caller prints one JSON summary).
 */
export function attachView(bus: EventBus, mode: ViewMode, stream: Terminal = process.stdout): { stop: () => void } {
  if (mode === 'json') return { stop: () => {} };
  if (mode === 'live') return attachLive(bus, stream);
  const off = attachLines(bus, mode === 'quiet', (line) => stream.write(line + '\n'));
  return { stop: off };
}
