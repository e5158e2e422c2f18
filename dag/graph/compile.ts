import { realpathSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import graphology from 'graphology';
import type { ContractRegistry } from '../contracts/registry.js';
import { Diagnostics, type Diagnostic } from '../project/diagnostics.js';
import type { Manifest } from '../project/load.js';
import type { Project } from '../contracts/project.js';
import type { FileInput, OutputSpec, Scope, Trigger } from '../project/schema.js';

const { DirectedGraph } = graphology;

/** A state after compilation: its manifest with defaults filled in and names resolved. */
export interface StateNode {
  id: string;
  segment: string;
  manifest: Manifest;
  scope: Scope;
  /** Project-relative path of the kernel file. */
  kernel: string;
  datasetInputs: string[];
  fileInputs: (FileInput & { as: string })[];
  outputs: OutputSpec[];
  gate?: { path: string; index: string };
  requiresPass: string[];
  rerun: { scope: 'downstream' | 'self'; triggers: Trigger[] };
  budgetSeconds?: number;
  /** Views `dag query` defines over a run that published this state's outputs. */
  views: { name: string; description?: string; sql: string }[];
}

export interface EdgeAttrs {
  /** Datasets flowing along the edge; empty for a pure gate edge. */
  datasets: string[];
  /** Segments whose HashGate the edge stands for (`requires_pass`). */
  gates: string[];
}

export type StateGraph = InstanceType<typeof DirectedGraph<{ state: StateNode }, EdgeAttrs>>;

/** The compiled project: the DAG plus lookups. Built once; everything downstream reads it. */
export interface CompiledProject {
  project: Project;
  graph: StateGraph;
  states: Map<string, StateNode>;
  /** Deterministic topological order (Kahn, ties by state id). */
  order: string[];
  /** dataset id -> producing state id */
  producers: Map<string, string>;
  /** segment -> its gate state id */
  gates: Map<string, string>;
}

const placeholdersByScope: Record<Scope, string[]> = {
  world: ['parameter_hash', 'manifest_fingerprint'],
  seed: ['seed', 'parameter_hash', 'manifest_fingerprint'],
  scenario: ['seed', 'scenario_id', 'parameter_hash', 'manifest_fingerprint'],
};

export function segmentOf(stateId: string): string {
  return stateId.slice(0, stateId.indexOf('.'));
}

/** Compiles manifests into the DAG, running every compile-time check of ORCHESTRATOR.md §3. */
export function compileProject(project: Project, diags: Diagnostics): CompiledProject {
  const states = new Map<string, StateNode>();
  const producers = new Map<string, string>();
  const viewOwners = new Map<string, string>();
  const gates = new Map<string, string>();
  const outputPathOwner = new Map<string, string>();
  const duplicateOutputs = new Set<string>();
  const { root, contracts } = project;
  const brokenDatasets = new Set(project.broken.flatMap((b) => b.datasets));
  const brokenGateSegments = new Set(project.broken.filter((b) => b.gate && b.id?.includes('.')).map((b) => segmentOf(b.id!)));
  // a thousand states reading one prior check its file once, not a thousand times
  const files = new FileChecks(root, project.stateFiles);

  for (const m of project.manifests) {
    const d = m.data;
    // `line` is a getter: the line map is only built when a diagnostic is actually made
    const at = (path: (string | number)[]) => ({
      file: m.file,
      get line() {
        return m.source.lineOf(path);
      },
      pointer: '/' + path.join('/'),
    });
    const prior = states.get(d.id);
    if (prior) {
      d.outputs.forEach((o) => duplicateOutputs.add(o.dataset));
      diags.add({ code: 'duplicate-state-id', ...at(['id']), message: `state id '${d.id}' is also declared in ${prior.manifest.file}`, fix: 'give each state a unique <segment>.<state> id' });
      continue;
    }
    const node: StateNode = {
      id: d.id,
      segment: segmentOf(d.id),
      manifest: m,
      scope: d.scope,
      kernel: posix.join(m.dir, d.kernel),
      datasetInputs: [],
      fileInputs: [],
      outputs: d.outputs,
      gate: d.gate,
      requiresPass: d.requires_pass,
      rerun: d.rerun,
      budgetSeconds: d.budget_seconds,
      views: d.views,
    };
    states.set(d.id, node);

    if (node.kernel.startsWith('../') || node.kernel.startsWith('/')) diags.add({ code: 'kernel-outside', ...at(['kernel']), message: `kernel ${d.kernel} resolves to ${node.kernel}, outside the project`, fix: 'keep kernels beside their manifests, under states/' });
    else if (!files.isFile(node.kernel)) diags.add({ code: 'missing-kernel', ...at(['kernel']), message: `kernel file does not exist: ${node.kernel}`, fix: `create ${node.kernel} or correct 'kernel'` });

    const names = new Map<string, number>();
    d.inputs.forEach((input, i) => {
      if ('dataset' in input) {
        node.datasetInputs.push(input.dataset);
        names.set(input.dataset, i);
        return;
      }
      const as = input.as ?? posix.basename(input.file).replace(/\.[^.]*$/, '');
      if (names.has(as)) diags.add({ code: 'duplicate-input-name', ...at(['inputs', i]), message: `input name '${as}' is used twice in this state`, fix: "set a distinct 'as'" });
      names.set(as, i);
      node.fileInputs.push({ ...input, as });
      if (!files.isFile(input.file)) diags.add({ code: 'missing-file', ...at(['inputs', i, 'file']), message: `input file does not exist: ${input.file}` });
      else {
        const outside = files.escapesProject(input.file);
        if (outside) diags.add({ code: 'symlink-outside', ...at(['inputs', i, 'file']), message: `input file ${input.file} resolves to '${outside}', outside the project (a symlink): a run reads only the project's own files`, fix: 'copy the file into the project instead of linking it' });
      }
      if (input.schema) refProblems(contracts, input.schema, at(['inputs', i, 'schema'])).forEach((p) => diags.add(p));
      if (input.keys && !/\.(ya?ml|json)$/.test(input.file)) diags.add({ code: 'input-keys', ...at(['inputs', i, 'keys']), message: `keys: names parts of a YAML or JSON document, but ${input.file} is not one`, fix: 'drop keys, or point it at a .yaml / .json input' });
    });

    d.views.forEach((v, i) => {
      const owner = viewOwners.get(v.name);
      if (owner) diags.add({ code: 'duplicate-view', ...at(['views', i, 'name']), message: `view '${v.name}' is also declared by ${owner}`, fix: 'each view name is declared once in the project' });
      else viewOwners.set(v.name, d.id);
    });

    const allowed = placeholdersByScope[d.scope];
    d.outputs.forEach((o, i) => {
      const owner = producers.get(o.dataset);
      if (owner) diags.add({ code: 'duplicate-output', ...at(['outputs', i, 'dataset']), message: `dataset '${o.dataset}' is also written by ${owner}`, fix: 'each dataset has exactly one producing state' });
      else producers.set(o.dataset, d.id);
      const pathOwner = outputPathOwner.get(o.path);
      if (pathOwner && pathOwner !== d.id) diags.add({ code: 'shared-output-path', ...at(['outputs', i, 'path']), message: `output path is also used by ${pathOwner}; two states cannot publish into one folder` });
      else outputPathOwner.set(o.path, d.id);
      placeholderProblems(o.path, allowed, d.scope, at(['outputs', i, 'path'])).forEach((p) => diags.add(p));
      const problems = refProblems(contracts, o.schema, at(['outputs', i, 'schema']));
      problems.forEach((p) => diags.add(p));
      if (problems.length === 0 && !contracts.inUnreadableFile(o.schema)) {
        const kind = contracts.kindOf(o.schema);
        if (o.format === 'json' && kind === 'table') diags.add({ code: 'schema-kind', ...at(['outputs', i, 'schema']), message: `a json output needs a JSON Schema, but ${o.schema} is a table schema` });
        if (o.format !== 'json' && kind !== 'table') diags.add({ code: 'schema-kind', ...at(['outputs', i, 'schema']), message: `a ${o.format} output needs a table schema (type: table), but ${o.schema} is a JSON Schema` });
        if (kind === 'table' && o.order_by) {
          const cols = contracts.table(o.schema).columns;
          o.order_by.forEach((c, j) => {
            if (!(c in cols)) diags.add({ code: 'order-by-column', ...at(['outputs', i, 'order_by', j]), message: `order_by column '${c}' is not in ${o.schema}` });
          });
        }
      }
    });

    if (d.gate) {
      placeholderProblems(d.gate.path, allowed, d.scope, at(['gate', 'path'])).forEach((p) => diags.add(p));
      if (!d.outputs.some((o) => o.path === d.gate!.path)) diags.add({ code: 'gate-without-bundle', ...at(['gate', 'path']), message: 'no output of this state is published at gate.path, so the bundle would be empty', fix: 'publish the validation outputs at the gate path' });
      const other = gates.get(node.segment);
      if (other) diags.add({ code: 'duplicate-gate', ...at(['gate']), message: `segment ${node.segment} already has a gate state: ${other}`, fix: 'one state per segment seals it' });
      else gates.set(node.segment, d.id);
    }
  }

  const owners = [...outputPathOwner].sort(([a], [b]) => (a < b ? -1 : 1));
  for (let i = 0; i < owners.length; i++) {
    for (let j = i + 1; j < owners.length && owners[j]![0].startsWith(owners[i]![0]); j++) {
      const [outer, outerState] = owners[i]!;
      const [inner, innerState] = owners[j]!;
      if (inner.startsWith(outer + '/') && outerState !== innerState) {
        const m = states.get(innerState)!.manifest;
        const k = m.data.outputs.findIndex((o) => o.path === inner);
        diags.add({ code: 'nested-output-path', file: m.file, line: m.source.lineOf(['outputs', k, 'path']), pointer: `/outputs/${k}/path`, message: `output path lies inside ${outerState}'s output folder ${outer}; each state publishes whole folders of its own` });
      }
    }
  }

  for (const node of states.values()) {
    node.views.forEach((v, i) => {
      const producer = producers.get(v.name);
      if (producer) diags.add({ code: 'view-shadows-dataset', file: node.manifest.file, line: node.manifest.source.lineOf(['views', i, 'name']), pointer: `/views/${i}/name`, message: `view '${v.name}' has the name of a dataset ${producer} writes`, fix: 'give the view a name of its own' });
    });
  }
  const graph: StateGraph = new DirectedGraph();
  for (const [id, node] of states) graph.addNode(id, { state: node });
  const link = (from: string, to: string, dataset?: string, gate?: string) => {
    if (graph.hasEdge(from, to)) {
      const a = graph.getEdgeAttributes(from, to);
      if (dataset) a.datasets.push(dataset);
      if (gate) a.gates.push(gate);
    } else graph.addEdge(from, to, { datasets: dataset ? [dataset] : [], gates: gate ? [gate] : [] });
  };
  for (const [id, node] of states) {
    const m = node.manifest;
    m.data.inputs.forEach((input, i) => {
      if (!('dataset' in input)) return;
      const producer = producers.get(input.dataset);
      if (!producer && (brokenDatasets.has(input.dataset) || duplicateOutputs.has(input.dataset))) return; // its producer's manifest is already reported
      if (!producer) diags.add({ code: 'unknown-dataset', file: m.file, line: m.source.lineOf(['inputs', i, 'dataset']), pointer: `/inputs/${i}/dataset`, message: `input dataset '${input.dataset}' is written by no state`, fix: 'declare it as an output of some state, or correct the name' });
      else if (producer === id) diags.add({ code: 'cycle', file: m.file, line: m.source.lineOf(['inputs', i, 'dataset']), pointer: `/inputs/${i}/dataset`, message: `cycle: ${id} reads its own output '${input.dataset}'` });
      else {
        const from = states.get(producer)!.scope;
        if (scopeRank[from] > scopeRank[node.scope]) {
          diags.add({ code: 'scope-mismatch', file: m.file, line: m.source.lineOf(['inputs', i, 'dataset']), pointer: `/inputs/${i}/dataset`, message: `a ${node.scope}-scoped state cannot read '${input.dataset}', which is ${from}-scoped (its outputs would not vary with what they read)`, fix: `make ${id} ${from}-scoped` });
        }
        link(producer, id, input.dataset);
      }
    });
    node.requiresPass.forEach((seg, i) => {
      const gateState = gates.get(seg);
      if (!gateState && brokenGateSegments.has(seg)) return;
      if (!gateState) diags.add({ code: 'unknown-gate', file: m.file, line: m.source.lineOf(['requires_pass', i]), pointer: `/requires_pass/${i}`, message: `requires_pass names segment '${seg}', which has no state with a gate`, fix: `add a gate block to ${seg}'s sealing state, or correct the segment` });
      else if (gateState === id) diags.add({ code: 'cycle', file: m.file, line: m.source.lineOf(['requires_pass', i]), pointer: `/requires_pass/${i}`, message: `cycle: ${id} requires its own segment's gate` });
      else {
        // a gate passed per scenario cannot be verified by a state that runs once for all scenarios:
        // which scenario's flag? (A world-scoped state may require a seed-scoped gate: a run has one seed.)
        const from = states.get(gateState)!.scope;
        if (from === 'scenario' && node.scope !== 'scenario') {
          diags.add({ code: 'scope-mismatch', file: m.file, line: m.source.lineOf(['requires_pass', i]), pointer: `/requires_pass/${i}`, message: `a ${node.scope}-scoped state cannot require segment '${seg}', whose gate ${gateState} is ${from}-scoped (it passes once per ${from})`, fix: `make ${id} ${from}-scoped` });
        }
        link(gateState, id, undefined, seg);
      }
    });
  }

  // an empty project would "succeed" at doing nothing
  if (project.manifests.length === 0 && project.broken.length === 0) diags.add({ code: 'empty-project', file: 'states/', message: 'the project has no states: no manifest (states/**/*.yaml) was found', fix: 'write a state manifest under states/ (docs/writing-a-pipeline.md)' });
  const order = topoOrder(graph, diags);
  return { project, graph, states, order, producers, gates };
}

const scopeRank: Record<Scope, number> = { world: 0, seed: 1, scenario: 2 };

/** The file-system questions the compiler asks, each answered once per path. */
class FileChecks {
  private readonly files = new Map<string, boolean>();
  private readonly escapes = new Map<string, string | undefined>();
  private realRoot?: string;

  /** `listed`: plain files already seen when the manifests were listed. */
  constructor(private readonly root: string, private readonly listed: ReadonlySet<string> = new Set()) {}

  isFile(rel: string): boolean {
    if (this.listed.has(rel)) return true;
    let v = this.files.get(rel);
    if (v === undefined) {
      v = statSync(posix.join(this.root, rel), { throwIfNoEntry: false })?.isFile() ?? false;
      this.files.set(rel, v);
    }
    return v;
  }

  /** Where `rel` really is when a symlink on its way leads outside the project; undefined when inside. */
  escapesProject(rel: string): string | undefined {
    if (this.escapes.has(rel)) return this.escapes.get(rel);
    this.realRoot ??= realpathSync(this.root);
    const target = realpathSync(posix.join(this.root, rel));
    const v = target === this.realRoot || target.startsWith(this.realRoot + '/') ? undefined : target;
    this.escapes.set(rel, v);
    return v;
  }
}

function refProblems(contracts: ContractRegistry, ref: string, site: { file: string; line?: number; pointer: string }): Diagnostic[] {
  return contracts.check(ref, site);
}

function placeholderProblems(template: string, allowed: string[], scope: Scope, site: { file: string; line?: number; pointer: string }): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const m of template.matchAll(/\{([^}]*)\}/g)) {
    const name = m[1]!;
    if (!allowed.includes(name)) {
      out.push({ code: 'path-placeholder', ...site, message: `path uses {${name}}, which a ${scope}-scoped state does not define`, fix: `use only ${allowed.map((a) => `{${a}}`).join(', ')}, or change scope` });
    }
  }
  return out;
}

/** Kahn's algorithm with ties broken by id; a cycle becomes a diagnostic that prints it. */
function topoOrder(graph: StateGraph, diags: Diagnostics): string[] {
  const indegree = new Map<string, number>();
  graph.forEachNode((n) => indegree.set(n, graph.inDegree(n)));
  const ready = new MinHeap();
  for (const [n, d] of indegree) if (d === 0) ready.push(n);
  const order: string[] = [];
  while (ready.size > 0) {
    const n = ready.pop();
    order.push(n);
    graph.forEachOutNeighbor(n, (m) => {
      const d = indegree.get(m)! - 1;
      indegree.set(m, d);
      if (d === 0) ready.push(m);
    });
  }
  if (order.length < graph.order) {
    const cycle = findCycle(graph, new Set(order));
    const first = graph.getNodeAttributes(cycle[0]!).state.manifest;
    const closing = graph.getEdgeAttributes(cycle[cycle.length - 1]!, cycle[0]!);
    const where = closing.datasets.length
      ? ['inputs', first.data.inputs.findIndex((x) => 'dataset' in x && x.dataset === closing.datasets[0])]
      : ['requires_pass', first.data.requires_pass.indexOf(closing.gates[0]!)];
    const hops = cycle.map((n, i) => {
      const next = cycle[(i + 1) % cycle.length]!;
      const e = graph.getEdgeAttributes(n, next);
      const via = [...e.datasets, ...e.gates.map((g) => `gate ${g}`)].join(', ');
      return `${n} -(${via})->`;
    });
    diags.add({ code: 'cycle', file: first.file, line: first.source.lineOf(where), pointer: '/' + where.join('/'), message: `cycle: ${hops.join(' ')} ${cycle[0]}`, fix: 'a state cannot depend, directly or through others, on its own outputs' });
  }
  return order;
}

/** The smallest id first (a binary heap: the order is O(E + V log V), not quadratic in the ready states). */
class MinHeap {
  private readonly a: string[] = [];

  get size(): number {
    return this.a.length;
  }

  push(x: string): void {
    const a = this.a;
    a.push(x);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (a[p]! <= a[i]!) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }

  pop(): string {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]! < a[m]!) m = l;
        if (r < a.length && a[r]! < a[m]!) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}

function findCycle(graph: StateGraph, done: Set<string>): string[] {
  const color = new Map<string, 'grey' | 'black'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    color.set(n, 'grey');
    stack.push(n);
    for (const m of graph.outNeighbors(n).sort()) {
      if (done.has(m)) continue;
      if (color.get(m) === 'grey') return stack.slice(stack.indexOf(m));
      if (!color.has(m)) {
        const c = visit(m);
        if (c) return c;
      }
    }
    stack.pop();
    color.set(n, 'black');
    return undefined;
  };
  for (const n of graph.nodes().filter((x) => !done.has(x)).sort()) {
    if (!color.has(n)) {
      const c = visit(n);
      if (c) return c;
    }
  }
  return [];
}
