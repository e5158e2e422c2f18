import type { EventBus } from '../exec/events.js';
import { formatSeconds } from './format.js';
import { eventLines, runEndText, runStartText } from './words.js';

/**
 * A line per event, for logs and pipes (`plain`); or, `quiet`, only failures, failed gates,
 * warnings and the summary. Warnings and failures go to `problem` (stderr), the rest to `print`
 * (stdout): data on stdout, diagnostics on stderr.
 */
export function attachLines(bus: EventBus, quiet: boolean, print: (line: string) => void, problem: (line: string) => void = print): () => void {
  return bus.on((e) => {
    switch (e.type) {
      case 'run-start':
        if (!quiet) print(runStartText(e));
        break;
      case 'task-start':
        if (!quiet) print(`start   ${e.task}${e.estimateSeconds !== undefined ? ` (last time ${formatSeconds(e.estimateSeconds)})` : ''}`);
        break;
      case 'task-step':
        if (!quiet) print(`step    ${e.task}: ${e.step}`);
        break;
      case 'task-log':
        if (!quiet) eventLines(e).forEach(print);
        break;
      case 'task-end':
        // quiet keeps only what went wrong: a failure (with its text) or a gate that did not pass
        if (e.action === 'failed') eventLines(e).forEach(problem);
        else if (!quiet || e.gatePassed === false) eventLines(e).forEach(print);
        break;
      case 'warning':
        eventLines(e).forEach(problem);
        break;
      case 'run-end':
        print('');
        for (const l of runEndText(e)) print(l);
        break;
    }
  });
}
