// Issue 13, paths: every value that becomes a path segment is checked before anything touches the
// disk, and RUN arguments resolve only among runs/ (id, unique prefix, label).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, runCli } from '../support/cli.js';
import { STACK_LINE } from '../cli/runDag.js';

function project(): { root: string; runs: string; victim: string } {
  const base = mkdtempSync(join(tmpdir(), 'dag-confine-'));
  const root = join(base, 'a', 'b', 'project');
  mkdirSync(root, { recursive: true });
  cpSync(join(REPO, 'test', 'fixtures', 'diamond'), root, { recursive: true, filter: (src) => !src.includes(`${join('diamond', 'runs')}`) });
  cpSync(join(REPO, 'test', 'fixtures', 'variants', 'scenarios', 'states'), join(root, 'states'), { recursive: true });
  // a folder outside the project that a hostile value would reach
  const victim = join(base, 'victim');
  mkdirSync(victim);
  writeFileSync(join(victim, 'keep.txt'), 'mine');
  return { root, runs: join(root, 'runs'), victim };
}

const dag = (p: { root: string; runs: string }, args: string[]) => runCli(['--root', p.root, ...args], { cwd: p.root, env: { DAG_RUNS_DIR: p.runs } });
const runFolders = (runs: string) => (existsSync(runs) ? readdirSync(runs).filter((n) => /^[0-9a-f]{32}$/.test(n)) : []);

describe('values that become paths', () => {
  it('--scenarios with a climbing id is refused with exit 2 before a run folder exists; the folder outside is untouched', async () => {
    const p = project();
    for (const bad of ['../../../../victim', 'a/b', '.hidden', '..']) {
      const r = await dag(p, ['run', '--scenarios', `baseline,${bad}`]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('[bad-scenario]');
      expect(r.stderr).toContain(`'${bad}'`);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
    expect(readdirSync(p.victim)).toEqual(['keep.txt']);
    expect(runFolders(p.runs)).toEqual([]);
    const plan = await dag(p, ['plan', '--scenarios', '../x']);
    expect(plan.code).toBe(2);
    expect(plan.stderr).toContain("'../x'");
  }, 60_000);

  it('--resume resolves only among runs/: a path is an unknown run, nothing is written outside', async () => {
    const p = project();
    const outside = join(p.victim, 'fake');
    mkdirSync(outside);
    writeFileSync(join(outside, 'run_receipt.json'), JSON.stringify({ run_id: 'fake', status: 'failed' }));
    for (const bad of ['../../victim/fake', p.victim, '../../../etc']) {
      const r = await dag(p, ['run', '--resume', bad]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('[unknown-run]');
      expect(r.stderr).toContain(`'${bad}'`);
    }
    expect(readdirSync(outside)).toEqual(['run_receipt.json']);
    expect(readdirSync(p.victim).sort()).toEqual(['fake', 'keep.txt']);
  }, 60_000);

  it('flags are checked against their ranges, quoting the value: --jobs 0, a seed past 2^53 - 1, a --run-id that is not one, an unknown profile in plan and run', async () => {
    const p = project();
    const jobs = await dag(p, ['run', '--jobs', '0']);
    expect(jobs.code).toBe(2);
    expect(jobs.stderr).toContain("--jobs must be an integer from 1 to 64, got '0'");
    const seed = await dag(p, ['run', '--seed', '99999999999999999999999']);
    expect(seed.code).toBe(2);
    expect(seed.stderr).toContain("--seed must be an integer from 0 to 9007199254740991, got '99999999999999999999999'");
    const seeds = await dag(p, ['run', '--seeds', '1,99999999999999999999999']);
    expect(seeds.code).toBe(2);
    expect(seeds.stderr).toContain("got '99999999999999999999999'");
    const runId = await dag(p, ['run', '--run-id', '../x']);
    expect(runId.code).toBe(2);
    expect(runId.stderr).toContain("--run-id must be 32 lowercase hex characters, got '../x' [bad-run-id]");
    const said: string[] = [];
    for (const cmd of ['plan', 'run']) {
      const r = await dag(p, [cmd, '--profile', 'bogus']);
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain("no profile 'bogus'");
      expect(r.stderr).not.toContain('internal error');
      said.push(r.stderr);
    }
    // one check, one diagnostic (issue 14): plan says exactly what run would
    expect(said[0]).toMatch(/^error: dag\.yaml:\d+ at \/profiles: no profile 'bogus' \(known: [^)]*\) \[unknown-profile\]/);
    expect(said[1]).toBe(said[0]);
    expect(runFolders(p.runs)).toEqual([]);
  }, 60_000);

  it('--resume takes a label or a unique prefix of a run in runs/ (the same resolver as every RUN argument)', async () => {
    const p = project();
    const first = await dag(p, ['run', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const runId = (JSON.parse(first.stdout) as { run_id: string }).run_id;
    for (const text of [runId.slice(0, 8), 'last-good']) {
      const r = await dag(p, ['run', '--resume', text]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(`run ${runId} already succeeded`);
    }
  }, 60_000);
});

describe('a run folder without a receipt (killed before it started)', () => {
  it('is listed by dag runs as incomplete, removed by dag prune, and --run-id does not advise --resume', async () => {
    const p = project();
    const first = await dag(p, ['run', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const orphan = 'ab'.repeat(16);
    const { utimesSync } = await import('node:fs');
    mkdirSync(join(p.runs, orphan, 'logs'), { recursive: true });
    const old = new Date(Date.now() - 3600_000);
    utimesSync(join(p.runs, orphan), old, old);
    const runs = JSON.parse((await dag(p, ['runs', '--json'])).stdout) as { id: string; status: string }[];
    expect(runs.find((r) => r.id === orphan)).toMatchObject({ status: 'incomplete' });
    const reuse = await dag(p, ['run', '--run-id', orphan]);
    expect(reuse.code).toBe(3);
    expect(reuse.stderr).toContain('cannot be resumed');
    expect(reuse.stderr).not.toContain('--resume');
    const plan = await dag(p, ['prune']);
    expect(plan.stdout).toMatch(new RegExp(`${orphan}.*DELETE.*incomplete`));
    const pruned = await dag(p, ['prune', '--yes']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(existsSync(join(p.runs, orphan))).toBe(false);
    expect(runFolders(p.runs)).toHaveLength(1);
  }, 60_000);
});

describe('symlinks in the project', () => {
  it('a symlinked manifest inside the project is followed; a manifest or config file linked from outside is exit 2 naming it', async () => {
    const { symlinkSync, renameSync, unlinkSync } = await import('node:fs');
    const p = project();
    // inside: S4's manifest moved aside and linked back
    renameSync(join(p.root, 'states/fx/S4_summary.yaml'), join(p.root, 'states/fx/S4_summary.yaml.real'));
    symlinkSync('S4_summary.yaml.real', join(p.root, 'states/fx/S4_summary.yaml'));
    const ok = await dag(p, ['validate']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('6 states');
    // outside: the same manifest linked from the victim folder
    writeFileSync(join(p.victim, 'S4.yaml'), readFileSync(join(p.root, 'states/fx/S4_summary.yaml.real')));
    unlinkSync(join(p.root, 'states/fx/S4_summary.yaml'));
    symlinkSync(join(p.victim, 'S4.yaml'), join(p.root, 'states/fx/S4_summary.yaml'));
    const bad = await dag(p, ['validate']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('states/fx/S4_summary.yaml');
    expect(bad.stderr).toContain('[symlink-outside]');
  }, 60_000);

  it('an input file that is a symlink to outside the project is exit 2 naming it', async () => {
    const { symlinkSync, renameSync } = await import('node:fs');
    const p = project();
    const input = 'config/params.yaml';
    renameSync(join(p.root, input), join(p.victim, 'params.yaml'));
    symlinkSync(join(p.victim, 'params.yaml'), join(p.root, input));
    const bad = await dag(p, ['validate']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('[symlink-outside]');
    expect(bad.stderr).toContain(input);
  }, 60_000);
});
