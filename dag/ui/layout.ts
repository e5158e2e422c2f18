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
/** Room inside a segment's frame: its title above, a margin around its states. */
const PAD = { top: 26, side: 12, bottom: 12 };

type Point = { x: number; y: number };

/** A dagre graph with its own settings; `compound` off: segments are laid out one level at a time. */
function dagreGraph(rankdir: 'TB' | 'LR', nodesep: number, ranksep: number) {
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir, nodesep, ranksep, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  return g;
}

/**
 * The graph laid out in two levels by dagre: each segment's states top to bottom inside its frame,
 * and the segments (or a collapsed segment's one box) left to right; an edge between segments
 * follows the route dagre found between their frames, so it goes around the segments between them.
 * A segment named in `collapsed` is one box standing for all its states, and the edges in and out of
 * it are merged. Pure: the same view and set give the same layout.
 */
export function layoutGraph(view: GraphView, collapsed: ReadonlySet<string> = new Set()): GraphLayout {
  const segments = [...new Set(view.nodes.map((n) => n.segment))];
  const segmentOf = new Map(view.nodes.map((n) => [n.id, n.segment]));
  /** What a state is drawn as: itself, or its collapsed segment's box. */
  const boxOf = (state: string) => (collapsed.has(segmentOf.get(state) ?? '') ? `segment:${segmentOf.get(state)}` : state);
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
  const segOfBox = (box: string) => (box.startsWith('segment:') ? box.slice(8) : segmentOf.get(box)!);

  // level 1: inside each expanded segment, its states top to bottom
  const inner = new Map<string, { width: number; height: number; nodes: Map<string, Omit<PlacedNode, 'x' | 'y'> & Point>; edges: Map<string, Point[]> }>();
  const boxes = new Map<string, Omit<PlacedNode, 'x' | 'y'>>();
  for (const seg of segments) {
    const members = view.nodes.filter((n) => n.segment === seg);
    if (collapsed.has(seg)) {
      const label = `▸ ${seg} (${members.length})`;
      boxes.set(`segment:${seg}`, { id: `segment:${seg}`, segment: seg, collapsed: true, gate: members.some((m) => m.gate), states: members.map((m) => m.id), width: boxWidth(label) + 12, height: NODE_HEIGHT + 6 });
      continue;
    }
    const g = dagreGraph('TB', 18, 34);
    for (const m of members) g.setNode(m.id, { width: boxWidth(m.id), height: NODE_HEIGHT });
    const local = [...merged.values()].filter((e) => segOfBox(e.from) === seg && segOfBox(e.to) === seg);
    for (const e of local) g.setEdge(e.from, e.to, {});
    dagre.layout(g);
    const size = g.graph() as { width?: number; height?: number };
    const nodes = new Map(members.map((m) => {
      const at = g.node(m.id) as Point;
      return [m.id, { id: m.id, segment: seg, collapsed: false, gate: m.gate, states: [m.id], width: boxWidth(m.id), height: NODE_HEIGHT, x: at.x, y: at.y }];
    }));
    const edges = new Map(local.map((e) => [`${e.from}\u0000${e.to}`, ((g.edge(e.from, e.to) as { points?: Point[] }).points ?? []).map((p) => ({ x: p.x, y: p.y }))]));
    const titled = boxWidth(seg);
    inner.set(seg, { width: Math.max(size.width ?? 0, titled) + 2 * PAD.side, height: (size.height ?? 0) + PAD.top + PAD.bottom, nodes, edges });
  }

  // level 2: the segments left to right
  const top = dagreGraph('LR', 28, 56);
  top.setGraph({ ...(top.graph() as object), marginx: MARGIN, marginy: MARGIN });
  for (const seg of segments) {
    const box = boxes.get(`segment:${seg}`);
    const size = box ?? inner.get(seg)!;
    top.setNode(seg, { width: size.width, height: size.height });
  }
  for (const e of merged.values()) {
    const a = segOfBox(e.from);
    const b = segOfBox(e.to);
    if (a !== b) top.setEdge(a, b, {});
  }
  dagre.layout(top);
  const corner = (seg: string) => {
    const at = top.node(seg) as { x: number; y: number; width: number; height: number };
    return { x: at.x - at.width / 2, y: at.y - at.height / 2, width: at.width, height: at.height };
  };

  const placed: PlacedNode[] = [];
  const frames: PlacedSegment[] = [];
  for (const seg of segments) {
    const c = corner(seg);
    const box = boxes.get(`segment:${seg}`);
    if (box) {
      placed.push({ ...box, x: c.x + c.width / 2, y: c.y + c.height / 2 });
      continue;
    }
    const lay = inner.get(seg)!;
    frames.push({ id: seg, ...c });
    for (const n of lay.nodes.values()) placed.push({ ...n, x: n.x + c.x + PAD.side, y: n.y + c.y + PAD.top });
  }
  const at = new Map(placed.map((n) => [n.id, n]));
  const edges: PlacedEdge[] = [...merged.values()].map((m) => {
    const a = segOfBox(m.from);
    const b = segOfBox(m.to);
    let points: Point[];
    if (a === b) {
      const c = corner(a);
      points = inner.get(a)!.edges.get(`${m.from}\u0000${m.to}`)!.map((p) => ({ x: p.x + c.x + PAD.side, y: p.y + c.y + PAD.top }));
    } else {
      // out of the source's right side, along the route between the two frames, into the target's left side
      const route = ((top.edge(a, b) as { points?: Point[] }).points ?? []).slice(1, -1);
      const s = at.get(m.from)!;
      const t = at.get(m.to)!;
      points = [{ x: s.x + s.width / 2, y: s.y }, ...route.map((p) => ({ x: p.x, y: p.y })), { x: t.x - t.width / 2, y: t.y }];
    }
    return { from: m.from, to: m.to, label: [...m.labels].sort().join(', '), gateOnly: m.gateOnly, points };
  });
  const size = top.graph() as { width?: number; height?: number };
  return { width: Math.ceil(size.width ?? 0), height: Math.ceil(size.height ?? 0), nodes: placed, segments: frames, edges };
}
