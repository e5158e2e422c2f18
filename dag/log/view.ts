import { formatSeconds } from './format.js';
import { failureText, warningText } from './words.js';
import type { EventBus, ExecEvent } from '../exec/events.js';

export type ViewMode = 'live' | 'plain' | 'quiet' | 'json';

interface Running {
  task: string;
  step: string;
  started: number;
  estimate?: number;
  fraction?: number;
}

/**
 * The terminal view of a run, subscribed to executor events. `live` redraws one line per running
 * state (step, elapsed, ETA from the last run's timings); `plain` prints a line per event, for
 * logs and pipes; `quiet` prints only problems and the summary; `json` prints nothing (the caller
 * prints one JSON summary).
 */
export function attachView(bus: EventBus, mode: ViewMode, write: (s: string) => void = (s) => process.stdout.write(s)): { stop: () => void } {
  const running = new Map<string, Running>();
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  const clear = () => {
    if (drawn > 0) write(`\x1b[${drawn}A\x1b[0J`);
    drawn = 0;
  };
  const draw = () => {
    clear();
    const now = performance.now();
    const lines = [...running.values()].map((r) => {
      const el = (now - r.started) / 1000;
      const eta = r.estimate !== undefined ? (r.estimate > el ? `ETA ${formatSeconds(r.estimate - el)}` : `over estimate of ${formatSeconds(r.estimate)}`) : 'no estimate';
      const frac = r.fraction !== undefined ? ` ${Math.round(r.fraction * 100)}%` : '';
      return `  ▶ ${r.task.padEnd(14)} ${r.step.padEnd(18)} ${formatSeconds(el).padStart(7)}  ${eta}${frac}`;
    });
    if (lines.length) write(lines.join('\n') + '\n');
    drawn = lines.length;
  };
  const print = (s: string) => {
    if (mode === 'live') clear();
    write(s + '\n');
    if (mode === 'live') draw();
  };
  if (mode === 'live') timer = setInterval(draw, 250);

  bus.on((e: ExecEvent) => {
    switch (e.type) {
      case 'run-start':
        if (mode === 'live' || mode === 'plain') print(`${e.resumed ? 'resuming' : 'run'} ${e.runId}: ${e.tasks} states, seed ${e.seed}`);
        break;
      case 'task-start':
        running.set(e.task, { task: e.task, step: 'starting', started: performance.now(), estimate: e.estimateSeconds });
        if (mode === 'plain') print(`start  ${e.task}${e.estimateSeconds !== undefined ? ` (last time ${formatSeconds(e.estimateSeconds)})` : ''}`);
        break;
      case 'task-step': {
        const r = running.get(e.task);
        if (r) r.step = e.step;
        if (mode === 'plain') print(`step   ${e.task}: ${e.step}`);
        break;
      }
      case 'task-progress': {
        const r = running.get(e.task);
        if (r) r.fraction = e.fraction;
        break;
      }
      case 'task-log':
        if (mode === 'live' || mode === 'plain') print(`       ${e.task}: ${e.message}`);
        break;
      case 'task-end': {
        running.delete(e.task);
        const gate = e.gatePassed === false ? '  GATE NOT PASSED (no _passed.flag)' : e.gatePassed ? '  gate passed' : '';
        const line = `${e.action.padEnd(7)} ${e.task.padEnd(14)} ${formatSeconds(e.seconds).padStart(7)}  ${e.action === 'ran' ? '' : e.reason}${gate}`;
        if (mode === 'live' || mode === 'plain') print(line.trimEnd());
        else if (mode === 'quiet' && (e.action === 'failed' || e.gatePassed === false)) print(line.trimEnd());
        if (e.action === 'failed' && e.failure && mode !== 'json') print(`        ${failureText(e.failure)}`);
        break;
      }
      case 'warning':
        if (mode !== 'json') print(`warning: ${warningText(e.warning)}`);
        break;
      case 'run-end': {
        if (timer) clearInterval(timer);
        if (mode === 'live') clear();
        if (mode === 'json') break;
        const c = e.counts;
        print(`\n${e.status} in ${formatSeconds(e.seconds)}: ${c.ran} ran, ${c.cached} cached, ${c.staged} staged, ${c.kept} kept, ${c.failed} failed, ${c.skipped} skipped`);
        print(`outputs: ${e.runDir}${e.labels.length ? `  (labels: ${e.labels.join(', ')})` : ''}`);
        break;
      }
    }
  });
  return { stop: () => timer && clearInterval(timer) };
}
