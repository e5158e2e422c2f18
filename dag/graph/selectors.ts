import { DagError, type Diagnostic } from '../project/diagnostics.js';
import type { CompiledProject } from './compile.js';
import { downstreamOf, resolveStateId, upstreamOf, withinOneEdit } from './select.js';

/**
 * What a state argument or a target flag (`--from`, `--until`) may name, in one grammar:
 *
 * - an id, or a short id only one segment has: `6A.S3`, `S3`
 * - a glob over ids, `*` standing for any text: `6A.*`, `*.S0`
 * - every state of a segment (the id's prefix before its first `.`): `segment:5B`
 * - with a leading `+`, also everything upstream; with a trailing `+`, everything downstream:
 *   `+6A.S3`, `6A.S3+`, `+segment:5B+`
 *
 * A selector that matches nothing is a usage error naming it, with the ids or segments close to it.
 */
export const SELECTOR_HELP = 'a state id, a glob (6A.*), segment:5B, +X (X and its upstream) or X+ (X and its downstream)';

/** The states `text` selects, in execution order; `flag` names where it was written (`--from`, `argument`). */
export function resolveSelector(cp: CompiledProject, text: string, flag: string): string[] {
  const withUpstream = text.startsWith('+');
  const withDownstream = text.length > 1 && text.endsWith('+');
  const core = text.slice(withUpstream ? 1 : 0, withDownstream ? -1 : undefined);
  if (core === '' || core.includes('+')) fail({ code: 'bad-selector', message: `${flag} ${text}: not a selector`, fix: `write ${SELECTOR_HELP}` });
  const matched = matchCore(cp, core, `${flag} ${text}`);
  const keep = new Set(matched);
  if (withUpstream) upstreamOf(cp, matched).forEach((s) => keep.add(s));
  if (withDownstream) downstreamOf(cp, matched).forEach((s) => keep.add(s));
  return cp.order.filter((s) => keep.has(s));
}

/** The union of what several selectors select, in execution order. */
export function resolveSelectors(cp: CompiledProject, texts: readonly string[], flag: string): string[] {
  const keep = new Set(texts.flatMap((t) => resolveSelector(cp, t, flag)));
  return cp.order.filter((s) => keep.has(s));
}

/** The states a selector without its `+` marks names: a segment, a glob or one id. */
function matchCore(cp: CompiledProject, core: string, said: string): string[] {
  const segments = [...new Set(cp.order.map((s) => cp.states.get(s)!.segment))];
  if (core.startsWith('segment:')) {
    const segment = core.slice('segment:'.length);
    const states = cp.order.filter((s) => cp.states.get(s)!.segment === segment);
    if (states.length > 0) return states;
    const sameIgnoringCase = segments.filter((s) => s.toLowerCase() === segment.toLowerCase());
    const near = sameIgnoringCase.length > 0 ? sameIgnoringCase : segments.filter((s) => withinOneEdit(s.toLowerCase(), segment.toLowerCase()));
    fail({ code: 'no-match', message: `${said}: no segment '${segment}'${near.length ? `; did you mean ${near.map((s) => `segment:${s}`).join(', ')}?` : ''} (segments: ${segments.join(', ')})` });
  }
  if (core.includes('*')) {
    const states = cp.order.filter((s) => globOf(core).test(s));
    if (states.length > 0) return states;
    fail({ code: 'no-match', message: `${said}: no state id matches ${core}${nearGlobs(cp, core, segments)} (segments: ${segments.join(', ')})` });
  }
  const r = resolveStateId(cp, core);
  if ('error' in r) fail({ code: 'unknown-state', message: `${said}: ${r.error}` });
  return [r.id];
}

/** `6A.*` as an anchored regular expression: `*` is any text, everything else is itself. */
function globOf(glob: string, flags = ''): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.?+^$()[\]{}|\\]/g, '\\$&')).join('.*')}$`, flags);
}

/** Globs close to one that matched nothing: the same in another case, or with a segment one typo away. */
function nearGlobs(cp: CompiledProject, glob: string, segments: string[]): string {
  const ignoringCase = cp.order.filter((s) => globOf(glob, 'i').test(s));
  if (ignoringCase.length > 0) return `; did you mean ${ignoringCase.slice(0, 5).join(', ')}?`;
  const dot = glob.indexOf('.');
  if (dot <= 0) return '';
  const typed = glob.slice(0, dot).toLowerCase();
  const swapped = segments.filter((s) => withinOneEdit(s.toLowerCase(), typed)).map((s) => s + glob.slice(dot)).filter((g) => cp.order.some((s) => globOf(g).test(s)));
  return swapped.length ? `; did you mean ${swapped.join(', ')}?` : '';
}

function fail(d: Omit<Diagnostic, 'file'>): never {
  throw new DagError([{ file: '(command line)', ...d }]);
}
