// The dashboard's graph (laid out by dagre, drawn as SVG) and its live feed, without a browser.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GraphView } from '../../dag/graph/render.js';
import { RECEIPT, type RunReceipt } from '../../dag/store/runs.js';
import { layoutGraph } from '../../dag/ui/layout.js';
import { LiveFeed } from '../../dag/ui/live.js';
import { collapsedSets } from '../../dag/ui/static.js';
import { graphSvg } from '../../dag/ui/svg.js';
import { removeTemps, tempDir } from '../support/temp.js';

afterAll(removeTemps);

/** Three segments: a chain in `a`, `b` reading `a`, `c` reading both and gated on `b`. */
function threeSegments(): GraphView {
  const node = (id: string, gate = false) => ({ id, segment: id.split('.')[0]!, scope: 'seed', kernel: `${id}.sql`, gate, outputs: [`${id}_out`] });
  const edge = (from: string, to: string, gates: string[] = []) => ({ from, to, datasets: [`${from}_out`], gates });
  return {
    nodes: [node('a.S0'), node('a.S1'), node('a.S2', true), node('b.S0'), node('b.S1', true), node('c.S0')],
    edges: [edge('a.S0', 'a.S1'), edge('a.S1', 'a.S2'), edge('a.S1', 'b.S0'), edge('b.S0', 'b.S1'), edge('a.S0', 'c.S0'), edge('b.S1', 'c.S0', ['b'])],
  };
}

describe('the graph layout', () => {
  const view = threeSegments();

  it('places every state inside its segment frame; edges go down inside a segment, right between segments', () => {
    const l = layoutGraph(view);
    expect(l.nodes.map((n) => n.id).sort()).toEqual(view.nodes.map((n) => n.id).sort());
    for (const n of l.nodes) {
      const f = l.segments.find((s) => s.id === n.segment)!;
      expect(n.x - n.width / 2).toBeGreaterThanOrEqual(f.x);
      expect(n.x + n.width / 2).toBeLessThanOrEqual(f.x + f.width);
      expect(n.y - n.height / 2).toBeGreaterThanOrEqual(f.y);
      expect(n.y + n.height / 2).toBeLessThanOrEqual(f.y + f.height);
    }
    const node = (id: string) => l.nodes.find((n) => n.id === id)!;
    for (const e of l.edges) {
      if (node(e.from).segment === node(e.to).segment) expect(node(e.to).y).toBeGreaterThan(node(e.from).y);
      else expect(node(e.to).x).toBeGreaterThan(node(e.from).x);
      expect(e.points.length).toBeGreaterThan(1);
    }
    expect(l.edges.some((e) => node(e.from).segment !== node(e.to).segment)).toBe(true);
    expect(layoutGraph(view)).toEqual(l); // the same graph, the same picture
  });

  it('a collapsed segment is one box standing for its states; the edges through it are merged', () => {
    const l = layoutGraph(view, new Set(['a']));
    const box = l.nodes.find((n) => n.id === 'segment:a')!;
    expect(box).toMatchObject({ collapsed: true, gate: true, states: ['a.S0', 'a.S1', 'a.S2'] });
    expect(l.segments.map((s) => s.id)).toEqual(['b', 'c']);
    expect(l.edges.map((e) => `${e.from}>${e.to}`).sort()).toEqual(['b.S0>b.S1', 'b.S1>c.S0', 'segment:a>b.S0', 'segment:a>c.S0']);
  });

  it('the SVG names each state and segment for the page, and escapes what it prints', () => {
    const svg = graphSvg(layoutGraph(view, new Set(['c'])));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    for (const id of ['a.S0', 'b.S1']) expect(svg).toContain(`data-state="${id}"`);
    expect(svg).toContain('class="state collapsed" data-segment="c" data-states="c.S0"');
    expect(svg).toMatch(/<polygon points=/); // the gate states
    expect(svg).toContain('data-from="b.S0" data-to="b.S1"');
    const odd = graphSvg({ width: 10, height: 10, segments: [], edges: [], nodes: [{ id: 'a<b>&"', segment: 'a', collapsed: false, gate: false, states: ['a<b>&"'], x: 5, y: 5, width: 4, height: 4 }] });
    expect(odd).toContain('a&lt;b&gt;&amp;&quot;');
    expect(odd).not.toContain('a<b>');
  });

  it('a static report lays out every combination of collapsed segments up to five, else each one alone and all', () => {
    expect(collapsedSets(['b', 'a'])).toEqual([[], ['a'], ['b'], ['a', 'b']]);
    expect(collapsedSets(['1', '2', '3', '4', '5']).length).toBe(32);
    expect(collapsedSets(['1', '2', '3', '4', '5', '6'])).toEqual([[], ['1'], ['2'], ['3'], ['4'], ['5'], ['6'], ['1', '2', '3', '4', '5', '6']]);
  });
});

describe('the live feed', () => {
  const runsDir = tempDir('ui-feed');
  const id = 'a'.repeat(32);
  const dir = join(runsDir, id);
  const receipt = (status: RunReceipt['status']) => writeFileSync(join(dir, RECEIPT), JSON.stringify({ run_id: id, created_utc: '2026-01-01T00:00:00.000Z', finished_utc: null, status, seed: 1, scenarios: [], profile: null, targets: [], group_id: null }));
  const line = (state: string) => JSON.stringify({ ts: '2026-01-01T00:00:01.000Z', state, action: 'ran', reason: 'new', seconds: 1 }) + '\n';
  const log = (message: string, task?: string) => JSON.stringify({ level: 'info', message, task, timestamp: '2026-01-01T00:00:00.500Z' }) + '\n';

  it('a snapshot of what was written, then only what is appended; a half-written line waits for its end', () => {
    mkdirSync(join(dir, 'logs'), { recursive: true });
    receipt('running');
    appendFileSync(join(dir, 'ledger.jsonl'), line('x.S1'));
    appendFileSync(join(dir, 'logs', 'run.log'), log('run-start') + log('task-start', 'x.S1') + JSON.stringify({ level: 'debug', message: 'task-progress', task: 'x.S1' }) + '\n');
    const feed = new LiveFeed(runsDir);
    const snap = feed.snapshot();
    expect(snap).toMatchObject({ type: 'snapshot', runs: [{ id, status: 'interrupted' }] }); // no process holds it: as dag runs says
    if (snap.type !== 'snapshot') throw new Error('not a snapshot');
    expect(snap.live[id]!.ledger.map((e) => e.state)).toEqual(['x.S1']);
    expect(snap.live[id]!.events.map((e) => e.message)).toEqual(['run-start', 'task-start']);
    expect(feed.poll()).toEqual([]);
    const half = line('x.S2');
    appendFileSync(join(dir, 'ledger.jsonl'), half.slice(0, 20));
    expect(feed.poll().filter((m) => m.type === 'ledger')).toEqual([]);
    appendFileSync(join(dir, 'ledger.jsonl'), half.slice(20));
    appendFileSync(join(dir, 'logs', 'run.log'), log('task-start', 'x.S2'));
    const next = feed.poll();
    expect(next.find((m) => m.type === 'ledger')).toMatchObject({ run: id, entries: [{ state: 'x.S2' }] });
    expect(next.find((m) => m.type === 'events')).toMatchObject({ run: id, events: [{ message: 'task-start', task: 'x.S2' }] });
    expect(next.find((m) => m.type === 'runs')).toBeDefined(); // the ledger grew: the table's counts changed
    // the run ends: its last lines are read once, then it is no longer followed
    appendFileSync(join(dir, 'ledger.jsonl'), line('x.S3'));
    receipt('succeeded');
    expect(feed.poll().find((m) => m.type === 'ledger')).toMatchObject({ entries: [{ state: 'x.S3' }] });
    appendFileSync(join(dir, 'ledger.jsonl'), line('x.S4'));
    expect(feed.poll().filter((m) => m.type === 'ledger')).toEqual([]);
  });
});

