import dagre from '@dagrejs/dagre';
import type { GraphView } from '../graph/render.js';

/** A state's box, or a collapsed segment's, centred at (x, y). */
export interface PlacedNode {
  id: string;
  segment: string;
  /** A collapsed segment drawn as one box standing for its states. */
  collapsed: boolean;
  /** Gate states (and collapsed segments holding one) are drawn as hexagons. */
  gate: boolean;
  /** The states a collapsed box stands for; the state itself otherwise. */
  states: string[];
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A segment's frame around its states (expanded segments only), top-left corner at (x, y). */
export interface PlacedSegment {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge {
  from: string;
  to: string;
  /** The datasets (and `gate S`) the edge carries. */
  label: string;
  points: { x: number; y: number }[];
  /** A pure gate edge (requires_pass): drawn dashed. */
  gateOnly: boolean;
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  segments: PlacedSegment[];
  edges: PlacedEdge[];
}

/** Width of a box for a label: text of ~7 px a character, with a margin. */
const boxWidth = (text: string) => Math.max(70, 7.2 * text.length + 24);
const NODE_HEIGHT = 30;
const MARGIN = 16;

/**
 * The graph laid out top to bottom by dagre, each segment a cluster; a segment named in
 * `collapsed` is one box standing for all its states, and the edges in and out of it are merged.
 * Pure: the same view and set give the same layout.
 */
export function layoutGraph(view: GraphView, collapsed: ReadonlySet<string> = new Set()): GraphLayout {
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: false });
  g.setGraph({ rankdir: 'TB', nodesep: 18, ranksep: 36, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));
  const segments = [...new Set(view.nodes.map((n) => n.segment))];
  /** What a state is drawn as: itself, or its collapsed segment's box. */
  const boxOf = (state: string) => {
    const seg = view.nodes.find((n) => n.id === state)?.segment ?? '';
    return collapsed.has(seg) ? `segment:${seg}` : state;
  };
  const nodes = new Map<string, Omit<PlacedNode, 'x' | 'y'>>();
  for (const seg of segments) {
    const members = view.nodes.filter((n) => n.segment === seg);
    if (collapsed.has(seg)) {
      const label = `${seg} (${members.length})`;
      nodes.set(`segment:${seg}`, { id: `segment:${seg}`, segment: seg, collapsed: true, gate: members.some((m) => m.gate), states: members.map((m) => m.id), width: boxWidth(label) + 12, height: NODE_HEIGHT + 6 });
      continue;
    }
    g.setNode(`cluster:${seg}`, { label: seg, paddingTop: 22, paddingX: 10, paddingY: 10, width: 0, height: 0 });
    for (const m of members) nodes.set(m.id, { id: m.id, segment: seg, collapsed: false, gate: m.gate, states: [m.id], width: boxWidth(m.id), height: NODE_HEIGHT });
  }
  for (const n of nodes.values()) {
    g.setNode(n.id, { width: n.width, height: n.height });
    if (!n.collapsed) g.setParent(n.id, `cluster:${n.segment}`);
  }
  const merged = new Map<string, { from: string; to: string; labels: Set<string>; gateOnly: boolean }>();
  for (const e of view.edges) {
    const from = boxOf(e.from);
    const to = boxOf(e.to);
    if (from === to) continue; // inside a collapsed segment
    const k = `${from}\u0000${to}`;
    const m = merged.get(k) ?? { from, to, labels: new Set<string>(), gateOnly: true };
    for (const d of e.datasets) m.labels.add(d);
    for (const s of e.gates) m.labels.add(`gate ${s}`);
    m.gateOnly &&= e.datasets.length === 0;
    merged.set(k, m);
  }
  for (const m of merged.values()) g.setEdge(m.from, m.to, {});
  dagre.layout(g);
  const placed: PlacedNode[] = [...nodes.values()].map((n) => {
    const at = g.node(n.id) as { x: number; y: number };
    return { ...n, x: at.x, y: at.y };
  });
  const frames: PlacedSegment[] = segments
    .filter((s) => !collapsed.has(s))
    .map((s) => {
      const c = g.node(`cluster:${s}`) as { x: number; y: number; width: number; height: number };
      return { id: s, x: c.x - c.width / 2, y: c.y - c.height / 2, width: c.width, height: c.height };
    });
  const edges: PlacedEdge[] = [...merged.values()].map((m) => ({ from: m.from, to: m.to, label: [...m.labels].sort().join(', '), gateOnly: m.gateOnly, points: ((g.edge(m.from, m.to) as { points?: { x: number; y: number }[] }).points ?? []).map((p) => ({ x: p.x, y: p.y })) }));
  const size = g.graph() as { width?: number; height?: number };
  return { width: Math.ceil(size.width ?? 0), height: Math.ceil(size.height ?? 0), nodes: placed, segments: frames, edges };
}
