import type { Command } from 'commander';
import { compileProject, type CompiledProject } from '../graph/compile.js';
import { resolveStateId } from '../graph/select.js';
import { DagError, Diagnostics } from '../project/diagnostics.js';
import { loadProject } from '../contracts/project.js';
export { formatSeconds } from '../log/format.js';
export { table, tableWidth, wideOption, type TableLayout } from './table.js';
import { readProjectConfig } from '../project/load.js';
import { findRoot } from '../project/root.js';
import type { ProjectConfig } from '../project/schema.js';
import { runsDirFor } from '../store/runs.js';

export interface GlobalOptions {
  root?: string;
  verbose?: boolean;
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/** Finds, loads and compiles the project; any problem at all is a DagError listing every one. */
export function openProject(opts: GlobalOptions, cwd = process.cwd()): CompiledProject {
  const diags = new Diagnostics();
  const cp = compileInto(opts, diags, cwd);
  diags.throwIfAny();
  return cp!;
}

/**
 * What a command over the runs folder needs (runs, query, diff, label, prune, verify, perf): the
 * root, a valid dag.yaml and its runs folder. A broken manifest does not stop it: runs already
 * made can be read, compared and cleaned while a state is being edited.
 */
export function openRunStore(opts: GlobalOptions, cwd = process.cwd()): { root: string; config: ProjectConfig; runsDir: string } {
  const root = findRoot(cwd, opts.root);
  const diags = new Diagnostics();
  const { config } = readProjectConfig(root, diags);
  diags.throwIfAny();
  return { root, config: config!, runsDir: runsDirFor(root, config!.runs_dir) };
}

/** Compiles the project if it compiles; undefined (and nothing printed) if it does not. */
export function tryOpenProject(opts: GlobalOptions, cwd = process.cwd()): CompiledProject | undefined {
  const diags = new Diagnostics();
  const cp = compileInto(opts, diags, cwd);
  return diags.ok ? cp : undefined;
}

/** Loads and compiles as far as possible, collecting every problem into `diags`. */
export function compileInto(opts: GlobalOptions, diags: Diagnostics, cwd = process.cwd()): CompiledProject | undefined {
  const root = findRoot(cwd, opts.root);
  const project = loadProject(root, diags);
  return project ? compileProject(project, diags) : undefined;
}

export function stateIdOrFail(cp: CompiledProject, text: string): string {
  const r = resolveStateId(cp, text);
  if ('error' in r) throw new DagError([{ code: 'unknown-state', file: '(command line)', message: r.error }]);
  return r.id;
}

/** Writes a line to stdout. */
export function out(text = ''): void {
  process.stdout.write(text + '\n');
}

export function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/** A number for a table: 4 decimals at most, exponent form when very large or small, '-' for none. */
export function formatNumber(v: number | null): string {
  return v === null ? '-' : Math.abs(v) >= 1000 || (Math.abs(v) < 0.001 && v !== 0) ? v.toExponential(3) : Number(v.toFixed(4)).toString();
}

