import { InvalidArgumentError, type Command } from 'commander';
import type { RunRequest } from '../exec/prepare.js';
import { profileResolver } from '../fingerprint/lineage.js';
import type { CompiledProject } from '../graph/compile.js';
import { checkOverrides } from '../graph/overrides.js';
import { validateDocumentInputs, validateTableInputs } from '../graph/inputs.js';
import { DagError, Diagnostics } from '../project/diagnostics.js';
import { parseOverride, type Override } from '../project/overrides.js';
import { MAX_SEED } from '../project/names.js';
import { scopeBetween } from '../graph/select.js';
import { refuseEmpty, resolveTargets, targetOptions, typed, type TargetFlags } from './targets.js';
import { runsDirOf } from '../store/runs.js';
import { ValidatedInputs } from '../store/validated.js';

/** A flag's non-negative integer within [min, max], the offending text quoted when it is not. */
export const parseInteger = (name: string, min = 0, max = MAX_SEED) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got '${v}'`);
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got '${v}'`);
  return n;
};

/** The flags that say what a run runs: `dag plan` and `dag run` take the same ones, declared here once. */
export interface RequestFlags extends TargetFlags {
  base?: string;
  cache?: boolean;
  seed?: number;
  scenarios?: string;
  profile?: string;
  set?: string[];
}

/** Declares the request's flags on a command (`plan`, `run`), with one help text for both. */
export function requestOptions(cmd: Command): Command {
  return targetOptions(cmd.argument('[states...]', 'target states (default: all); their upstream is included; the same as --until'))
    .option('--base <run>', 'base run for --from (default: the run labelled last-good, else the newest succeeded run)')
    .option('--no-cache', 'serve nothing from the cache: every state runs (what it makes is still cached)')
    .option('--seed <n>', 'seed (default: dag.yaml defaults.seed)', parseInteger('--seed'))
    .option('--scenarios <list>', 'comma-separated scenario ids (default: dag.yaml defaults.scenarios)')
    .option('--profile <name>', 'read the alternates of a dag.yaml profile in place of the originals')
    .option('--set <file#/pointer=value>', 'put VALUE (YAML: 0.3, true, [1, 2], {a: 1}, text) at the JSON pointer of an input document for this run, as editing the file would; checked against its contract (repeatable)', (v: string, acc: string[] = []) => [...acc, v]);
}

/**
 * The one request builder: target, --until and --from selectors resolved, scenarios split, the
 * profile checked (an unknown one is the same exit-2 diagnostic for plan and run), so that `dag
 * plan` decides over exactly the request `dag run` would execute. --until states are targets.
 */
export function toRequest(cp: CompiledProject, args: string[], flags: RequestFlags): RunRequest {
  profileResolver(cp, flags.profile);
  const overrides = overridesOrFail(cp, (flags.set ?? []).map(parseOverride), flags.profile);
  if (flags.base !== undefined && flags.from === undefined) throw new DagError([{ code: 'base-without-from', file: '(command line)', message: `--base ${flags.base} names the run to stage from, which only --from does`, fix: 'add --from STATE, or drop --base' }]);
  // the two would be read as a union by some and an intersection by others
  if (args.length > 0 && flags.until !== undefined) throw new DagError([{ code: 'targets-and-until', file: '(command line)', message: `target states (${args.join(' ')}) and ${typed('--until', flags.until).join(' ')} both say where the run ends`, fix: 'give those states either as arguments or with --until: both mean each state with what it needs' }]);
  // --scenarios where no state is scenario-scoped would be silently ignored
  if (flags.scenarios !== undefined && ![...cp.states.values()].some((s) => s.scope === 'scenario')) throw new DagError([{ code: 'no-scenario-states', file: '(command line)', message: `--scenarios ${flags.scenarios}: no state of this project is scenario-scoped, so the flag would change nothing`, fix: 'drop --scenarios (or give a state scope: scenario)' }]);
  const resolved = resolveTargets(cp, args, flags);
  const targets = resolved.until ?? resolved.states ?? [];
  if (resolved.from && targets.length > 0 && scopeBetween(cp, resolved.from, targets).size === 0) refuseEmpty([...typed('--from', flags.from), ...(flags.until ? typed('--until', flags.until) : typed('argument', args))], 'nothing would rerun');
  return {
    targets,
    seed: flags.seed,
    scenarios: flags.scenarios !== undefined ? splitList(flags.scenarios, '--scenarios') : undefined,
    profile: flags.profile,
    overrides,
    from: resolved.from,
    base: flags.base,
    noCache: flags.cache === false,
  };
}

/** The overrides, if every one is sound (checkOverrides); else exit 2 listing every problem. */
export function overridesOrFail(cp: CompiledProject, overrides: Override[], profile: string | undefined): Override[] {
  const problems = checkOverrides(cp, overrides, profile);
  if (problems.length) throw new DagError(problems);
  return overrides;
}

/** Input files against their contracts, before a run folder exists; files found valid before are not checked again. */
export async function validateInputsOrFail(cp: CompiledProject): Promise<void> {
  const diags = new Diagnostics();
  const checked = new ValidatedInputs(runsDirOf(cp));
  const memo = { skip: (k: string) => checked.has(cp, k), valid: (k: string) => checked.add(cp, k) };
  validateDocumentInputs(cp, diags, memo);
  await validateTableInputs(cp, diags, memo);
  diags.throwIfAny();
  checked.save();
}

/** `--seeds 42,7,101`: distinct integers. */
export function parseSeeds(text: string): number[] {
  const seeds = text.split(',').map((x) => x.trim());
  const bad = seeds.filter((x) => !/^\d+$/.test(x) || !Number.isSafeInteger(Number(x)));
  if (bad.length || seeds.length === 0) throw new DagError([{ code: 'bad-seeds', file: '(command line)', message: `--seeds takes comma-separated integers from 0 to ${MAX_SEED}, got '${bad[0] ?? text}'` }]);
  const nums = seeds.map(Number);
  if (new Set(nums).size !== nums.length) throw new DagError([{ code: 'bad-seeds', file: '(command line)', message: `--seeds lists a seed twice: '${text}'` }]);
  return nums;
}

/** A comma-separated flag value as its items; an empty list is refused (it would mean "none" silently). */
function splitList(text: string, flag: string): string[] {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new DagError([{ code: 'bad-list', file: '(command line)', message: `${flag} takes a comma-separated list, got '${text}'` }]);
  return items;
}
