// `--set` and `dag sweep` end to end (issue 19): real `dag` processes on the engine-free fixture
// test/fixtures/certify, whose gate flag_share (B [0.05, 0.95], B+ [0.2, 0.8]) follows the parameter
// config/cz.yaml#/base_share.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SweepRecord } from '../../dag/store/sweeps.js';
import { cleanup, copyCertifyFixture, dag, dagJson, dagRun, LIFECYCLE_TIMEOUT, ledger, readJson, spawnDag, tempDir } from '../lifecycle/helpers.js';
import { STACK_LINE } from './runDag.js';

afterAll(cleanup);

const PARAMS = 'config/cz.yaml';
const fixture = copyCertifyFixture;

interface PlanJson {
  states: { task: string; action: string; reason: string; key?: string }[];
}
const keysOf = (p: PlanJson) => Object.fromEntries(p.states.map((s) => [s.task, s.key]));

describe('--set FILE#/pointer=VALUE', () => {
  const root = fixture();
  const runs = tempDir('runs');

  it('a value its contract refuses exits 2 naming the file, the pointer, the rule and the value, for plan, run and sweep alike', async () => {
    for (const args of [
      ['plan', '--set', `${PARAMS}#/base_share=1.5`],
      ['run', '--set', `${PARAMS}#/base_share=1.5`],
      ['sweep', '--grid', `${PARAMS}#/base_share=0.5,1.5`],
    ]) {
      const r = await dag(root, runs, args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(`${PARAMS} at /base_share`);
      expect(r.stderr).toContain('got 1.5');
      expect(r.stderr).toMatch(/rule contracts\/fixture\.yaml#\/cz_params\/properties\/base_share\/maximum/);
      expect(r.stderr).toContain('[override-schema]');
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
    expect(existsSync(runs) ? readdirSync(runs).filter((d) => /^[0-9a-f]{32}$/.test(d)) : []).toEqual([]); // no run was made
    const typed = await dag(root, runs, ['plan', '--set', `${PARAMS}#/items=many`]);
    expect(typed.code).toBe(2);
    expect(typed.stderr).toContain("got 'many'");
  }, LIFECYCLE_TIMEOUT);

  it('a pointer whose parent the document lacks, a file no state reads, a malformed flag, one pointer twice: exit 2, each named', async () => {
    const cases: [string, RegExp][] = [
      [`${PARAMS}#/nope/deeper=1`, /config\/cz\.yaml at \/nope\/deeper: .*nothing at \/nope \[override-pointer\]/],
      ['config/none.yaml#/a=1', /no state reads config\/none\.yaml \[override-unknown-file\]/],
      [`${PARAMS}=1`, /--set takes FILE#\/json\/pointer=VALUE, got 'config\/cz\.yaml=1' \[bad-override\]/],
      [`${PARAMS}#/base_share`, /--set takes FILE#\/json\/pointer=VALUE/],
    ];
    for (const [set, message] of cases) {
      const r = await dag(root, runs, ['plan', '--set', set]);
      expect(r.code, set).toBe(2);
      expect(r.stderr, set).toMatch(message);
    }
    const twice = await dag(root, runs, ['plan', '--set', `${PARAMS}#/base_share=0.4`, '--set', `${PARAMS}#/base_share=0.6`]);
    expect(twice.stderr).toContain('[override-twice]');
  }, LIFECYCLE_TIMEOUT);

  it('gives the cache keys, folders and reasons that editing the file gives: a run with --set, then one after the edit, is all cached', async () => {
    const base = await dagRun(root, runs, []);
    const file = join(root, PARAMS);
    const pristine = readFileSync(file, 'utf8');
    const planWithEdit = async () => {
      writeFileSync(file, pristine.replace('base_share: 0.5', 'base_share: 0.7'));
      try {
        return await dagJson<PlanJson>(root, runs, ['plan']);
      } finally {
        writeFileSync(file, pristine);
      }
    };
    const planSet = await dagJson<PlanJson>(root, runs, ['plan', '--set', `${PARAMS}#/base_share=0.7`]);
    expect(planSet.states.find((s) => s.task === 'cz.S1')).toMatchObject({ action: 'run', reason: `file changed: ${PARAMS} (/base_share)` });
    expect(planSet).toEqual(await planWithEdit());
    const withSet = await dagRun(root, runs, ['--set', `${PARAMS}#/base_share=0.7`, '--no-promote']);
    expect(withSet.counts.ran).toBe(3);
    const receipt = readJson(join(withSet.run_dir, 'run_receipt.json'));
    expect(receipt.overrides).toEqual([{ file: PARAMS, pointer: '/base_share', value: 0.7 }]);
    expect(receipt.parameter_hash).not.toBe(readJson(join(base.run_dir, 'run_receipt.json')).parameter_hash);
    // once run, every key is known: the same with --set as with the edit
    expect(keysOf(await dagJson<PlanJson>(root, runs, ['plan', '--set', `${PARAMS}#/base_share=0.7`]))).toEqual(keysOf(await planWithEdit()));

    writeFileSync(file, pristine.replace('base_share: 0.5', 'base_share: 0.7'));
    try {
      const edited = await dagRun(root, runs, ['--no-promote']);
      expect(edited.counts).toMatchObject({ ran: 0, cached: 3 });
      expect(readJson(join(edited.run_dir, 'run_receipt.json')).parameter_hash).toBe(receipt.parameter_hash);
      expect(ledger(edited.run_dir).map((e) => e.cache_key)).toEqual(ledger(withSet.run_dir).map((e) => e.cache_key));
    } finally {
      writeFileSync(file, pristine);
    }
    // and without it, the original keys again: all cached
    expect((await dagRun(root, runs, ['--no-promote'])).counts.ran).toBe(0);
  }, LIFECYCLE_TIMEOUT);

  it('a list or a map as VALUE is YAML flow, and the reason names the pointers that changed', async () => {
    const r = await dag(root, runs, ['plan', '--set', 'config/cz_policy.yaml#/gates/flag_share={B: [0.05, 0.95], Bplus: [0.1, 0.9]}', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const reasons = (JSON.parse(r.stdout) as PlanJson).states.map((s) => s.reason);
    expect(reasons, r.stdout).toContain('file changed: config/cz_policy.yaml (/gates/flag_share/Bplus/0, /gates/flag_share/Bplus/1)');
  }, LIFECYCLE_TIMEOUT);
});

describe('dag sweep', () => {
  const root = fixture();
  const runs = tempDir('runs');
  const grid = `${PARAMS}#/base_share=0.01,0.9,0.5`;

  it('runs every candidate, ranks the one whose gates pass first, a B+ miss second, a hard failure last; shows them side by side; prune keeps the best', async () => {
    await dagRun(root, runs, []); // a base: the 0.5 candidate is the project as it stands, served from the cache
    const rec = await dagJson<SweepRecord>(root, runs, ['sweep', '--grid', grid]);
    expect(rec.status).toBe('finished');
    expect(rec.candidates.map((c) => c.overrides[0]!.value)).toEqual([0.01, 0.9, 0.5]);
    expect(rec.ranking.map((r) => [r.candidate, r.hard_fails, r.bplus_misses])).toEqual([
      ['c3', 0, 0],
      ['c2', 0, 1],
      ['c1', 1, 0],
    ]);
    expect(rec.ranking[1]!.distance).toBeGreaterThan(0);
    expect(rec.ranking[2]!.gates['validation_report_cz:flag_share']!.status).toBe('FAIL');
    // ordinary runs: grouped by the sweep id, the sweep in the receipt, never promoted, the cache shared
    for (const c of rec.candidates) {
      const receipt = readJson(join(runs, c.runs[0]!.run_id, 'run_receipt.json'));
      expect(receipt).toMatchObject({ group_id: rec.sweep_id, sweep: { id: rec.sweep_id, candidate: c.id }, overrides: c.overrides });
    }
    const best = rec.candidates.find((c) => c.id === 'c3')!.runs[0]!.run_id;
    expect(ledger(join(runs, best)).every((e) => e.action === 'cached')).toBe(true);
    expect(readJson(join(runs, 'labels.json'))['last-good']).not.toContain(best);

    const text = await dag(root, runs, ['sweep', '--show', rec.sweep_id.slice(0, 6)]);
    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines.find((l) => l.startsWith(`${PARAMS}#/base_share`))).toMatch(/0\.5\s+0\.9\s+0\.01$/);
    expect(lines.find((l) => l.startsWith('validation_report_cz:flag_share'))).toMatch(/WARN.*FAIL$/);

    const prune = await dagJson(root, runs, ['prune']);
    const row = (run: string) => prune.rows.find((r: { run: string }) => r.run === run);
    expect(row(best)).toMatchObject({ action: 'KEEP', reason: expect.stringContaining(`sweep ${rec.sweep_id}: best candidate c3`) });
    expect(row(rec.candidates[1]!.runs[0]!.run_id)).toMatchObject({ action: 'DELETE', reason: expect.stringContaining('not its best candidate') });
    expect(row(rec.candidates[0]!.runs[0]!.run_id).action).toBe('DELETE'); // its gate failed: a failed run
    const dropped = await dagJson(root, runs, ['prune', '--drop-sweep', rec.sweep_id]);
    expect(dropped.rows.find((r: { run: string }) => r.run === best).action).toBe('DELETE');
    await dag(root, runs, ['prune', '--yes']);
    expect(existsSync(join(runs, best))).toBe(true);
    expect(existsSync(join(runs, rec.candidates[1]!.runs[0]!.run_id))).toBe(false);
    // the record still shows what was measured
    expect((await dagJson<SweepRecord>(root, runs, ['sweep', '--show', rec.sweep_id])).ranking[0]!.candidate).toBe('c3');
  }, LIFECYCLE_TIMEOUT * 2);

  it('the ranking table names rank, candidate, parameters, hard fails, B+ misses, distance, time and run; exit 1 when no candidate passes B', async () => {
    const r = await dag(root, runs, ['sweep', '--grid', `${PARAMS}#/base_share=0.01,0.02`, '--quiet']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/RANK\s+CANDIDATE\s+PARAMETERS\s+HARD FAILS\s+B\+ MISSES\s+DISTANCE\s+SECONDS\s+RUN/);
    expect(r.stdout).toMatch(/^1\s+c2\s+\/base_share=0\.02\s+1\s+0\s+/m);
  }, LIFECYCLE_TIMEOUT);

  it('--resume continues an interrupted sweep: finished candidates are skipped, the rest run', async () => {
    const values = [0.3, 0.35, 0.4, 0.45, 0.55, 0.6];
    const started = spawnDag(root, runs, ['sweep', '--grid', `${PARAMS}#/base_share=${values.join(',')}`, '--quiet']);
    const before = new Set(existsSync(join(runs, '.sweeps')) ? readdirSync(join(runs, '.sweeps')) : []);
    let id: string | undefined;
    // interrupt once the first candidate has finished (the record is rewritten atomically)
    for (let i = 0; i < 600; i++) {
      await new Promise((r) => setTimeout(r, 100));
      id ??= (existsSync(join(runs, '.sweeps')) ? readdirSync(join(runs, '.sweeps')) : []).find((f) => f.endsWith('.json') && !before.has(f))?.replace('.json', '');
      if (id && readJson<SweepRecord>(join(runs, '.sweeps', `${id}.json`)).ranking.length >= 1) break;
    }
    expect(id).toBeDefined();
    started.child.kill('SIGINT');
    const stopped = await started.done;
    expect(stopped.code, stopped.stderr).toBe(130);
    const half = readJson<SweepRecord>(join(runs, '.sweeps', `${id}.json`));
    expect(half.status).toBe('interrupted');
    const finished = half.ranking.map((r) => r.candidate);
    expect(finished.length).toBeGreaterThanOrEqual(1);
    expect(finished.length).toBeLessThan(values.length);
    expect(stopped.stdout).toContain(`dag sweep --resume ${id}`);

    const again = await dagJson<SweepRecord>(root, runs, ['sweep', '--resume', id!]);
    expect(again.status).toBe('finished');
    expect(again.ranking).toHaveLength(values.length);
    for (const c of finished) expect(again.candidates.find((x) => x.id === c)!.runs).toEqual(half.candidates.find((x) => x.id === c)!.runs);
    expect(again.ranking[0]!.hard_fails + again.ranking[0]!.bplus_misses).toBe(0);
    const done = await dag(root, runs, ['sweep', '--resume', id!]);
    expect(done.code).toBe(3);
    expect(done.stderr).toContain('nothing to resume');
  }, LIFECYCLE_TIMEOUT * 2);
});
