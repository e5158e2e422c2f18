// Labels (ORCHESTRATOR.md §10, README "Run lifecycle"): authority, candidate and last-good name one
// run each, so labelling another run moves them; witness and custom labels may name many runs; a
// RUN argument may be a label naming one run; a succeeded full run whose gates pass is promoted to
// last-good unless --no-promote. Real `dag` processes on a copy of the diamond fixture.
import { readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, copyFixture, dag, dagJson, dagRun, labelsFile, LIFECYCLE_TIMEOUT, tempDir } from './helpers.js';

afterAll(cleanup);

const STACK_LINE = /^\s+at \S/m;

interface RunsRow {
  id: string;
  status: string;
  labels: string[];
}

async function labelsOf(root: string, runs: string): Promise<Map<string, string[]>> {
  const rows = await dagJson<RunsRow[]>(root, runs, ['runs']);
  return new Map(rows.map((r) => [r.id, r.labels]));
}

const runFolders = (runs: string) => readdirSync(runs).filter((n) => /^[0-9a-f]{32}$/.test(n));

describe('dag label: exclusive and shared labels', () => {
  it('authority, candidate and last-good move to the newly labelled run; witness and custom labels name many; dag runs shows them', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const root = copyFixture();
    const runs = tempDir('runs');
    const a = (await dagRun(root, runs, ['--no-promote'])).run_id;
    const b = (await dagRun(root, runs, ['--no-promote'])).run_id;
    expect(a).not.toBe(b);
    expect(labelsFile(runs)).toEqual({});

    for (const label of ['authority', 'candidate', 'last-good']) {
      const first = await dagJson(root, runs, ['label', a, label]);
      expect(first).toEqual({ run: a, label, moved_from: null });
      expect(labelsFile(runs)[label]).toEqual([a]);
      const second = await dagJson(root, runs, ['label', b, label]);
      expect(second).toEqual({ run: b, label, moved_from: a });
      expect(labelsFile(runs)[label]).toEqual([b]);
      // labelling the holder again moves nothing
      expect(await dagJson(root, runs, ['label', b, label])).toEqual({ run: b, label, moved_from: null });
    }
    // the human twin says where the label came from
    const text = await dag(root, runs, ['label', a, 'authority']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`${a} is now authority (moved from ${b})`);

    for (const label of ['witness', 'seed-sweep_2']) {
      expect((await dag(root, runs, ['label', a, label])).code).toBe(0);
      expect((await dag(root, runs, ['label', b, label])).code).toBe(0);
      expect((await dag(root, runs, ['label', b, label])).code).toBe(0); // twice: still once
      expect(labelsFile(runs)[label]).toEqual([a, b]);
    }

    const shown = await labelsOf(root, runs);
    expect(shown.get(a)).toEqual(['authority', 'seed-sweep_2', 'witness']);
    expect(shown.get(b)).toEqual(['candidate', 'last-good', 'seed-sweep_2', 'witness']);
    // the table shows them too
    const table = await dag(root, runs, ['runs']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n').find((l) => l.startsWith(a))).toContain('authority,seed-sweep_2,witness');
  });

  it('dag unlabel removes one label from one run; an unknown label, or bad label text, exits 2 and changes nothing', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const root = copyFixture();
    const runs = tempDir('runs');
    const a = (await dagRun(root, runs, ['--no-promote'])).run_id;
    const b = (await dagRun(root, runs, ['--no-promote'])).run_id;
    for (const [run, label] of [[a, 'witness'], [b, 'witness'], [a, 'candidate']] as const) expect((await dag(root, runs, ['label', run, label])).code).toBe(0);

    expect(await dagJson(root, runs, ['unlabel', b, 'witness'])).toEqual({ run: b, label: 'witness', removed: true });
    expect(labelsFile(runs)).toEqual({ witness: [a], candidate: [a] });
    const human = await dag(root, runs, ['unlabel', a, 'candidate']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`${a} is no longer candidate`);
    expect(labelsFile(runs)).toEqual({ witness: [a] });
    expect((await labelsOf(root, runs)).get(a)).toEqual(['witness']);

    const before = labelsFile(runs);
    // a label nobody has, and a label another run has
    for (const [run, label] of [[a, 'no-such-label'], [b, 'witness'], [a, 'candidate']] as const) {
      const r = await dag(root, runs, ['unlabel', run, label]);
      expect(r.code, `unlabel ${run} ${label}`).toBe(2);
      expect(r.stderr).toContain(`has no label '${label}'`);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
    for (const bad of ['BAD', 'two words', '9lives', 'x'.repeat(41), 'dots.are.out']) {
      const r = await dag(root, runs, ['label', a, bad]);
      expect(r.code, `label ${a} '${bad}'`).toBe(2);
      expect(r.stderr).toContain('[bad-label]');
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
    expect((await dag(root, runs, ['label', a, 'x'.repeat(40)])).code).toBe(0); // the longest allowed
    expect(labelsFile(runs)).toEqual({ ...before, ['x'.repeat(40)]: [a] });
  });

  it('a RUN argument may be a label naming one run; a label naming many is ambiguous (exit 2)', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const root = copyFixture();
    const runs = tempDir('runs');
    const a = (await dagRun(root, runs)).run_id; // promoted: last-good
    const b = (await dagRun(root, runs, ['--no-promote'])).run_id;
    expect(labelsFile(runs)['last-good']).toEqual([a]);

    const v = await dagJson(root, runs, ['verify', 'last-good']);
    expect(v.run).toBe(a);
    expect(v.ok).toBe(true);
    expect(v.files).toBeGreaterThan(0);
    const text = await dag(root, runs, ['verify', 'last-good']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(a);

    // a label as the RUN of label/unlabel
    expect(await dagJson(root, runs, ['label', 'last-good', 'authority'])).toEqual({ run: a, label: 'authority', moved_from: null });
    expect((await dag(root, runs, ['label', b, 'last-good'])).code).toBe(0);
    expect((await dagJson(root, runs, ['verify', 'last-good'])).run).toBe(b);
    expect((await dagJson(root, runs, ['verify', 'authority'])).run).toBe(a);

    for (const run of [a, b]) expect((await dag(root, runs, ['label', run, 'witness'])).code).toBe(0);
    const amb = await dag(root, runs, ['verify', 'witness']);
    expect(amb.code).toBe(2);
    expect(amb.stderr).toContain("label 'witness' names 2 runs");
    const unknown = await dag(root, runs, ['verify', 'candidate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('[unknown-run]');
  });
});

describe('promotion to last-good', () => {
  it('a succeeded full run is promoted; --no-promote, a failed run and a partial run are not; --label labels the run', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const root = copyFixture();
    const broken = copyFixture({ breakS2: true });
    const runs = tempDir('runs');

    const first = await dagRun(root, runs);
    expect(first.status).toBe('succeeded');
    expect(first.labels).toEqual(['last-good']);
    expect(labelsFile(runs)).toEqual({ 'last-good': [first.run_id] });

    const unpromoted = await dagRun(root, runs, ['--no-promote']);
    expect(unpromoted.status).toBe('succeeded');
    expect(unpromoted.counts.cached).toBe(5); // a full run, every gate passed: only the flag holds it back
    expect(unpromoted.labels).toEqual([]);
    expect(labelsFile(runs)['last-good']).toEqual([first.run_id]);

    const failed = await dagRun(broken, runs, [], 1);
    expect(failed.status).toBe('failed');
    expect(failed.failures.map((f) => f.task)).toEqual(['fx.S2']);
    expect(failed.labels).toEqual([]);
    expect(labelsFile(runs)['last-good']).toEqual([first.run_id]);

    const partial = await dagRun(root, runs, ['fx.S1']);
    expect(partial.status).toBe('succeeded');
    expect((partial.counts.cached ?? 0) + (partial.counts.ran ?? 0)).toBe(2); // fx.S0 and fx.S1 only: no gate state
    expect(partial.labels).toEqual([]);
    expect(labelsFile(runs)['last-good']).toEqual([first.run_id]);

    const second = await dagRun(root, runs, ['--seed', '7']);
    expect(second.status).toBe('succeeded');
    expect(second.labels).toEqual(['last-good']);
    expect(labelsFile(runs)['last-good']).toEqual([second.run_id]); // moved

    const labelled = await dagRun(root, runs, ['--label', 'candidate', '--label', 'witness', '--no-promote']);
    expect(labelled.labels).toEqual(['candidate', 'witness']);
    expect(labelsFile(runs)).toEqual({ 'last-good': [second.run_id], candidate: [labelled.run_id], witness: [labelled.run_id] });
    const shown = await labelsOf(root, runs);
    expect(shown.get(labelled.run_id)).toEqual(['candidate', 'witness']);
    expect(shown.get(second.run_id)).toEqual(['last-good']);
    for (const id of [first.run_id, unpromoted.run_id, failed.run_id, partial.run_id]) expect(shown.get(id)).toEqual([]);
  });

  // `--label` is documented as "label the run when it succeeds" (dag/cli/run.ts, RunOptions.labels).
  it('dag run --label does not label a failed run (a failed candidate would displace the good one)', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const root = copyFixture();
    const broken = copyFixture({ breakS2: true });
    const runs = tempDir('runs');
    const good = await dagRun(root, runs, ['--label', 'candidate']);
    expect(labelsFile(runs).candidate).toEqual([good.run_id]);
    const failed = await dagRun(broken, runs, ['--label', 'candidate', '--label', 'witness'], 1);
    expect(failed.status).toBe('failed');
    expect(failed.labels).toEqual([]);
    expect(labelsFile(runs).candidate).toEqual([good.run_id]);
    expect(labelsFile(runs).witness ?? []).toEqual([]);
  });

  it('dag run --label checks the label text like dag label does (exit 2, before a run folder exists)', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const root = copyFixture();
    const runs = tempDir('runs');
    const r = await dag(root, runs, ['run', '--label', 'BAD label', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).toContain('bad-label');
    expect(runFolders(runs)).toEqual([]);
    expect(labelsFile(runs)).toEqual({});
  });
});
