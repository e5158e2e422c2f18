import type { CompiledProject } from '../graph/compile.js';
import { selectWithAncestors } from '../graph/select.js';

/**
 * `plan` decides, `exec` acts: this module is pure (no disk, no clock), so that `dag plan` and
 * `dag run` share one staleness rule and it can be tested without touching a disk.
 */
export type Action = 'run' | 'cached' | 'stage';

export interface PlannedState {
  state: string;
  action: Action;
  /** Why: `new`, `kernel changed: …`, `forced: --from …`, … */
  reason: string;
  /** Seconds, from the last recorded timing of this state; undefined when never timed. */
  estimateSeconds?: number;
}

export interface Plan {
  states: PlannedState[];
  counts: Record<Action, number>;
  /** Sum of the estimates of the states that will run (cached and staged cost ~0). */
  estimateSeconds: number;
  /** States with no recorded timing among those that will run. */
  unestimated: number;
}

export interface PlanRequest {
  /** Target states (full ids); empty means every state. */
  targets: string[];
  /** Last recorded seconds per state id. */
  timings?: ReadonlyMap<string, number>;
}

export function planRun(cp: CompiledProject, req: PlanRequest): Plan {
  const selected = selectWithAncestors(cp, req.targets);
  const states: PlannedState[] = selected.map((state) => ({ state, action: 'run', reason: 'new', estimateSeconds: req.timings?.get(state) }));
  return summarize(states);
}

export function summarize(states: PlannedState[]): Plan {
  const counts: Record<Action, number> = { run: 0, cached: 0, stage: 0 };
  let estimateSeconds = 0;
  let unestimated = 0;
  for (const s of states) {
    counts[s.action]++;
    if (s.action !== 'run') continue;
    if (s.estimateSeconds === undefined) unestimated++;
    else estimateSeconds += s.estimateSeconds;
  }
  return { states, counts, estimateSeconds, unestimated };
}
