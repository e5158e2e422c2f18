// plan and run take one request: the flags that say what a run runs are declared once (same
// names, same help, same parsing) and turned into the request by one function.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerGraph } from '../../dag/cli/graph.js';
import { registerMatrix } from '../../dag/cli/matrix.js';
import { registerPlan } from '../../dag/cli/plan.js';
import { registerRun } from '../../dag/cli/run.js';
import { dag, diamondCopy } from '../exec/harness.js';

const SHARED = ['--from', '--until', '--base', '--no-cache', '--seed', '--scenarios', '--profile'];

function options(register: (p: Command) => void, name: string) {
  const program = new Command();
  register(program);
  const cmd = program.commands.find((c) => c.name() === name)!;
  return { cmd, byFlag: new Map(cmd.options.map((o) => [o.long!, { flags: o.flags, description: o.description }])) };
}

describe('the request flags of plan and run', () => {
  it('are declared once: the same flags, with the same help, on both commands', () => {
    const plan = options(registerPlan, 'plan');
    const run = options(registerRun, 'run');
    for (const flag of SHARED) {
      expect(plan.byFlag.get(flag), flag).toBeDefined();
      expect(plan.byFlag.get(flag)).toEqual(run.byFlag.get(flag));
    }
    expect(plan.cmd.registeredArguments.map((a) => a.name())).toEqual(run.cmd.registeredArguments.map((a) => a.name()));
  });

  it('--from and --until are declared once for plan, run, graph and matrix, and repeat', () => {
    const plan = options(registerPlan, 'plan');
    for (const [register, name] of [[registerGraph, 'graph'], [registerMatrix, 'matrix']] as const) {
      const other = options(register, name);
      for (const flag of ['--from', '--until']) expect(other.byFlag.get(flag), `${name} ${flag}`).toEqual(plan.byFlag.get(flag));
    }
    const program = new Command().exitOverride();
    registerGraph(program);
    program.commands[0]!.action(() => {}); // the flags as parsed, without opening a project
    program.parse(['node', 'dag', 'graph', '--from', 'a', '--from', 'b', '--until', 'c']);
    expect(program.commands[0]!.opts()).toMatchObject({ from: ['a', 'b'], until: ['c'] });
  });

  it('parse the same: a bad --seed is refused by both with the same words', () => {
    const said: string[] = [];
    for (const [register, name] of [[registerPlan, 'plan'], [registerRun, 'run']] as const) {
      const program = new Command().exitOverride().configureOutput({ writeErr: (s) => said.push(s), writeOut: () => {} });
      register(program);
      expect(() => program.parse(['node', 'dag', name, '--seed', '-3x'])).toThrow();
    }
    expect(said).toHaveLength(2);
    expect(said[0]).toContain("--seed must be an integer from 0 to");
    expect(said[0]).toBe(said[1]);
  });

  it('refuse what would be silently ignored: --base without --from (plan and run), --quiet with --json', async () => {
    const p = diamondCopy();
    for (const cmd of ['plan', 'run']) {
      const r = await dag(p, [cmd, '--base', 'last-good']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('--base last-good names the run to stage from, which only --from does [base-without-from]');
    }
    const both = await dag(p, ['run', '--quiet', '--json']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/option '--quiet' cannot be used with option '--json'/);
  }, 60_000);
});
