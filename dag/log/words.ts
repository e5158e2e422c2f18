import type { ExecEvent, RunWarning, TaskFailure } from '../exec/events.js';
import { formatSeconds } from './format.js';

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
    case 'not-promoted': {
      const one = w.stale.length === 1;
      return `not made last-good: ${w.stale.join(', ')} ${one ? 'was' : 'were'} staged from the base although ${one ? 'its' : 'their'} inputs changed since (${one ? `--from ${w.stale[0]}` : 'a run without --from'} recomputes ${one ? 'it' : 'them'})`;
    }
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

/** The line a run's start prints. */
export function runStartText(e: Extract<ExecEvent, { type: 'run-start' }>): string {
  return `${e.resumed ? 'resuming' : 'run'} ${e.runId}: ${e.tasks} states, seed ${e.seed}`;
}

/** The line a task's end prints: action, task, seconds, why, the gate's verdict. */
export function taskEndText(e: Extract<ExecEvent, { type: 'task-end' }>): string {
  const gate = e.gatePassed === false ? 'GATE NOT PASSED (no _passed.flag)' : e.gatePassed ? 'gate passed' : '';
  return `${e.action.padEnd(7)} ${e.task.padEnd(14)} ${formatSeconds(e.seconds).padStart(7)}  ${[e.reason, gate].filter(Boolean).join('; ')}`.trimEnd();
}

/** The two lines a run's end prints: status, time and counts; where its outputs are. */
export function runEndText(e: Extract<ExecEvent, { type: 'run-end' }>): string[] {
  const c = e.counts;
  return [`${e.status} in ${formatSeconds(e.seconds)}: ${c.ran} ran, ${c.cached} cached, ${c.staged} staged, ${c.kept} kept, ${c.failed} failed, ${c.skipped} skipped`, `outputs: ${e.runDir}${e.labels.length ? `  (labels: ${e.labels.join(', ')})` : ''}`];
}

/**
 * The lines an event leaves in the scrollback, the same for the plain and the live view: a
 * kernel's log line, a task's end (and its failure), a warning. Other events print none here.
 */
export function eventLines(e: ExecEvent): string[] {
  switch (e.type) {
    case 'task-log':
      return [`        ${e.task}: ${e.message}`];
    case 'task-end':
      // a failure is said once: its text on the line below, not also as the line's reason
      return e.action === 'failed' && e.failure ? [taskEndText({ ...e, reason: '' }), `        ${failureText(e.failure)}`] : [taskEndText(e)];
    case 'warning':
      return [`warning: ${warningText(e.warning)}`];
    default:
      return [];
  }
}
