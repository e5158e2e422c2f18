import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { DagError } from '../project/diagnostics.js';
import type { CompiledProject } from './compile.js';

/** Ids of every state reachable downstream of `id` (not including it). */
export function descendantsOf(cp: CompiledProject, id: string): Set<string> {
  return reach(cp, [id], (n, visit) => cp.graph.forEachOutNeighbor(n, visit));
}

/** Ids of every state `id` needs, directly or not (not including it). */
export function ancestorsOf(cp: CompiledProject, id: string): Set<string> {
  return reach(cp, [id], (n, visit) => cp.graph.forEachInNeighbor(n, visit));
}

/** The given states and everything they need, directly or not. */
export function upstreamOf(cp: CompiledProject, ids: Iterable<string>): Set<string> {
  const start = [...ids];
  return new Set([...start, ...reach(cp, start, (n, visit) => cp.graph.forEachInNeighbor(n, visit))]);
}

/** The given states and every state downstream of them. */
export function downstreamOf(cp: CompiledProject, ids: Iterable<string>): Set<string> {
  const start = [...ids];
  return new Set([...start, ...reach(cp, start, (n, visit) => cp.graph.forEachOutNeighbor(n, visit))]);
}

/**
 * The scope of `--from` and `--until`: the states downstream of some --from state (or equal to it)
 * and upstream of some --until state (or equal to it); a side not given leaves every state in.
 */
export function scopeBetween(cp: CompiledProject, from: readonly string[] | undefined, until: readonly string[] | undefined): Set<string> {
  const down = from ? downstreamOf(cp, from) : undefined;
  const up = until ? upstreamOf(cp, until) : undefined;
  return new Set(cp.order.filter((s) => (!down || down.has(s)) && (!up || up.has(s))));
}

function reach(cp: CompiledProject, start: string[], next: (n: string, visit: (m: string) => void) => void): Set<string> {
  const seen = new Set<string>();
  const queue = [...start];
  while (queue.length > 0) {
    next(queue.pop()!, (m) => {
      if (!seen.has(m)) {
        seen.add(m);
        queue.push(m);
      }
    });
  }
  return seen;
}

/**
 * The rerun scope of a change in state `id`, in execution order. A change there reruns `id`;
 * unless `id` has `rerun.scope: self`, it also reruns every dependant whose `rerun.triggers`
 * include `inputs`, transitively (a dependant that ignores input changes stops the spread).
 */
export function rerunScope(cp: CompiledProject, id: string): string[] {
  const hit = new Set<string>([id]);
  if (cp.states.get(id)!.rerun.scope !== 'self') {
    const queue = [id];
    while (queue.length > 0) {
      cp.graph.forEachOutNeighbor(queue.pop()!, (m) => {
        if (hit.has(m) || !cp.states.get(m)!.rerun.triggers.includes('inputs')) return;
        hit.add(m);
        queue.push(m);
      });
    }
  }
  return cp.order.filter((s) => hit.has(s));
}

/** The states a change to a project file reruns: its readers and their rerun scopes. */
export function rerunScopeOfFile(cp: CompiledProject, file: string): string[] {
  // a profile's alternate stands for the file it replaces
  for (const map of Object.values(cp.project.config.profiles)) {
    const original = Object.entries(map).find(([, alt]) => alt === file)?.[0];
    if (original) file = original;
  }
  const hit = new Set<string>();
  for (const s of cp.states.values()) {
    const reads = s.fileInputs.some((f) => f.file === file) && s.rerun.triggers.includes('files');
    const isKernel = s.kernel === file && s.rerun.triggers.includes('kernel');
    if (reads || isKernel) rerunScope(cp, s.id).forEach((x) => hit.add(x));
  }
  if (cp.project.config.kernel_prelude.includes(file)) {
    for (const s of cp.states.values()) if (s.kernel.endsWith('.sql') && s.rerun.triggers.includes('kernel')) rerunScope(cp, s.id).forEach((x) => hit.add(x));
  }
  // a contract is in the key of every state whose outputs it describes
  for (const s of cp.states.values()) if (s.outputs.some((o) => o.schema.split('#')[0] === file)) rerunScope(cp, s.id).forEach((x) => hit.add(x));
  return cp.order.filter((s) => hit.has(s));
}

/**
 * A path as the user typed it (`./config/x.yaml`, absolute, or relative to the current folder)
 * as the project-relative path manifests use; text that names no file there is returned as
 * written (less a leading `./`), since it may be project-relative typed from a subfolder.
 */
export function projectRelative(root: string, text: string, cwd = process.cwd()): string {
  const abs = isAbsolute(text) ? text : resolve(cwd, text);
  const rel = relative(root, abs).split(sep).join('/');
  if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && existsSync(abs)) return rel;
  return text.replace(/^(\.\/)+/, '');
}

/** States of one segment, in execution order; an unknown segment is an error listing the known ones. */
export function statesOfSegment(cp: CompiledProject, segment: string | undefined): string[] {
  if (segment === undefined) return cp.order;
  const states = cp.order.filter((s) => cp.states.get(s)!.segment === segment);
  if (states.length === 0) {
    const known = [...new Set(cp.order.map((s) => cp.states.get(s)!.segment))].join(', ');
    throw new DagError([{ code: 'unknown-segment', file: '(command line)', message: `no segment '${segment}' (segments: ${known})` }]);
  }
  return states;
}

/**
 * Resolves what a user typed to a state id: the exact id, or a short id (`S2`) that names one
 * state in exactly one segment. Returns the candidates when it is ambiguous or unknown.
 */
export function resolveStateId(cp: CompiledProject, text: string): { id: string } | { error: string } {
  if (cp.states.has(text)) return { id: text };
  const matches = cp.order.filter((s) => s.slice(s.indexOf('.') + 1) === text);
  if (matches.length === 1) return { id: matches[0]! };
  if (matches.length > 1) return { error: `'${text}' is ambiguous: it could be ${matches.join(', ')}; write the full id` };
  const lower = text.toLowerCase();
  // ids holding the text, else a full id one typo away (fx.S22 for fx.S2); short ids are too short for that
  const containing = cp.order.filter((s) => s.toLowerCase().includes(lower));
  const near = containing.length > 0 || !text.includes('.') ? containing : cp.order.filter((s) => withinOneEdit(s.toLowerCase(), lower));
  const all = cp.order.length <= 12 ? cp.order.join(', ') : `${cp.order.slice(0, 12).join(', ')} and ${cp.order.length - 12} more (dag graph lists them)`;
  return { error: `no state '${text}'${near.length ? `; did you mean ${near.slice(0, 5).join(', ')}?` : `; the states are ${all}`}` };
}

/** True when `a` becomes `b` by at most one inserted, deleted or replaced character. */
export function withinOneEdit(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const rest = (x: string, skip: number) => x.slice(i + skip);
  return rest(a, 1) === rest(b, 1) || rest(a, 1) === rest(b, 0) || rest(a, 0) === rest(b, 1);
}

/** The targets and everything they need, in execution order (all states when no targets). */
export function selectWithAncestors(cp: CompiledProject, targets: string[]): string[] {
  if (targets.length === 0) return cp.order;
  const keep = new Set(targets);
  for (const t of targets) ancestorsOf(cp, t).forEach((a) => keep.add(a));
  return cp.order.filter((s) => keep.has(s));
}
