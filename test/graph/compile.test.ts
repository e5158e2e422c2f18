import { afterAll, describe, expect, it } from 'vitest';
import { compileProject, type CompiledProject } from '../../dag/graph/compile.js';
import { Diagnostics } from '../../dag/project/diagnostics.js';
import { loadProject } from '../../dag/contracts/project.js';
import { applyOverlay, brokenNames, DIAMOND, expectationOf, TempCopies } from '../fixtures/materialize.js';
import { compileClean, diagnose } from './diagnose.js';

const temp = new TempCopies();
const copy = temp.copy;
afterAll(temp.removeAll);

describe('compileProject on the diamond', () => {
  const cp = compileClean(DIAMOND);

  it('builds one node per state and one edge per dependency, gate edges merged with dataset edges', () => {
    expect([...cp.states.keys()].sort()).toEqual(['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3', 'fx.S4']);
    const edges: string[] = [];
    cp.graph.forEachEdge((_e, a, from, to) => edges.push(`${from}->${to} ${a.datasets.join(',')} ${a.gates.join(',')}`.trim()));
    expect(edges.sort()).toEqual(['fx.S0->fx.S1 regions_fx', 'fx.S0->fx.S2 regions_fx', 'fx.S1->fx.S3 customers_fx', 'fx.S2->fx.S3 merchants_fx', 'fx.S3->fx.S4 pairs_fx fx']);
  });

  it('records producers and gates', () => {
    expect(Object.fromEntries(cp.producers)).toEqual({
      regions_fx: 'fx.S0',
      customers_fx: 'fx.S1',
      merchants_fx: 'fx.S2',
      pairs_fx: 'fx.S3',
      validation_report_fx: 'fx.S3',
      summary_fx: 'fx.S4',
    });
    expect(Object.fromEntries(cp.gates)).toEqual({ fx: 'fx.S3' });
  });

  it('fills manifest defaults and resolves kernels beside their manifest', () => {
    const s0 = cp.states.get('fx.S0')!;
    const s2 = cp.states.get('fx.S2')!;
    const s4 = cp.states.get('fx.S4')!;
    expect(s0.scope).toBe('world');
    expect(s2.scope).toBe('seed');
    expect(s2.kernel).toBe('states/fx/S2_merchants.sql');
    expect(s0.fileInputs).toEqual([{ file: 'config/regions.csv', as: 'regions', role: 'reference' }]);
    expect(s2.fileInputs[0]).toMatchObject({ file: 'config/params.yaml', as: 'params', role: 'parameter' });
    expect(s2.datasetInputs).toEqual(['regions_fx']);
    expect(s4.rerun).toEqual({ scope: 'self', triggers: ['kernel', 'inputs', 'files', 'seed'] });
    expect(s2.rerun.scope).toBe('downstream');
    expect(s4.requiresPass).toEqual(['fx']);
    expect(cp.states.get('fx.S1')!.budgetSeconds).toBe(5);
  });
});

describe('compile-time checks, through the library', () => {
  it.each(brokenNames())('%s', (name) => {
    const e = expectationOf(name);
    const { items } = diagnose(copy(name));
    expect(items, JSON.stringify(items, null, 2)).toHaveLength(e.count ?? 1);
    const hit = items.find((d) => d.code === e.code && d.file === e.file && d.message.includes(e.message));
    expect(hit, `no ${e.code} in ${e.file} saying "${e.message}" among ${JSON.stringify(items, null, 2)}`).toBeDefined();
    expect(hit!.line ?? null).toBe(e.line);
    if (e.pointer) expect(hit!.pointer).toBe(e.pointer);
  });

  it.each([
    ['cycle', 'cycle: fx.S1 -(customers_fx)-> fx.S3 -(pairs_fx)-> fx.S1'],
    ['cycle-3', 'cycle: fx.S1 -(customers_fx)-> fx.S3 -(pairs_fx, gate fx)-> fx.S4 -(summary_fx)-> fx.S1'],
  ])('%s: prints the cycle along real edges, naming what flows on each hop', (name, message) => {
    const { cp, items } = diagnose(copy(name));
    expect(items.find((d) => d.code === 'cycle')!.message).toBe(message);
    expectHopsAreEdges(message, cp!);
    expect(cp!.order).toEqual(['fx.S0', 'fx.S2']);
  });

  it('reports every problem of a project at once', () => {
    const dir = copy('missing-kernel');
    applyOverlay(dir, 'unknown-gate');
    applyOverlay(dir, 'schema-ref-in-contract');
    const codes = diagnose(dir).items.map((d) => `${d.code} ${d.file}:${d.line}`).sort();
    expect(codes).toEqual(['missing-kernel states/fx/S2_merchants.yaml:3', 'schema-ref contracts/fx.yaml:39', 'unknown-gate states/fx/S4_summary.yaml:4']);
  });

  it('is deterministic: the order does not depend on the order manifests were read in', () => {
    const diags = new Diagnostics();
    const project = loadProject(DIAMOND, diags)!;
    const forward = compileProject(project, diags).order;
    const backward = compileProject({ ...project, manifests: [...project.manifests].reverse() }, diags).order;
    const rotated = compileProject({ ...project, manifests: [...project.manifests.slice(2), ...project.manifests.slice(0, 2)] }, diags).order;
    expect(diags.items).toEqual([]);
    expect(forward).toEqual(['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3', 'fx.S4']);
    expect(backward).toEqual(forward);
    expect(rotated).toEqual(forward);
  });

  it('orders a valid topological order, ties broken by id, across segments', () => {
    const cp = compileClean(copy('two-segments'));
    const pos = new Map(cp.order.map((s, i) => [s, i]));
    expect(cp.order).toHaveLength(cp.states.size);
    cp.graph.forEachEdge((_e, _a, from, to) => expect(pos.get(from)!, `${from} -> ${to}`).toBeLessThan(pos.get(to)!));
    expect(cp.order).toEqual(['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3', 'fx.S4', 'gy.S0']);
  });
});

/** Every hop `A -(x, gate s)-> B` of a printed cycle is an edge of the graph carrying exactly those datasets and gates. */
function expectHopsAreEdges(message: string, cp: CompiledProject): void {
  const hops = [...message.matchAll(/(\S+) -\(([^)]*)\)-> (?=(\S+))/g)];
  expect(hops.length).toBeGreaterThan(1);
  for (const [, from, via, to] of hops) {
    expect(cp.graph.hasEdge(from!, to!), `${from} -> ${to}`).toBe(true);
    const e = cp.graph.getEdgeAttributes(from!, to!);
    expect([...e.datasets, ...e.gates.map((g) => `gate ${g}`)].join(', ')).toBe(via);
  }
  expect(hops.at(-1)![3]).toBe(hops[0]![1]);
}
