import type { CompiledProject } from './compile.js';

export type GraphFormat = 'json' | 'mermaid' | 'dot';

export interface GraphView {
  nodes: { id: string; segment: string; scope: string; kernel: string; gate: boolean; outputs: string[] }[];
  edges: { from: string; to: string; datasets: string[]; gates: string[] }[];
}

/** The graph, or the subgraph of some of its states (edges with both ends among them). */
export function graphView(cp: CompiledProject, states: readonly string[] = cp.order): GraphView {
  const keep = new Set(states);
  const nodes = cp.order
    .filter((id) => keep.has(id))
    .map((id) => {
      const s = cp.states.get(id)!;
      return { id, segment: s.segment, scope: s.scope, kernel: s.kernel, gate: s.gate !== undefined, outputs: s.outputs.map((o) => o.dataset) };
    });
  const edges: GraphView['edges'] = [];
  cp.graph.forEachEdge((_e, attrs, from, to) => {
    if (keep.has(from) && keep.has(to)) edges.push({ from, to, datasets: [...attrs.datasets].sort(), gates: [...attrs.gates].sort() });
  });
  const pos = new Map(cp.order.map((s, i) => [s, i]));
  edges.sort((a, b) => pos.get(a.from)! - pos.get(b.from)! || pos.get(a.to)! - pos.get(b.to)!);
  return { nodes, edges };
}

export function renderGraph(view: GraphView, format: GraphFormat): string {
  if (format === 'json') return JSON.stringify(view, null, 2);
  const label = (e: GraphView['edges'][number]) => [...e.datasets, ...e.gates.map((g) => `gate ${g}`)].join(', ');
  if (format === 'mermaid') {
    const id = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');
    const lines = ['flowchart TD'];
    for (const n of view.nodes) lines.push(`  ${id(n.id)}${n.gate ? `{{"${n.id}"}}` : `["${n.id}"]`}`);
    for (const e of view.edges) lines.push(`  ${id(e.from)} -->|"${label(e)}"| ${id(e.to)}`);
    return lines.join('\n');
  }
  const q = (s: string) => JSON.stringify(s);
  const lines = ['digraph dag {', '  rankdir=TB;', '  node [shape=box];'];
  for (const n of view.nodes) lines.push(`  ${q(n.id)}${n.gate ? ' [shape=hexagon]' : ''};`);
  for (const e of view.edges) lines.push(`  ${q(e.from)} -> ${q(e.to)} [label=${q(label(e))}${e.datasets.length === 0 ? ', style=dashed' : ''}];`);
  lines.push('}');
  return lines.join('\n');
}
