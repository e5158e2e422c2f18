// Selectors and target flags on the command line: graph, matrix and plan select the same states
// from `fx.*`, `+X`, `X+`, `segment:X`, repeated --from / --until; what matches nothing, and
// combinations that cannot mean one thing, are usage errors (exit 2).
import { afterAll, describe, expect, it } from 'vitest';
import type { GraphView } from '../../dag/graph/render.js';
import type { Plan } from '../../dag/plan/plan.js';
import { TempCopies } from '../fixtures/materialize.js';
import { CLI_TIMEOUT, runDag, STACK_LINE } from './runDag.js';

const temp = new TempCopies();
const two = temp.copy('two-segments'); // the diamond fx.S0 -> fx.S1, fx.S2 -> fx.S3 -> fx.S4, and gy.S0
afterAll(temp.removeAll);

async function json<T>(args: string[]): Promise<T> {
  const r = await runDag(['--root', two, ...args]);
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.code, args.join(' ')).toBe(0);
  return JSON.parse(r.stdout) as T;
}

const nodesOf = async (args: string[]) => (await json<GraphView>(['graph', '--json', ...args])).nodes.map((n) => n.id);

/** A refused command line: exit 2, no stack, one diagnostic with this code; its words. */
async function refused(args: string[], code: string): Promise<string> {
  const r = await runDag(['--root', two, ...args]);
  expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(2);
  expect(r.stderr).toContain(`[${code}]`);
  expect(r.stderr).not.toMatch(STACK_LINE);
  return r.stderr;
}

describe('dag graph with selectors', { timeout: CLI_TIMEOUT }, () => {
  it('renders only the selected subgraph: a glob, +X, X+, segment:X, and several at once', async () => {
    const [glob, up, down, segment, several] = await Promise.all([nodesOf(['*.S0']), nodesOf(['+fx.S2']), nodesOf(['fx.S3+']), nodesOf(['segment:gy']), nodesOf(['fx.S1', 'gy.*'])]);
    expect(glob).toEqual(['fx.S0', 'gy.S0']);
    expect(up).toEqual(['fx.S0', 'fx.S2']);
    expect(down).toEqual(['fx.S3', 'fx.S4']);
    expect(segment).toEqual(['gy.S0']);
    expect(several).toEqual(['fx.S1', 'gy.S0']);
    // edges only between selected states, in every format
    const view = await json<GraphView>(['graph', '--json', '+fx.S2']);
    expect(view.edges.map((e) => `${e.from} -> ${e.to}`)).toEqual(['fx.S0 -> fx.S2']);
    const mermaid = (await runDag(['--root', two, 'graph', '+fx.S2'])).stdout;
    expect(mermaid.trimEnd().split('\n')).toEqual(['flowchart TD', '  fx_S0["fx.S0"]', '  fx_S2["fx.S2"]', '  fx_S0 -->|"regions_fx"| fx_S2']);
  });

  it('--from (repeatable: the union of downstreams), --until (upstream), both: the states between', async () => {
    const [from, froms, until, between, withSegment] = await Promise.all([
      nodesOf(['--from', 'fx.S2']),
      nodesOf(['--from', 'fx.S1', '--from', 'S2']),
      nodesOf(['--until', 'fx.S1', '--until', 'gy.S0']),
      nodesOf(['--from', 'fx.S1', '--until', 'fx.S3']),
      nodesOf(['--from', 'segment:fx', '--until', '*.S3', '--segment', 'fx']),
    ]);
    expect(from).toEqual(['fx.S2', 'fx.S3', 'fx.S4']);
    expect(froms).toEqual(['fx.S1', 'fx.S2', 'fx.S3', 'fx.S4']);
    expect(until).toEqual(['fx.S0', 'fx.S1', 'gy.S0']);
    expect(between).toEqual(['fx.S1', 'fx.S3']);
    expect(withSegment).toEqual(['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3']);
  });
});

describe('dag matrix with selectors', { timeout: CLI_TIMEOUT }, () => {
  it('keeps the selected rows; under --until a change reruns only up to the cap', async () => {
    type Row = { state: string; reruns: string[] };
    const [down, capped] = await Promise.all([json<Row[]>(['matrix', '--json', 'fx.S2+']), json<Row[]>(['matrix', '--json', '--from', 'fx.S1', '--until', 'fx.S3'])]);
    expect(down.map((r) => r.state)).toEqual(['fx.S2', 'fx.S3', 'fx.S4']);
    expect(down[0]!.reruns).toEqual(['fx.S2', 'fx.S3', 'fx.S4']);
    expect(capped).toEqual([
      { state: 'fx.S1', scope: 'downstream', reruns: ['fx.S1', 'fx.S3'] },
      { state: 'fx.S3', scope: 'downstream', reruns: ['fx.S3'] },
    ]);
  });
});

describe('dag plan with selectors', { timeout: CLI_TIMEOUT }, () => {
  it('targets and --until take selectors; the plan lists only that scope and says so', async () => {
    const [until, downTarget, segment] = await Promise.all([
      json<Plan & { scope: { targets: string[]; from: string[] } }>(['plan', '--json', '--until', 'fx.S2', '--until', 'gy.*']),
      json<Plan>(['plan', '--json', 'fx.S3+']),
      json<Plan>(['plan', '--json', 'segment:gy']),
    ]);
    expect(until.scope).toEqual({ targets: ['fx.S2', 'gy.S0'], from: [] });
    expect(until.states.map((s) => s.state)).toEqual(['fx.S0', 'fx.S2', 'gy.S0']);
    expect(downTarget.states.map((s) => s.state)).toEqual(['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3', 'fx.S4']);
    expect(segment.states.map((s) => s.state)).toEqual(['gy.S0']);
    const text = await runDag(['--root', two, 'plan', '--until', 'fx.S2']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^scope: until fx\.S2 \(2 of 6 states\)$/m);
  });
});

describe('refused selectors and combinations', { timeout: CLI_TIMEOUT }, () => {
  it('a selector matching nothing: exit 2 naming it, with close ids, for every command and flag', async () => {
    const cases: [string[], string, RegExp][] = [
      [['plan', '--from', 'fz.*'], 'no-match', /--from fz\.\*: no state id matches fz\.\*; did you mean fx\.\*\?/],
      [['run', '--until', 'segment:gz'], 'no-match', /--until segment:gz: no segment 'gz'; did you mean segment:gy\?/],
      [['graph', 'fx.S22'], 'unknown-state', /argument fx\.S22: no state 'fx\.S22'; did you mean fx\.S2\?/],
      [['matrix', '+fx.S9'], 'unknown-state', /argument \+fx\.S9: no state 'fx\.S9'; did you mean fx\.S0/],
      [['graph', 'fx.S1++'], 'bad-selector', /argument fx\.S1\+\+: not a selector/],
    ];
    const said = await Promise.all(cases.map(([args, code]) => refused(args, code)));
    cases.forEach(([args, , words], i) => expect(said[i], args.join(' ')).toMatch(words));
    // under --json the refusal is a document too
    const r = await runDag(['--root', two, 'plan', '--json', '--until', 'nope.*']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, exit_code: 2, errors: [{ code: 'no-match' }] });
  });

  it('--from and --until with no state between them, for plan, run, graph and matrix', async () => {
    const said = await Promise.all(['plan', 'run', 'graph', 'matrix'].map((cmd) => refused([cmd, '--from', 'fx.S2', '--until', 'fx.S1'], 'empty-scope')));
    expect(said[0]).toContain('--from fx.S2, --until fx.S1: no state is selected by all of them, so nothing would rerun');
    expect(said[2]).toContain('so there is nothing to show');
    // a target that nothing of --from's downstream reaches is the same refusal
    expect(await refused(['plan', 'fx.S1', '--from', 'fx.S2'], 'empty-scope')).toContain('--from fx.S2, fx.S1: no state is selected by all of them');
    expect(await refused(['graph', 'gy.S0', '--segment', 'fx'], 'empty-scope')).toContain('gy.S0, --segment fx');
  });

  it('target states with --until, --changed with target flags, --resume with --until', async () => {
    expect(await refused(['plan', 'fx.S3', '--until', 'fx.S2'], 'targets-and-until')).toContain('target states (fx.S3) and --until fx.S2 both say where the run ends');
    expect(await refused(['run', 'fx.S3', '--until', 'fx.S2'], 'targets-and-until')).toContain('both say where the run ends');
    expect(await refused(['plan', '--changed', 'fx.S1', '--until', 'fx.S3'], 'changed-with-targets')).toContain('it takes no --until');
    expect(await refused(['run', '--resume', 'last-good', '--until', 'fx.S3'], 'resume-flags')).toContain('--until');
  });
});
