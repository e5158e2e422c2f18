import { join } from 'node:path';
import winston from 'winston';
import type { EventBus } from '../exec/events.js';
import { warningText } from './words.js';

/** logs/run.log: every executor event as a JSON line (winston), errors with the kernel's text. */
export function attachRunLog(bus: EventBus): { close: () => Promise<void> } {
  let logger: winston.Logger | undefined;
  const closing: Promise<void>[] = [];
  const end = (l: winston.Logger) => closing.push(new Promise((resolve) => {
    l.on('finish', () => resolve());
    l.end();
  }));
  bus.on((e) => {
    if (e.type === 'run-start') {
      if (logger) end(logger);
      logger = winston.createLogger({
        level: 'debug',
        format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
        transports: [new winston.transports.File({ filename: join(e.runDir, 'logs', 'run.log') })],
      });
    }
    if (!logger) return;
    const level = e.type === 'warning' || (e.type === 'task-log' && e.level === 'warn') ? 'warn' : (e.type === 'task-end' && e.action === 'failed') || (e.type === 'task-log' && e.level === 'error') ? 'error' : e.type === 'task-step' || e.type === 'task-progress' ? 'debug' : 'info';
    const { type, ...fields } = e;
    logger.log(level, type, e.type === 'warning' ? { ...fields, text: warningText(e.warning) } : fields);
  });
  return {
    close: async () => {
      if (logger) end(logger);
      logger = undefined;
      await Promise.all(closing);
    },
  };
}
