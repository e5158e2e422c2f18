// `dag run --from STATE [--base RUN]` (ORCHESTRATOR.md §9) and `dag diff` (§11), end to end.
import { chmodSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { actions, dag, diamond, goodRun, outputFiles, read, runIds, runJson, SEED_SCOPED, TIMEOUT, write, type Proj, type RunResult } from './helpers.js';

const inodes = (r: RunResult, state: string) => outputFiles(r, state).map((f) => statSync(f).ino);

/** Adds segment gy with a state gy.S2 (world scope, reads regions_fx): `S2` is then ambiguous. */
function addSegmentGy(p: Proj): void {
  write(p, 'states/gy/S2_x.yaml', [
    'id: gy.S2',
    'title: A second segment whose state is also called S2',
    'scope: world',
    'kernel: S2_x.sql',
    'inputs:',
    '  - dataset: regions_fx',
    'outputs:',
    '  - dataset: regions_copy_gy',
    '    format: parquet',
    '    path: data/gy/regions_copy_gy/parameter_hash={parameter_hash}',
    '    schema: contracts/fx.yaml#/tables/regions',
    '    order_by: [region_id]',
    '',
  ].join('\n'));
  write(p, 'states/gy/S2_x.sql', '-- step: copy\ncreate table regions_copy_gy as select region_id, code, weight from regions_fx;\n');
}

describe('dag run --from', { timeout: TIMEOUT }, () => {
  it('the first --from after a fresh run stages with zero rehashed bytes (issue 15: the cache link moved the files\' ctime past their stat record)', async () => {
    const p = diamond();
    const base = await goodRun(p, ['--no-cache']); // every state ran: its files were then linked into the cache
    expect(Object.values(actions(base)).every((a) => a === 'ran')).toBe(true);
    const r = await goodRun(p, ['--from', 'fx.S2', '--base', base.run_id]);
    const staged = Object.values(r.by).filter((e) => e.action === 'staged');
    expect(staged.map((e) => e.state).sort()).toEqual(['fx.S0', 'fx.S1']);
    for (const e of staged) {
      expect(e.bytes, e.state).toBeGreaterThan(0);
      expect(e.hashed_bytes, `${e.state} rehashed its files`).toBe(0);
    }
    // the stat cache is checked, not skipped: a file changed in place (same size and mtime) is hashed and refused
    const victim = outputFiles(base, 'fx.S0')[0]!;
    const st = statSync(victim);
    const bytes = readFileSync(victim);
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0xff;
    chmodSync(victim, 0o644);
    writeFileSync(victim, bytes);
    utimesSync(victim, st.atime, st.mtime);
    const bad = await dag(p, ['run', '--from', 'fx.S2', '--base', base.run_id]);
    expect(bad.code, bad.stdout + bad.stderr).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/changed since it was published/);
  });

  it('--from S2 stages fx.S0 and fx.S1 from the base by hard link and reruns fx.S2 and its dependants', async () => {
    const p = diamond();
    const base = await goodRun(p);
    const r = await goodRun(p, ['--from', 'S2']); // short id: only segment fx has an S2
    expect(r.receipt.staged_from_run_id).toBe(base.run_id);
    expect(r.receipt.from_states).toEqual(['fx.S2']);
    expect(r.receipt.from_state).toBe('fx.S2'); // the spec's field, for its readers
    expect(actions(r)).toEqual({ 'fx.S0': 'staged', 'fx.S1': 'staged', 'fx.S2': 'ran', 'fx.S3': 'ran', 'fx.S4': 'ran' });
    expect(r.counts).toMatchObject({ ran: 3, staged: 2, cached: 0, failed: 0 });
    for (const s of ['fx.S0', 'fx.S1']) {
      expect(r.by[s]!.reason, s).toContain(base.run_id);
      expect(r.by[s]!.reason, s).toContain('--from fx.S2');
      expect(inodes(r, s), `${s} is not a hard link of the base's file`).toEqual(inodes(base, s));
    }
    expect(r.by['fx.S2']!.reason).toBe('forced: --from fx.S2');
    expect(r.by['fx.S3']!.reason).toBe('downstream of fx.S2');
    expect(r.by['fx.S4']!.reason).toBe('downstream of fx.S2');
    for (const s of ['fx.S2', 'fx.S3', 'fx.S4']) expect(inodes(r, s), `${s} ran: files of its own`).not.toEqual(inodes(base, s));

    const diff = await dag(p, ['diff', r.run_id, base.run_id]);
    expect(diff.code, diff.stdout + diff.stderr).toBe(0);
    expect(diff.stdout).toMatch(/^no differences: 6 datasets identical/m);
  });

  it('--from fx.S2 --base RUN stages from the given run, not the default one', async () => {
    const p = diamond();
    const older = await goodRun(p);
    const newer = await goodRun(p); // newest succeeded and last-good: the default base
    const byDefault = await goodRun(p, ['--from', 'fx.S2']);
    expect(byDefault.receipt.staged_from_run_id).toBe(newer.run_id);
    const r = await goodRun(p, ['--from', 'fx.S2', '--base', older.run_id]);
    expect(r.receipt.staged_from_run_id).toBe(older.run_id);
    expect(r.receipt.from_states).toEqual(['fx.S2']);
    expect(r.by['fx.S1']!.reason).toBe(`upstream of --from fx.S2: staged from ${older.run_id}`);
    expect(actions(r)).toEqual({ 'fx.S0': 'staged', 'fx.S1': 'staged', 'fx.S2': 'ran', 'fx.S3': 'ran', 'fx.S4': 'ran' });
  });

  it('a base without a staged state\'s outputs (a partial run) is refused with exit 2 naming the state', async () => {
    const p = diamond();
    await goodRun(p);
    const partial = await goodRun(p, ['fx.S2']); // fx.S0 and fx.S2 only
    expect(Object.keys(partial.by).sort()).toEqual(['fx.S0', 'fx.S2']);
    const before = runIds(p).length;
    for (const cmd of ['run', 'plan']) {
      const r = await dag(p, [cmd, '--from', 'S2', '--base', partial.run_id]);
      expect(r.code, `${cmd}: ${r.stdout}${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/base-incomplete/);
      expect(r.stderr).toMatch(/no published outputs for fx\.S1\b/);
      expect(r.stderr).toContain(partial.run_id);
      expect(r.stderr).not.toMatch(/^\s+at \S/m);
    }
    expect(runIds(p).length, 'a refused run leaves no run folder').toBe(before);
  });

  it('a failed base run is refused for the states it did not publish; the default base skips failed runs', async () => {
    const p = diamond();
    const good = await goodRun(p);
    const kernel = read(p, 'states/fx/S1_customers.sql');
    write(p, 'states/fx/S1_customers.sql', `-- step: boom\nselect error('deliberate failure');\n${kernel}`);
    const failed = await runJson(p);
    expect(failed.status).toBe('failed');
    expect(failed.by['fx.S1']!.action).toBe('failed');
    write(p, 'states/fx/S1_customers.sql', kernel);

    const r = await dag(p, ['run', '--from', 'fx.S3', '--base', failed.run_id]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/no published outputs for fx\.S1\b/);

    const d = await goodRun(p, ['--from', 'fx.S3']);
    expect(d.receipt.staged_from_run_id).toBe(good.run_id);
    expect(actions(d)).toEqual({ 'fx.S0': 'staged', 'fx.S1': 'staged', 'fx.S2': 'staged', 'fx.S3': 'ran', 'fx.S4': 'ran' });
  });

  it('an ambiguous short id is refused with exit 2 listing both candidates', async () => {
    const p = diamond();
    addSegmentGy(p);
    const base = await goodRun(p); // the project with gy.S2 is valid and runs
    expect(base.by['gy.S2']!.action).toBe('ran');
    const before = runIds(p).length;
    for (const cmd of ['run', 'plan']) {
      const r = await dag(p, [cmd, '--from', 'S2']);
      expect(r.code, `${cmd}: ${r.stdout}${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/ambiguous/);
      expect(r.stderr).toContain('fx.S2');
      expect(r.stderr).toContain('gy.S2');
    }
    expect(runIds(p).length).toBe(before);
    // the full id is not ambiguous
    const full = await goodRun(p, ['--from', 'gy.S2']);
    expect(full.receipt.from_states).toEqual(['gy.S2']);
    expect(full.by['gy.S2']!.action).toBe('ran');
    expect(full.by['fx.S2']!.action).toBe('staged');
  });

  it('stages only outputs computed for this run\'s seed: a base of another seed is refused or not used', async () => {
    // Bug report: the default base is the newest good run whatever its seed, and a staged file is
    // relocated into this run's seed={seed} folder, so seed-7 customers are published as seed 42.
    const p = diamond();
    const s42 = await goodRun(p);
    await goodRun(p, ['--seed', '7']); // newest succeeded run, and last-good
    const r = await runJson(p, ['--from', 'fx.S2']); // default seed 42
    if (r.code === 2) return; // refusing is a correct answer
    expect(r.receipt.seed).toBe(42);
    const customers = r.by['fx.S1']!.outputs!.find((o) => o.dataset === 'customers_fx')!;
    expect(customers.path).toContain('seed=42');
    expect(customers.sha256, 'fx.S1 was staged from a run of another seed').toBe(s42.by['fx.S1']!.outputs![0]!.sha256);
  });
});

describe('dag diff', { timeout: TIMEOUT }, () => {
  it('lists the seed-scoped datasets of two seeds as differing and exits 1', async () => {
    const p = diamond();
    const a = await goodRun(p);
    const b = await goodRun(p, ['--seed', '7']);
    const j = await dag(p, ['diff', a.run_id, b.run_id, '--json']);
    expect(j.code, j.stderr).toBe(1);
    const doc = (JSON.parse(j.stdout) as { datasets: { same: number; differences: { dataset: string; change: string }[] } }).datasets;
    expect(doc.differences.map((d) => d.dataset).sort()).toEqual([...SEED_SCOPED].sort());
    expect(doc.differences.every((d) => d.change === 'differs')).toBe(true);
    expect(doc.same).toBe(1); // regions_fx, world-scoped
    const text = await dag(p, ['diff', a.run_id, b.run_id]);
    expect(text.code).toBe(1);
    for (const ds of SEED_SCOPED) expect(text.stdout).toMatch(new RegExp(`^${ds}\\s+\\S+\\s+differs`, 'm'));
    expect(text.stdout).not.toMatch(/^regions_fx/m);
    expect(text.stdout).toMatch(/5 of 6 datasets differ/);
  });

});
