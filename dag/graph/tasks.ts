import { DagError } from '../project/diagnostics.js';
import { PATH_VALUE } from '../project/names.js';
import type { CompiledProject, StateNode } from './compile.js';

/** Values that fill a path template's placeholders. */
export interface PathVars {
  seed?: number;
  scenario_id?: string;
  parameter_hash: string;
  manifest_fingerprint: string;
}

export function fillPath(template: string, vars: PathVars): string {
  return template.replace(/\{([a-z_]+)\}/g, (_m, name: string) => {
    const v = (vars as unknown as Record<string, unknown>)[name];
    if (v === undefined) throw new Error(`path ${template}: no value for {${name}}`);
    // a value never climbs out of its folder, whatever let it through before
    if (!PATH_VALUE.test(String(v))) throw new DagError([{ code: 'unsafe-path-value', file: '(command line)', message: `path ${template}: {${name}} would be '${String(v)}', which is not one safe folder name (letters, digits, . _ = -, not starting with . or -)` }]);
    return String(v);
  });
}

/** One execution of a state in a run: once, or once per scenario for scenario-scoped states. */
export interface Task {
  key: string;
  state: StateNode;
  scenario?: string;
  vars: PathVars;
  /** Keys of the tasks this one needs. */
  deps: string[];
}

export const extensionOf = { parquet: 'parquet', json: 'json', jsonl: 'jsonl' } as const;

/** Run-relative path of the single file an output publishes. */
export function outputFile(dir: string, dataset: string, format: keyof typeof extensionOf): string {
  return `${dir}/${dataset}.${extensionOf[format]}`;
}

/** Expands the selected states into tasks, with their dependencies on other tasks. */
export function buildTasks(cp: CompiledProject, selected: string[], ctx: { seed: number; scenarios: string[]; parameterHash: string; manifestFingerprint: string }): Task[] {
  const tasks: Task[] = [];
  const keysOf = (stateId: string, scenario: string | undefined): string[] => {
    const s = cp.states.get(stateId)!;
    if (s.scope !== 'scenario') return [taskKey(stateId, undefined)];
    return scenario !== undefined ? [taskKey(stateId, scenario)] : ctx.scenarios.map((sc) => taskKey(stateId, sc));
  };
  for (const id of selected) {
    const state = cp.states.get(id)!;
    const scenarios: (string | undefined)[] = state.scope === 'scenario' ? ctx.scenarios : [undefined];
    for (const scenario of scenarios) {
      const deps = new Set<string>();
      cp.graph.forEachInNeighbor(id, (up) => keysOf(up, scenario).forEach((k) => deps.add(k)));
      tasks.push({
        key: taskKey(id, scenario),
        state,
        scenario,
        vars: {
          seed: state.scope === 'world' ? undefined : ctx.seed,
          scenario_id: scenario,
          parameter_hash: ctx.parameterHash,
          manifest_fingerprint: ctx.manifestFingerprint,
        },
        deps: [...deps],
      });
    }
  }
  return tasks;
}

/** The one spelling of a task's key: `6B.S3` for a state run once, `6B.S3@baseline_v1` for one scenario of it. */
export function taskKey(state: string, scenario: string | undefined): string {
  return scenario === undefined ? state : `${state}@${scenario}`;
}
