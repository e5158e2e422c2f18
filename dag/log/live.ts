import { createLogUpdate } from 'log-update';
import type { EventBus } from '../exec/events.js';
import { formatSeconds } from './format.js';
import { eventLines, runEndText, runStartText } from './words.js';

interface Running {
  step: string;
  started: number;
  estimate?: number;
  fraction?: number;
}

/** A terminal stream: where the live view draws, and how wide it is. */
export type Terminal = NodeJS.WritableStream & { columns?: number; rows?: number };

/**
 * The live terminal view: finished states, warnings and failures scroll above; below them one line
 * per running state (step, elapsed, ETA from its last run) and an overall line (`3/12 states,
 * 2 running, ETA 4m10s`), redrawn by log-update, which counts the lines it wrote. The redrawn
 * lines are clipped to the terminal's width, so none wraps.
 */
export function attachLive(bus: EventBus, stream: Terminal, now: () => number = () => performance.now()): { stop: () => void } {
  // a terminal that reports no size (a pty without a window: `script`, some CI runners) says 0 rows
  // and columns, which log-update takes as "draw nothing": give it a sensible size instead
  const sized = { isTTY: (stream as { isTTY?: boolean }).isTTY, write: (s: string) => stream.write(s), get columns() { return stream.columns || 80; }, get rows() { return stream.rows || 24; } };
  const draw = createLogUpdate(sized as unknown as NodeJS.WriteStream, { showCursor: true });
  const running = new Map<string, Running>();
  let estimates: Record<string, number> = {};
  let total = 0;
  let ended = 0;
  const endedKeys = new Set<string>();
  const clip = (line: string) => {
    const width = Math.max(20, (stream.columns || 80) - 1);
    return line.length <= width ? line : line.slice(0, width - 1) + '…';
  };
  const frame = () => {
    const t = now();
    const lines = [...running].map(([task, r]) => {
      const el = (t - r.started) / 1000;
      const eta = r.estimate !== undefined ? (r.estimate > el ? `ETA ${formatSeconds(r.estimate - el)}` : `over its last ${formatSeconds(r.estimate)}`) : 'never timed';
      const frac = r.fraction !== undefined ? ` ${Math.round(r.fraction * 100)}%` : '';
      return `  ▶ ${task.padEnd(14)} ${r.step.padEnd(18)} ${formatSeconds(el).padStart(7)}  ${eta}${frac}`;
    });
    if (total > 0) lines.push(overall(t));
    draw(lines.map(clip).join('\n'));
  };
  // what is left: each unfinished task's last time, less what a running one has already spent
  const overall = (t: number) => {
    let left = 0;
    for (const [task, est] of Object.entries(estimates)) {
      if (endedKeys.has(task)) continue;
      const r = running.get(task);
      left += r ? Math.max(0, est - (t - r.started) / 1000) : est;
    }
    const unknown = total - ended - Object.keys(estimates).filter((k) => !endedKeys.has(k)).length;
    const timed = total - ended - unknown > 0;
    const eta = [timed && `ETA ${formatSeconds(left)}`, unknown > 0 && `${timed ? '+ ' : ''}${unknown} never timed`].filter(Boolean).join(' ');
    return `${ended}/${total} states, ${running.size} running, ${eta}`;
  };
  const persist = (line: string) => {
    draw.clear();
    stream.write(line + '\n'); // scrolls away, never redrawn: it may wrap (a path stays whole for copying)
    frame();
  };
  const timer = setInterval(frame, 250);
  timer.unref();
  const off = bus.on((e) => {
    switch (e.type) {
      case 'run-start':
        total = e.tasks;
        ended = 0;
        endedKeys.clear();
        estimates = e.estimates;
        persist(runStartText(e));
        break;
      case 'task-start':
        running.set(e.task, { step: 'starting', started: now(), estimate: e.estimateSeconds });
        frame();
        break;
      case 'task-step': {
        const r = running.get(e.task);
        if (r) r.step = e.step;
        break;
      }
      case 'task-progress': {
        const r = running.get(e.task);
        if (r) r.fraction = e.fraction;
        break;
      }
      case 'task-log':
      case 'warning':
        eventLines(e).forEach(persist);
        break;
      case 'task-end':
        running.delete(e.task);
        endedKeys.add(e.task);
        ended++;
        eventLines(e).forEach(persist);
        break;
      case 'run-end':
        draw.clear();
        total = 0;
        stream.write('\n' + runEndText(e).join('\n') + '\n');
        break;
    }
  });
  return {
    stop: () => {
      clearInterval(timer);
      off();
      draw.done();
    },
  };
}
