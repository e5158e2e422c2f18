import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EventBus, ExecEvent } from '../exec/events.js';
import { warningText } from './words.js';

/** Lines kept before they are handed to the stream in one write (a no-op run ends thousands of states in one tick). */
const BATCH = 1 << 16;

/**
 * logs/run.log: every executor event as one JSON line (`level`, `message` = the event type, the
 * event's fields in snake_case as receipts, `timestamp`), errors with the kernel's text. One buffered append stream per run:
 * nothing on the hot path waits for the disk. Lines are batched (64 KiB, or the end of the current
 * tick, whichever comes first), so a thousand cached states cost one write, not a thousand.
 */
export function attachRunLog(bus: EventBus): { close: () => Promise<void> } {
  let stream: WriteStream | undefined;
  let pending = '';
  let scheduled = false;
  const closing: Promise<void>[] = [];
  const flush = () => {
    scheduled = false;
    if (stream && pending !== '') stream.write(pending);
    pending = '';
  };
  const end = (s: WriteStream) => {
    flush();
    closing.push(new Promise((resolve) => s.end(resolve)));
  };
  bus.on((e) => {
    if (e.type === 'run-start') {
      if (stream) end(stream);
      const file = join(e.runDir, 'logs', 'run.log');
      mkdirSync(dirname(file), { recursive: true });
      stream = createWriteStream(file, { flags: 'a' });
      // a log that cannot be written (a full disk) never fails the run: the ledger is the record
      stream.on('error', () => undefined);
    }
    if (!stream) return;
    pending += logLine(e) + '\n';
    if (pending.length >= BATCH) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
  return {
    close: async () => {
      if (stream) end(stream);
      stream = undefined;
      await Promise.all(closing);
    },
  };
}

const snakeNames = new Map<string, string>();

/** An event field's name in snake_case, as receipts spell it (memoized: a run logs the same few names thousands of times). */
function snake(k: string): string {
  let s = snakeNames.get(k);
  if (s === undefined) {
    s = k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    snakeNames.set(k, s);
  }
  return s;
}

/** The JSON line of one event. */
export function logLine(e: ExecEvent): string {
  const level = e.type === 'warning' || (e.type === 'task-log' && e.level === 'warn') ? 'warn' : (e.type === 'task-end' && e.action === 'failed') || (e.type === 'task-log' && e.level === 'error') ? 'error' : e.type === 'task-step' || e.type === 'task-progress' ? 'debug' : 'info';
  const line: Record<string, unknown> = { level, message: e.type };
  // the event's own field names only: values such as `estimates` are maps keyed by task ids
  for (const k of Object.keys(e)) if (k !== 'type') line[snake(k)] = (e as unknown as Record<string, unknown>)[k];
  if (e.type === 'warning') line.text = warningText(e.warning);
  line.timestamp = new Date().toISOString();
  return JSON.stringify(line);
}
