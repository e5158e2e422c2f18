// Several --from states and --until, end to end: what plan says is what run does, the receipt
// records the request, staging covers exactly what is out of the rerun scope.
import { describe, expect, it } from 'vitest';
import { actions, dag, diamond, goodRun, planJson, TIMEOUT } from './helpers.js';

/** state -> `action: reason`, of a plan and of a run, to compare them. */
const planRows = (plan: Awaited<ReturnType<typeof planJson>>) => Object.fromEntries(plan.states.map((s) => [s.task, `${{ run: 'ran', cached: 'cached', stage: 'staged' }[s.action]}: ${s.reason}`]));
const runRows = (run: Awaited<ReturnType<typeof goodRun>>) => Object.fromEntries(Object.entries(run.by).map(([s, e]) => [s, `${e.action}: ${e.reason}`]));

/** A base run, then plan and run with `flags`: the plan must say state by state what the run did. */
async function planThenRun(flags: string[]) {
  const p = diamond();
  const base = await goodRun(p);
  const plan = await planJson(p, flags);
  const run = await goodRun(p, flags);
  expect(planRows(plan)).toEqual(runRows(run));
  return { p, base, plan, run };
}

describe('targets: several --from, --until', { timeout: TIMEOUT }, () => {
  it('several --from: the union of their downstreams reruns, every other state is staged; plan and run agree', async () => {
    const { base, plan, run } = await planThenRun(['--from', 'fx.S2', '--from', 'S1']);
    expect(runRows(run)).toEqual({
      'fx.S0': `staged: upstream of --from fx.S1, fx.S2: staged from ${base.run_id}`,
      'fx.S1': 'ran: forced: --from fx.S1',
      'fx.S2': 'ran: forced: --from fx.S2',
      'fx.S3': expect.stringMatching(/^ran: downstream of fx\.S[12]$/),
      'fx.S4': expect.stringMatching(/^ran: downstream of fx\.S[12]$/),
    });
    expect((plan as unknown as { scope: unknown }).scope).toEqual({ targets: [], from: ['fx.S1', 'fx.S2'] });
    expect(run.receipt.from_states).toEqual(['fx.S1', 'fx.S2']);
    expect(run.receipt.from_state).toBe('fx.S1');
    expect(run.receipt.staged_from_run_id).toBe(base.run_id);
  });

  it('--from with --until: only the states between rerun, their other upstream is staged, nothing downstream runs', async () => {
    const flags = ['--from', 'fx.S1', '--until', 'fx.S3'];
    const { p, base, run } = await planThenRun(flags);
    expect(actions(run)).toEqual({ 'fx.S0': 'staged', 'fx.S1': 'ran', 'fx.S2': 'staged', 'fx.S3': 'ran' });
    expect(run.by['fx.S3']!.reason).toBe('downstream of fx.S1');
    expect(run.receipt).toMatchObject({ targets: ['fx.S3'], from_states: ['fx.S1'], staged_from_run_id: base.run_id });
    // the text plan names the scope
    const text = await dag(p, ['plan', ...flags]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^scope: from fx\.S1 until fx\.S3 \(4 of 5 states\)$/m);
    expect(text.stdout).toMatch(/^4 states: 2 run, 0 cached, 2 stage/m);
  });

  it('--until alone (repeatable, with selectors) runs the states and their upstream only; --from with a selector', async () => {
    const { p, run: until } = await planThenRun(['--until', 'fx.S1', '--until', '+fx.S2']);
    expect(actions(until)).toEqual({ 'fx.S0': 'cached', 'fx.S1': 'cached', 'fx.S2': 'cached' });
    expect(until.receipt.targets).toEqual(['fx.S0', 'fx.S1', 'fx.S2']);
    const down = await planJson(p, ['--from', 'fx.S3+']);
    expect(down.states.map((s) => `${s.state} ${s.action}`)).toEqual(['fx.S0 stage', 'fx.S1 stage', 'fx.S2 stage', 'fx.S3 run', 'fx.S4 run']);
  });
});
