import type { EventBus } from '../exec/events.js';
import { attachLines } from './lines.js';
import type { Terminal } from './live.js';

export type ViewMode = 'live' | 'plain' | 'quiet' | 'json';

/**
 * The terminal's view of a run: `live` redraws the running states and an overall line (log/live.ts);
 * `plain` prints a line per event, for logs and pipes, and `quiet` only problems and the summary
 * (log/lines.ts); `json` prints nothing (the caller prints one JSON summary).
 */
export async function attachView(bus: EventBus, mode: ViewMode, stream: Terminal = process.stdout, problems: { write: (s: string) => unknown } = process.stderr): Promise<{ stop: () => void }> {
  if (mode === 'json') return { stop: () => {} };
  // the live view's terminal libraries are loaded only for a terminal (25 ms of a no-op run otherwise)
  if (mode === 'live') return (await import('./live.js')).attachLive(bus, stream);
  const off = attachLines(bus, mode === 'quiet', (line) => stream.write(line + '\n'), (line) => problems.write(line + '\n'));
  return { stop: off };
}
