// Run locks (ORCHESTRATOR.md §6, §12): a second `dag run` on a run that is running is refused
// (exit 3, naming the holder's pid); the lock of a dead process is taken over, and that is said.
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { actionsOf, dag, deadPid, diamondCopy, ledgerOf, onlyRun, receiptOf, runIds, sha256, slowKernel, spawnDag, tempDir, waitFor, type Project } from './harness.js';

const T = 60_000;

/**
 * A copy whose fx.S2 fails until `allow()`: its first step sorts more than its manifest's tiny
 * memory_limit and dag.yaml's spill cap hold, and allow() lifts its memory_limit. A failure the
 * sealed project files do not cause (DuckDB's settings are not part of the lineage), so the run can
 * be resumed.
 */
function flakyCopy(): Project & { allow: () => void } {
  const p = diamondCopy(({ read, write }) => {
    write('states/fx/S2_merchants.sql', `-- step: precondition\ncreate table allowed as select range as i, (range * 7919) % 1000003 as k from range(3000000) order by k;\n` + read('states/fx/S2_merchants.sql'));
    write('dag.yaml', read('dag.yaml').replace(USUAL, USUAL + '  max_temp_directory_size: 1MB\n'));
    write('states/fx/S2_merchants.yaml', read('states/fx/S2_merchants.yaml') + TINY);
  });
  const manifest = join(p.root, 'states/fx/S2_merchants.yaml');
  return { ...p, allow: () => writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(TINY, '')) };
}
const USUAL = 'duckdb:\n  threads: 2\n  memory_limit: 1GB\n';
const TINY = 'duckdb:\n  memory_limit: 8MB\n';

function writeLock(runDir: string, pid: number): void {
  writeFileSync(join(runDir, '.lock'), JSON.stringify({ pid, host: hostname(), since: '2020-01-01T00:00:00.000Z' }));
}

describe('a run that is running', () => {
  it('refuses `dag run --resume RUN` with exit 3, naming the pid, and finishes undisturbed', async () => {
    const p = diamondCopy((e) => slowKernel(e, 'states/fx/S2_merchants.sql', 150_000_000));
    const first = spawnDag(p, ['run']);
    const { id, dir } = await waitFor('the run folder with its lock and receipt', () => {
      const run = runIds(p).length === 1 ? onlyRun(p) : undefined;
      return run && existsSync(join(run.dir, '.lock')) && existsSync(join(run.dir, 'run_receipt.json')) ? run : undefined;
    });
    expect(JSON.parse(readFileSync(join(dir, '.lock'), 'utf8'))).toMatchObject({ pid: first.pid });

    // while it runs: a resume is refused, and `dag runs` shows it running with its holder
    const [second, runs] = await Promise.all([dag(p, ['run', '--resume', id]), dag(p, ['runs', '--json'])]);
    expect(first.exitCode, 'the first run must still be running (make its slow step slower)').toBeNull();
    expect(second.code, second.stdout + second.stderr).toBe(3);
    expect(second.stderr).toMatch(new RegExp(`locked by pid ${first.pid}\\b`));
    expect(second.stderr).not.toMatch(/^\s+at \S/m);
    expect(JSON.parse(runs.stdout)).toEqual([expect.objectContaining({ id, status: 'running', pid: first.pid })]);

    // a new run cannot reuse the folder either
    const reuse = await dag(p, ['run', '--run-id', id]);
    expect(reuse.code, reuse.stdout + reuse.stderr).toBe(3);
    expect(reuse.stderr).toContain(`run ${id} already exists`);
    expect(reuse.stderr).toContain(`fix: resume run ${id}, or start a new run`);

    const r = await first.result;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(receiptOf(dir).status).toBe('succeeded');
    // once it succeeded, the advice no longer says resume (a succeeded run cannot be resumed)
    const again = await dag(p, ['run', '--run-id', id]);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('fix: it succeeded: start a new run with another run id (or none)');
    expect(ledgerOf(dir).map((e) => e.state).sort()).toEqual(['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3', 'fx.S4']);
    expect(existsSync(join(dir, '.lock'))).toBe(false);
  }, T);
});

describe('a failed run', () => {
  it('whose lock names a live process (not dag) is refused with exit 3 naming that pid, and left as it was', async () => {
    const p = flakyCopy();
    const failed = await dag(p, ['run']);
    expect(failed.code, failed.stdout + failed.stderr).toBe(1);
    const { id, dir } = onlyRun(p);
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      writeLock(dir, sleeper.pid!);
      const ledgerBefore = readFileSync(join(dir, 'ledger.jsonl'), 'utf8');
      p.allow();
      const r = await dag(p, ['run', '--resume', id]);
      expect(r.code, r.stdout + r.stderr).toBe(3);
      expect(r.stderr).toContain(`locked by pid ${sleeper.pid}`);
      expect(readFileSync(join(dir, 'ledger.jsonl'), 'utf8')).toBe(ledgerBefore);
      expect(receiptOf(dir).status).toBe('failed');
      expect(JSON.parse(readFileSync(join(dir, '.lock'), 'utf8'))).toMatchObject({ pid: sleeper.pid });
    } finally {
      sleeper.kill('SIGKILL');
    }
  }, T);

  it('whose lock names a dead pid is taken over by --resume (exit 0), with a warning; published states are kept', async () => {
    const p = flakyCopy();
    const failed = await dag(p, ['run']);
    expect(failed.code, failed.stdout + failed.stderr).toBe(1);
    const { id, dir } = onlyRun(p);
    expect(actionsOf(ledgerOf(dir))).toEqual({ 'fx.S0': 'ran', 'fx.S1': 'ran', 'fx.S2': 'failed', 'fx.S3': 'skipped', 'fx.S4': 'skipped' });
    expect(ledgerOf(dir).find((e) => e.state === 'fx.S2')!.error!.step).toBe('precondition');
    expect(existsSync(join(dir, '.lock'))).toBe(false); // released when the run ended

    const dead = await deadPid();
    writeLock(dir, dead);
    p.allow();
    const r = await dag(p, ['run', '--resume', id]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`resuming ${id}`);
    expect(r.stderr).toContain(`took over the stale lock of dead pid ${dead}`);
    expect(receiptOf(dir).status).toBe('succeeded');
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    // fx.S0 and fx.S1 were kept (ran once), the rest ran now
    const ran = ledgerOf(dir).filter((e) => e.action === 'ran').map((e) => e.state);
    expect(ran).toEqual(['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3', 'fx.S4']);
    expect(r.stdout).toMatch(/^kept\s+fx\.S0\b/m);
    expect(r.stdout).toMatch(/^kept\s+fx\.S1\b/m);
    const v = await dag(p, ['verify', id]);
    expect(v.code, v.stdout).toBe(0);
  }, T);

  it('is resumed with its published files re-verified: a changed one makes its state rerun, with a warning naming the file', async () => {
    const p = flakyCopy();
    expect((await dag(p, ['run'])).code).toBe(1);
    const { id, dir } = onlyRun(p);
    const s1 = ledgerOf(dir).find((e) => e.state === 'fx.S1')!;
    const file = s1.outputs![0]!;
    chmodSync(join(dir, file.path), 0o644);
    appendFileSync(join(dir, file.path), 'x');
    p.allow();
    const r = await dag(p, ['run', '--resume', id]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`warning: fx\\.S1: ${file.path.replace(/[.=]/g, '\\$&')} changed after publishing; it reruns`));
    expect(r.stdout).toMatch(/^kept\s+fx\.S0\b/m);
    expect(r.stdout).not.toMatch(/^kept\s+fx\.S1\b/m);
    const latest = ledgerOf(dir).filter((e) => e.state === 'fx.S1').at(-1)!;
    expect(['ran', 'cached']).toContain(latest.action);
    expect(latest.outputs![0]!.sha256).toBe(file.sha256); // the good bytes again, never the changed ones
    expect(sha256(join(dir, file.path))).toBe(file.sha256);
    expect((await dag(p, ['verify', id])).code).toBe(0);
  }, T);

  it('records the stale-lock takeover in logs/run.log (§6: "taken over, and that is logged"), also with --json', async () => {
    const p = flakyCopy();
    expect((await dag(p, ['run'])).code).toBe(1);
    const { id, dir } = onlyRun(p);
    const dead = await deadPid();
    writeLock(dir, dead);
    p.allow();
    const r = await dag(p, ['run', '--resume', id, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ run_id: id, status: 'succeeded' });
    // with --json the terminal says nothing, so the run log is the only place the takeover can be seen
    const log = readFileSync(join(dir, 'logs', 'run.log'), 'utf8');
    expect(log).toContain(`took over the stale lock of dead pid ${dead}`);
  }, T);
});
