import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EventBus, ExecEvent } from '../exec/events.js';
import { warningText } from './words.js';

/**
 * logs/run.log: every executor event as one JSON line (`level`, `message` = the event type, the
 * event's fields in snake_case as receipts, `timestamp`), errors with the kernel's text. One buffered append stream per run:
 * nothing on the hot path waits for the disk.
 */
export function attachRunLog(bus: EventBus): { close: () => Promise<void> } {
  let stream: WriteStream | undefined;
  const closing: Promise<void>[] = [];
  const end = (s: WriteStream) => closing.push(new Promise((resolve) => s.end(resolve)));
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
    stream.write(logLine(e) + '\n');
  });
  return {
    close: async () => {
      if (stream) end(stream);
      stream = undefined;
      await Promise.all(closing);
    },
  };
}

/** The JSON line of one event. */
export function logLine(e: ExecEvent): string {
  const level = e.type === 'warning' || (e.type === 'task-log' && e.level === 'warn') ? 'warn' : (e.type === 'task-end' && e.action === 'failed') || (e.type === 'task-log' && e.level === 'error') ? 'error' : e.type === 'task-step' || e.type === 'task-progress' ? 'debug' : 'info';
  const { type, ...fields } = e;
  // the event's own field names only: values such as `estimates` are maps keyed by task ids
  const named = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
  return JSON.stringify({ level, message: type, ...(e.type === 'warning' ? { ...named, text: warningText(e.warning) } : named), timestamp: new Date().toISOString() });
}
