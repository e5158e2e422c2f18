import { afterAll, describe, expect, it } from 'vitest';
import type { GraphView } from '../../dag/graph/render.js';
import { DIAMOND, TempCopies } from '../fixtures/materialize.js';
import { CLI_TIMEOUT, runDag } from './runDag.js';

async function ok(args: string[]): Promise<string> {
  const r = await runDag(args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

/** Nodes as `id` or `id (gate)`, edges as `from -> to: label`, sorted: what all three formats must agree on. */
interface Shape {
  nodes: string[];
  edges: string[];
}

function shapeOfJson(view: GraphView): Shape {
  return {
    nodes: view.nodes.map((n) => n.id + (n.gate ? ' (gate)' : '')).sort(),
    edges: view.edges.map((e) => `${e.from} -> ${e.to}: ${[...e.datasets, ...e.gates.map((g) => `gate ${g}`)].join(', ')}`).sort(),
  };
}

function shapeOfMermaid(text: string): Shape {
  const lines = text.split('\n');
  expect(lines[0]).toBe('flowchart TD');
  const ids = new Map<string, string>();
  const nodes: string[] = [];
  const edges: string[] = [];
  for (const line of lines.slice(1)) {
    const node = /^\s+(\w+)(\["([^"]+)"\]|\{\{"([^"]+)"\}\})$/.exec(line);
    const edge = /^\s+(\w+) -->\|"([^"]*)"\| (\w+)$/.exec(line);
    if (node) {
      const label = node[3] ?? node[4]!;
      ids.set(node[1]!, label);
      nodes.push(label + (node[4] ? ' (gate)' : ''));
    } else if (edge) edges.push(`${ids.get(edge[1]!)} -> ${ids.get(edge[3]!)}: ${edge[2]}`);
    else throw new Error(`unexpected mermaid line: ${line}`);
  }
  return { nodes: nodes.sort(), edges: edges.sort() };
}

function shapeOfDot(text: string): Shape {
  const nodes: string[] = [];
  const edges: string[] = [];
  expect(text.trim()).toMatch(/^digraph \w+ \{[\s\S]*\}$/);
  for (const line of text.split('\n')) {
    const edge = /^\s+"([^"]+)" -> "([^"]+)" \[label="([^"]*)"(, style=dashed)?\];$/.exec(line);
    const node = /^\s+"([^"]+)"( \[shape=hexagon\])?;$/.exec(line);
    if (edge) edges.push(`${edge[1]} -> ${edge[2]}: ${edge[3]}`);
    else if (node) nodes.push(node[1]! + (node[2] ? ' (gate)' : ''));
  }
  return { nodes: nodes.sort(), edges: edges.sort() };
}

describe('dag graph', { timeout: CLI_TIMEOUT }, () => {
  const temp = new TempCopies();
  const twoSegments = temp.copy('two-segments');
  afterAll(temp.removeAll);

  it('json, mermaid and dot render the same nodes and edges', async () => {
    const [json, mermaid, dot, dflt] = await Promise.all(['json', 'mermaid', 'dot', undefined].map((f) => ok(['--root', DIAMOND, 'graph', ...(f ? ['--format', f] : [])])));
    const view = JSON.parse(json!) as GraphView;
    const shape = shapeOfJson(view);
    expect(shape).toEqual({
      nodes: ['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3 (gate)', 'fx.S4'],
      edges: ['fx.S0 -> fx.S1: regions_fx', 'fx.S0 -> fx.S2: regions_fx', 'fx.S1 -> fx.S3: customers_fx', 'fx.S2 -> fx.S3: merchants_fx', 'fx.S3 -> fx.S4: pairs_fx, gate fx'],
    });
    expect(shapeOfMermaid(mermaid!.trimEnd())).toEqual(shape);
    expect(shapeOfDot(dot!)).toEqual(shape);
    expect(dflt).toBe(mermaid);
  });

  it('lists nodes in execution order with what they write', async () => {
    const view = JSON.parse(await ok(['--root', DIAMOND, 'graph', '--format', 'json'])) as GraphView;
    expect(view.nodes.map((n) => n.id)).toEqual(['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3', 'fx.S4']);
    expect(view.nodes.find((n) => n.id === 'fx.S3')).toMatchObject({ segment: 'fx', scope: 'seed', kernel: 'states/fx/S3_pairs.sql', gate: true, outputs: ['pairs_fx', 'validation_report_fx'] });
  });

  it('--segment keeps one segment and the edges inside it', async () => {
    const gy = JSON.parse(await ok(['--root', twoSegments, 'graph', '--format', 'json', '--segment', 'gy'])) as GraphView;
    expect(gy).toMatchObject({ nodes: [{ id: 'gy.S0' }], edges: [] });
    const fx = shapeOfMermaid((await ok(['--root', twoSegments, 'graph', '--format', 'mermaid', '--segment', 'fx'])).trimEnd());
    expect(fx.nodes).toHaveLength(5);
    expect(fx.edges).toHaveLength(5);
  });

  it('refuses an unknown format with exit 2', async () => {
    const r = await runDag(['--root', DIAMOND, 'graph', '--format', 'svg']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('mermaid, dot, json');
  });
});

describe('dag matrix', { timeout: CLI_TIMEOUT }, () => {
  it('--json: for each state, the states a change there reruns, honouring rerun.scope: self', async () => {
    const rows = JSON.parse(await ok(['--root', DIAMOND, 'matrix', '--json'])) as { state: string; scope: string; reruns: string[] }[];
    expect(rows).toEqual([
      { state: 'fx.S0', scope: 'downstream', reruns: ['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3', 'fx.S4'] },
      { state: 'fx.S1', scope: 'downstream', reruns: ['fx.S1', 'fx.S3', 'fx.S4'] },
      { state: 'fx.S2', scope: 'downstream', reruns: ['fx.S2', 'fx.S3', 'fx.S4'] },
      { state: 'fx.S3', scope: 'downstream', reruns: ['fx.S3', 'fx.S4'] },
      { state: 'fx.S4', scope: 'self', reruns: ['fx.S4'] },
    ]);
  });

  it('prints one line per state, marking rerun.scope: self', async () => {
    const lines = (await ok(['--root', DIAMOND, 'matrix'])).trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[1]).toMatch(/^fx\.S1\s+fx\.S1 -> fx\.S3 -> fx\.S4$/);
    expect(lines[4]).toMatch(/^fx\.S4\s+fx\.S4\s+\(rerun\.scope: self\)$/);
  });
});
