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
  const near = cp.order.filter((s) => s.toLowerCase().includes(text.toLowerCase()));
  const all = cp.order.length <= 12 ? cp.order.join(', ') : `${cp.order.slice(0, 12).join(', ')} and ${cp.order.length - 12} more (dag graph lists them)`;
  return { error: `no state '${text}'${near.length ? `; did you mean ${near.slice(0, 5).join(', ')}?` : `; the states are ${all}`}` };
}

/** The targets and everything they need, in execution order (all states when no targets). */
export function selectWithAncestors(cp: CompiledProject, targets: string[]): string[] {
  if (targets.length === 0) return cp.order;
  const keep = new Set(targets);
  for (const t of targets) ancestorsOf(cp, t).forEach((a) => keep.add(a));
  return cp.order.filter((s) => keep.has(s));
}
