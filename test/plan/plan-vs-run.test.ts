// What `dag plan` says is what `dag run` with the same flags does (ORCHESTRATOR.md §8): one
// staleness rule for both. For each reason, plan then run, and compare task by task.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PlanJson } from '../../dag/cli/plan.js';
import { dag, diamond, goodRun, planJson, read, replaceIn, STATES, TIMEOUT, write, type Proj, type RunResult } from '../cache/helpers.js';

const LEDGER_ACTION = { run: 'ran', cached: 'cached', stage: 'staged' } as const;

/**
 * Plans, then runs, with the same flags, and checks the plan against the ledger: a definite row's
 * action and reason are the run's; a provisional row (`run?`) ends as `ran` or `cached`.
 */
async function planThenRun(p: Proj, flags: string[] = []): Promise<{ plan: PlanJson; run: RunResult }> {
  const plan = await planJson(p, flags);
  const run = await goodRun(p, flags);
  expect(plan.states.map((s) => s.task).sort()).toEqual(Object.keys(run.by).sort());
  expect(run.ledger.length, 'one ledger line per state').toBe(plan.states.length);
  for (const s of plan.states) {
    const e = run.by[s.task]!;
    if (s.provisional) {
      expect(s.action, s.task).toBe('run');
      expect(['ran', 'cached'], `${s.task}: provisional run ended ${e.action}`).toContain(e.action);
    } else if (s.key === undefined && s.action === 'run' && / input changed: .* reruns\)$/.test(s.reason)) {
      // a certain rerun whose inputs are pending: its own changes are named in advance, and the
      // run names them too (which inputs came out changed only the run can tell)
      expect(e.action, s.task).toBe('ran');
      const own = s.reason.slice(0, s.reason.lastIndexOf('; input changed: ')).split('; ');
      for (const r of own) expect(e.reason.split('; '), `${s.task}: the run names '${r}'`).toContain(r);
    } else {
      expect({ task: s.task, action: LEDGER_ACTION[s.action], reason: s.reason }).toEqual({ task: s.task, action: e.action, reason: e.reason });
      // a key is known in advance unless an input comes from a state that reruns
      if (s.key !== undefined) expect(s.key, `${s.task}: the plan's key is the run's`).toBe(e.cache_key);
    }
  }
  expect(plan.counts.run).toBe(plan.states.filter((s) => s.action === 'run').length);
  expect(plan.provisional).toBe(plan.states.filter((s) => s.provisional).length);
  return { plan, run };
}

const rows = (plan: PlanJson) => Object.fromEntries(plan.states.map((s) => [s.task, `${s.action}${s.provisional ? '?' : ''}: ${s.reason}`]));

describe('dag plan agrees with dag run, reason by reason', { timeout: TIMEOUT }, () => {
  it('new: a project never run plans every state as a definite `run: new`', async () => {
    // Guards a fixed bug: fx.S1..S4 are planned `run?: input changed: regions_fx (fx.S0 reruns)` (provisional,
    // "may be served from the cache") although nothing of them was ever computed; the run records `new`.
    const p = diamond();
    const { plan } = await planThenRun(p);
    expect(plan.counts).toEqual({ run: 5, cached: 0, stage: 0 });
    expect(rows(plan)).toEqual(Object.fromEntries(STATES.map((s) => [s, 'run: new'])));
    expect(plan.provisional).toBe(0);
  });

  it('unchanged', async () => {
    const p = diamond();
    await goodRun(p);
    const { plan } = await planThenRun(p);
    expect(plan.states.map((s) => `${s.action}: ${s.reason}`)).toEqual(STATES.map(() => 'cached: unchanged'));
    expect(plan.states.every((s) => /^[0-9a-f]{64}$/.test(s.key ?? '')), 'every key is known when nothing reruns').toBe(true);
  });

  it('file changed (with its JSON pointer), then input changed (provisional)', async () => {
    const p = diamond();
    await goodRun(p);
    replaceIn(p, 'config/params.yaml', 'customers_per_region: 50', 'customers_per_region: 60');
    const { plan, run } = await planThenRun(p);
    expect(rows(plan)).toEqual({
      'fx.S0': 'cached: unchanged',
      'fx.S1': 'run: file changed: config/params.yaml (/customers_per_region)',
      'fx.S2': 'run: file changed: config/params.yaml (/customers_per_region)',
      // fx.S3 reads the params too: it certainly reruns (issue 16: it was `run?`), its own change named
      'fx.S3': 'run: file changed: config/params.yaml (/customers_per_region); input changed: customers_fx (fx.S1 reruns), merchants_fx (fx.S2 reruns)',
      'fx.S4': 'run?: input changed: pairs_fx (fx.S3 reruns), gate fx (fx.S3 reruns)',
    });
    expect(run.by['fx.S3']!.action).toBe('ran');
    expect(run.by['fx.S4']!.action).toBe('ran');
  });

  it('kernel changed; its dependants are provisional and end cached (early cutoff)', async () => {
    const p = diamond();
    await goodRun(p);
    write(p, 'states/fx/S1_customers.sql', read(p, 'states/fx/S1_customers.sql') + '-- only a comment\n');
    const { plan, run } = await planThenRun(p);
    expect(rows(plan)).toMatchObject({ 'fx.S1': 'run: kernel changed: states/fx/S1_customers.sql', 'fx.S2': 'cached: unchanged' });
    expect(plan.states.filter((s) => s.provisional).map((s) => s.task)).toEqual(['fx.S3', 'fx.S4']);
    expect(run.by['fx.S3']!.action).toBe('cached');
    expect(run.by['fx.S4']!.action).toBe('cached');
  });

  it('seed changed (world-scoped fx.S0 stays cached)', async () => {
    const p = diamond();
    await goodRun(p);
    const { plan } = await planThenRun(p, ['--seed', '7']);
    expect(rows(plan)).toMatchObject({ 'fx.S0': 'cached: unchanged', 'fx.S1': 'run: seed changed: 42 -> 7', 'fx.S2': 'run: seed changed: 42 -> 7' });
    // and back to seed 42: each seed's latest key is remembered, so all is unchanged
    const back = await planThenRun(p, ['--seed', '42']);
    expect(back.plan.counts).toEqual({ run: 0, cached: 5, stage: 0 });
  });

  it('cache hit: inputs that were computed before (an edit undone)', async () => {
    const p = diamond();
    await goodRun(p);
    const original = read(p, 'config/params.yaml');
    replaceIn(p, 'config/params.yaml', 'merchants_per_region: 5', 'merchants_per_region: 4');
    await goodRun(p);
    write(p, 'config/params.yaml', original);
    const { plan } = await planThenRun(p);
    expect(plan.counts).toEqual({ run: 0, cached: 5, stage: 0 });
    for (const s of ['fx.S1', 'fx.S2', 'fx.S3', 'fx.S4']) expect(rows(plan)[s]).toBe('cached: cache hit: these inputs were computed before');
  });

  it('--from: stage (upstream of --from), forced: --from, downstream of', async () => {
    const p = diamond();
    const base = await goodRun(p);
    const { plan } = await planThenRun(p, ['--from', 'fx.S2']);
    expect(plan.base_run_id).toBe(base.run_id);
    expect(rows(plan)).toEqual({
      'fx.S0': `stage: upstream of --from fx.S2: staged from ${base.run_id}`,
      'fx.S1': `stage: upstream of --from fx.S2: staged from ${base.run_id}`,
      'fx.S2': 'run: forced: --from fx.S2',
      'fx.S3': 'run: downstream of fx.S2',
      'fx.S4': 'run: downstream of fx.S2',
    });
    // with --base and a short id, too
    const again = await planThenRun(p, ['--from', 'S3', '--base', base.run_id]);
    expect(again.plan.counts).toEqual({ run: 2, cached: 0, stage: 3 });
  });

  it('--from over a changed input: plan warns as run does, in text and in JSON (issue 14); the run is not made last-good', async () => {
    const p = diamond();
    await goodRun(p);
    // fx.S1 reads config/params.yaml: staged from the base, it is stale
    replaceIn(p, 'config/params.yaml', 'customers_per_region: 50', 'customers_per_region: 60');
    const plan = await planJson(p, ['--from', 'fx.S3']);
    const warnings = plan.warnings as unknown as { code: string; task: string; base: string; changes: string[]; text: string }[];
    expect(warnings.length).toBeGreaterThan(0);
    // a fact with its fields, and its words
    expect(warnings[0]).toMatchObject({ code: 'staged-stale', task: 'fx.S1', state: 'fx.S1' });
    expect(warnings[0]!.changes.join('; ')).toContain('config/params.yaml');
    expect(warnings.map((w) => w.text).join('\n')).toMatch(/^fx\.S1: staged from base [0-9a-f]{32} although its inputs changed since \(.*config\/params\.yaml.*\); --from fx\.S1 would recompute it$/m);
    const text = await dag(p, ['plan', '--from', 'fx.S3']);
    expect(text.code).toBe(0);
    const textWarnings = text.stderr.split('\n').filter((l) => l.startsWith('warning: ')).map((l) => l.slice('warning: '.length));
    const run = await goodRun(p, ['--from', 'fx.S3']);
    const runWarnings = (run as unknown as { warnings: { code: string; stale?: string[]; text: string }[] }).warnings;
    expect(runWarnings.filter((w) => w.code === 'staged-stale')).toEqual(warnings);
    expect(textWarnings).toEqual(warnings.map((w) => w.text));
    // its gates pass, but a run holding stale staged outputs is not made last-good, and says so
    expect((run as unknown as { labels: string[] }).labels).not.toContain('last-good');
    expect(runWarnings.find((w) => w.code === 'not-promoted')).toMatchObject({ stale: warnings.map((w) => w.task), text: expect.stringMatching(/^not made last-good: fx\.S1, fx\.S2 were staged from the base although their inputs changed since \(a run without --from recomputes them\)$/) });
  });

  it('--no-cache', async () => {
    // Guards a fixed bug: the plan says `input changed: regions_fx (fx.S0 reruns)` (not provisional) for
    // fx.S1..S4 while the run records `--no-cache` (decide() checks pending inputs before noCache).
    const p = diamond();
    await goodRun(p);
    const { plan, run } = await planThenRun(p, ['--no-cache']);
    expect(Object.values(rows(plan))).toEqual(STATES.map(() => 'run: --no-cache'));
    expect(Object.values(run.by).map((e) => e.action)).toEqual(STATES.map(() => 'ran'));
  });

  it('cache entry not served (a corrupt object) is a run-time-only reason: the plan still says cached', async () => {
    // Documented exception: plan does not rehash cache objects (that is the run's job, before a
    // restore), so it promises `cached: unchanged`; the run finds the corruption and reruns.
    const p = diamond();
    const first = await goodRun(p);
    const digest = first.by['fx.S2']!.outputs![0]!.sha256;
    const obj = join(p.runsDir, '.cache', 'objects', digest.slice(0, 2), digest);
    chmodSync(obj, 0o644);
    const bytes = readFileSync(obj);
    bytes[10] = bytes[10]! ^ 0x01;
    writeFileSync(obj, bytes);
    const plan = await planJson(p);
    expect(rows(plan)['fx.S2']).toBe('cached: unchanged');
    const run = await goodRun(p);
    expect(run.by['fx.S2']!.action).toBe('ran');
    expect(run.by['fx.S2']!.reason).toMatch(/^cache entry not served: object [0-9a-f]{12} \(merchants_fx\.parquet\) is corrupt/);
    // every other row still agrees, and the rerun's outputs are what the plan promised: its dependants are cached
    for (const s of plan.states.filter((x) => x.task !== 'fx.S2')) expect({ t: s.task, a: LEDGER_ACTION[s.action], r: s.reason }).toEqual({ t: s.task, a: run.by[s.task]!.action, r: run.by[s.task]!.reason });
    expect(run.by['fx.S2']!.cache_key).toBe(plan.states.find((s) => s.task === 'fx.S2')!.key);
    // the replaced object makes the plan true again
    await planThenRun(p);
  });
});
