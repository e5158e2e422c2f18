import type { CompiledProject } from '../graph/compile.js';
import { graphView } from '../graph/render.js';
import { layoutGraph, type GraphLayout, type PlacedNode } from './layout.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const r = (v: number) => Math.round(v * 10) / 10;

/** A hexagon around a box (gate states), as SVG points. */
function hexagon(n: PlacedNode): string {
  const x0 = n.x - n.width / 2;
  const x1 = n.x + n.width / 2;
  const y0 = n.y - n.height / 2;
  const y1 = n.y + n.height / 2;
  const d = 8;
  return [[x0, n.y], [x0 + d, y0], [x1 - d, y0], [x1, n.y], [x1 - d, y1], [x0 + d, y1]].map(([x, y]) => `${r(x!)},${r(y!)}`).join(' ');
}

/** A smooth curve through the points (Catmull-Rom, as cubic Béziers); a straight line for two. */
export function smoothPath(points: { x: number; y: number }[]): string {
  if (points.length === 0) return '';
  const p = points;
  let d = `M${r(p[0]!.x)},${r(p[0]!.y)}`;
  if (p.length === 2) {
    // between two boxes side by side: leave and enter horizontally
    const dx = (p[1]!.x - p[0]!.x) / 2;
    return d + `C${r(p[0]!.x + dx)},${r(p[0]!.y)} ${r(p[1]!.x - dx)},${r(p[1]!.y)} ${r(p[1]!.x)},${r(p[1]!.y)}`;
  }
  for (let i = 0; i < p.length - 1; i++) {
    const a = p[Math.max(0, i - 1)]!;
    const b = p[i]!;
    const c = p[i + 1]!;
    const n = p[Math.min(p.length - 1, i + 2)]!;
    d += `C${r(b.x + (c.x - a.x) / 6)},${r(b.y + (c.y - a.y) / 6)} ${r(c.x - (n.x - b.x) / 6)},${r(c.y - (n.y - b.y) / 6)} ${r(c.x)},${r(c.y)}`;
  }
  return d;
}

/**
 * The laid-out graph as one SVG document. Elements carry what the page needs and no colour of
 * status: `g.state[data-state]` (a collapsed segment: `data-states`, space-separated),
 * `g.segment[data-segment]`, `path.edge[data-from][data-to]`; the page styles them by class.
 */
export function graphSvg(layout: GraphLayout): string {
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}">`);
  parts.push('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker></defs>');
  for (const s of layout.segments) {
    parts.push(`<g class="segment" data-segment="${esc(s.id)}"><rect x="${r(s.x)}" y="${r(s.y)}" width="${r(s.width)}" height="${r(s.height)}" rx="6"/><text class="segment-label" x="${r(s.x + 8)}" y="${r(s.y + 15)}">▾ ${esc(s.id)}</text></g>`);
  }
  for (const e of layout.edges) {
    const d = smoothPath(e.points);
    parts.push(`<path class="edge${e.gateOnly ? ' gate-edge' : ''}" data-from="${esc(e.from)}" data-to="${esc(e.to)}" d="${d}" marker-end="url(#arrow)"><title>${esc(e.label)}</title></path>`);
  }
  for (const n of layout.nodes) {
    const shape = n.gate ? `<polygon points="${hexagon(n)}"/>` : `<rect x="${r(n.x - n.width / 2)}" y="${r(n.y - n.height / 2)}" width="${r(n.width)}" height="${r(n.height)}" rx="4"/>`;
    const label = n.collapsed ? `▸ ${n.segment} (${n.states.length})` : n.id;
    const attrs = n.collapsed ? `class="state collapsed" data-segment="${esc(n.segment)}" data-states="${esc(n.states.join(' '))}"` : `class="state" data-state="${esc(n.id)}" data-segment="${esc(n.segment)}"`;
    parts.push(`<g ${attrs}>${shape}<text x="${r(n.x)}" y="${r(n.y + 4)}" text-anchor="middle">${esc(label)}</text><title>${esc(n.collapsed ? `${n.segment}: ${n.states.join(', ')}` : n.id)}</title></g>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

/** The project's graph as SVG, the segments in `collapsed` drawn as one box each. */
export function projectGraphSvg(cp: CompiledProject, collapsed: string[]): string {
  return graphSvg(layoutGraph(graphView(cp), new Set(collapsed.filter(Boolean))));
}
