import type { Command } from 'commander';
import type { CompiledProject } from '../graph/compile.js';
import { scopeBetween, statesOfSegment } from '../graph/select.js';
import { resolveSelectors, SELECTOR_HELP } from '../graph/selectors.js';
import { DagError } from '../project/diagnostics.js';

/** The flags that bound what `plan`, `run`, `graph` and `matrix` cover, as typed (selectors). */
export interface TargetFlags {
  from?: string[];
  until?: string[];
}

/** The same, resolved to state ids (execution order); `states` are the command's state arguments. */
export interface Targets {
  states?: string[];
  from?: string[];
  until?: string[];
}

const repeatable = (v: string, acc: string[] = []) => [...acc, v];

/** Declares --from and --until on a command, with one help text for the four that take them. */
export function targetOptions(cmd: Command): Command {
  return cmd
    .option('--from <state>', 'STATE and everything downstream of it (repeatable: the union): plan and run rerun them and stage every other state from the base run (hard links, digests verified); graph and matrix show only them', repeatable)
    .option('--until <state>', 'STATE and everything upstream of it, nothing downstream (repeatable: the union); with --from, only the states between', repeatable)
    .addHelpText('after', `\nA STATE of an argument, --from or --until is ${SELECTOR_HELP}.`);
}

/** Resolves the state arguments and the target flags; a selector that matches nothing is a usage error. */
export function resolveTargets(cp: CompiledProject, states: readonly string[], flags: TargetFlags): Targets {
  return {
    states: states.length > 0 ? resolveSelectors(cp, states, 'argument') : undefined,
    from: flags.from && resolveSelectors(cp, flags.from, '--from'),
    until: flags.until && resolveSelectors(cp, flags.until, '--until'),
  };
}

/** The flags of a command line as it was typed, for a message: `--from fx.S2 --from fx.S3`. */
export function typed(flag: string, selectors: readonly string[] | undefined): string[] {
  return (selectors ?? []).map((s) => (flag === 'argument' ? s : `${flag} ${s}`));
}

/**
 * The states `graph` and `matrix` show, in execution order: those that every filter given selects
 * (the state arguments, --from's downstream, --until's upstream, --segment).
 */
export function shownStates(cp: CompiledProject, args: readonly string[], flags: TargetFlags & { segment?: string }): { shown: string[]; targets: Targets } {
  const t = resolveTargets(cp, args, flags);
  const picked = new Set(t.states ?? cp.order);
  const between = scopeBetween(cp, t.from, t.until);
  const segment = new Set(statesOfSegment(cp, flags.segment));
  const shown = cp.order.filter((s) => picked.has(s) && between.has(s) && segment.has(s));
  if (shown.length === 0) refuseEmpty([...typed('argument', args), ...typed('--from', flags.from), ...typed('--until', flags.until), ...typed('--segment', flags.segment === undefined ? [] : [flags.segment])], 'there is nothing to show');
  return { shown, targets: t };
}

/** Refuses (exit 2) filters that have no state in common, naming them and what that would mean. */
export function refuseEmpty(filters: string[], consequence: string): never {
  throw new DagError([{ code: 'empty-scope', file: '(command line)', message: `${filters.join(', ')}: no state is selected by all of them, so ${consequence}`, fix: 'widen or drop one of them (dag graph with one of them shows what it selects)' }]);
}
