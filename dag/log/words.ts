import type { RunWarning, TaskFailure } from '../exec/events.js';

/** A run's warning in words: the one place that turns each fact into a sentence (view, plain lines, plan, --json). */
export function warningText(w: RunWarning): string {
  switch (w.code) {
    case 'staged-stale':
      return `${w.task}: staged from base ${w.base} although its inputs changed since (${w.changes.join('; ')}); --from ${w.state} would recompute it`;
    case 'stale-lock':
      return `took over the stale lock of dead pid ${w.pid} (since ${w.since})`;
    case 'resume-rerun':
      return `${w.task}: ${w.problem}; it reruns`;
    case 'cache-not-served':
      return `${w.task}: cache entry ${w.entry.slice(0, 12)} not served: ${w.problem}; the state reruns`;
  }
}

/** A warning as --json prints it: the fact's fields, and its words. */
export function warningJson(w: RunWarning): RunWarning & { text: string } {
  return { ...w, text: warningText(w) };
}

/** A task's failure in words: its message names the state, and the step, output or rule where one applies. */
export function failureText(f: TaskFailure): string {
  return f.message;
}
