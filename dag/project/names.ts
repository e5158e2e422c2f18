/**
 * Values that become path segments (scenario ids, labels, run ids, seeds) and the flags that carry
 * them: one pattern each, checked before anything touches the disk (ORCHESTRATOR.md, "Bad input").
 */
import { DagError } from './diagnostics.js';

/** A scenario id: a letter or digit, then letters, digits, `_` or `-` (at most 64): never `.`, `/` or `..`. */
export const SCENARIO_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** The largest seed: seeds are exact JSON numbers, and 2^53 - 1 is the last integer a double holds exactly. */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;
/** The most states a run executes at once. */
export const MAX_JOBS = 64;
/** A value filled into an output path template: one safe segment, never a separator or `..`. */
export const PATH_VALUE = /^[A-Za-z0-9][A-Za-z0-9._=-]{0,127}$/;

/** Each scenario id of a `--scenarios` list (or a run request), refused with the offending value quoted. */
export function checkScenarios(ids: string[], where = '--scenarios'): string[] {
  if (ids.length === 0) throw new DagError([{ code: 'bad-scenario', file: '(command line)', message: `${where} names no scenario`, fix: 'give comma-separated scenario ids, for example --scenarios baseline' }]);
  for (const id of ids) {
    if (!SCENARIO_ID.test(id)) {
      throw new DagError([{ code: 'bad-scenario', file: '(command line)', message: `${where}: scenario id '${id}' must be a letter or digit followed by letters, digits, _ or - (at most 64 characters; a scenario id becomes a folder name)`, fix: 'rename the scenario' }]);
    }
  }
  if (new Set(ids).size !== ids.length) throw new DagError([{ code: 'bad-scenario', file: '(command line)', message: `${where} lists a scenario twice: '${ids.join(',')}'` }]);
  return ids;
}

/** A seed: an integer from 0 to MAX_SEED. */
export function checkSeed(seed: number, where = '--seed'): number {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new DagError([{ code: 'bad-seed', file: '(command line)', message: `${where} ${seed} is out of range: a seed is an integer from 0 to ${MAX_SEED} (2^53 - 1)` }]);
  return seed;
}
