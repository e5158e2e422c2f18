// A resume continues a run as it started: --no-cache and --from (with its base) included.
// Each run here is interrupted the way a crash leaves it: a receipt still `interrupted`, and the
// ledger cut after the states it had published (the kill tests make real ones; this is the
// request a resume rebuilds, tested without the timing of a kill).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { actionsOf, dag, diamondCopy, ledgerOf, runIdOf } from './harness.js';

/** Leaves run `dir` as if it had been stopped after its first `keep` ledger lines. */
function interruptAfter(dir: string, keep: number): void {
  const ledger = readFileSync(join(dir, 'ledger.jsonl'), 'utf8').split('\n').filter(Boolean);
  const kept = ledger.slice(0, keep).map((l) => JSON.parse(l) as { outputs?: { path: string }[] });
  const published = new Set(kept.flatMap((e) => (e.outputs ?? []).map((o) => o.path)));
  // the later states' outputs are removed, as a crash before their publish would leave them
  for (const l of ledger.slice(keep)) for (const o of (JSON.parse(l) as { outputs?: { path: string }[] }).outputs ?? []) if (!published.has(o.path)) rmSync(join(dir, o.path), { force: true });
  writeFileSync(join(dir, 'ledger.jsonl'), ledger.slice(0, keep).join('\n') + '\n');
  const receipt = JSON.parse(readFileSync(join(dir, 'run_receipt.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'run_receipt.json'), JSON.stringify({ ...receipt, status: 'interrupted', finished_utc: null }, null, 2));
}

describe('--resume rebuilds the request the run started with', () => {
  it('a --no-cache run, resumed, still serves nothing from the cache', async () => {
    const p = diamondCopy();
    expect((await dag(p, ['run', '--quiet'])).code).toBe(0); // fills the cache
    const r = await dag(p, ['run', '--no-cache']);
    expect(r.code, r.stderr).toBe(0);
    const id = runIdOf(r.stdout);
    const dir = join(p.runsDir, id);
    expect(JSON.parse(readFileSync(join(dir, 'run_receipt.json'), 'utf8')).no_cache).toBe(true);
    interruptAfter(dir, 2);
    const resumed = await dag(p, ['run', '--resume', id]);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    const actions = actionsOf(ledgerOf(dir));
    // the three states after the cut ran again (the bug: they were served from the cache)
    expect(Object.values(actions).filter((a) => a === 'cached')).toEqual([]);
    expect(ledgerOf(dir).slice(2).every((e) => e.action === 'ran' && e.reason === '--no-cache')).toBe(true);
  }, 60_000);

  it('a --from run, resumed, still stages from its base and reruns the --from state', async () => {
    const p = diamondCopy();
    const base = await dag(p, ['run', '--quiet']);
    expect(base.code).toBe(0);
    const r = await dag(p, ['run', '--from', 'fx.S3']);
    expect(r.code, r.stderr).toBe(0);
    const id = runIdOf(r.stdout);
    const dir = join(p.runsDir, id);
    const staged = ledgerOf(dir).filter((e) => e.action === 'staged').length;
    interruptAfter(dir, staged); // stopped after staging, before fx.S3 ran
    const resumed = await dag(p, ['run', '--resume', id]);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    const after = ledgerOf(dir).slice(staged);
    // fx.S3 is forced by --from: it runs, it is not served from the cache
    expect(after.find((e) => e.state === 'fx.S3')).toMatchObject({ action: 'ran', reason: 'forced: --from fx.S3' });
  }, 60_000);

  it('a run whose project changed since it started is not resumed (exit 3, refused like a succeeded one), and the fix says a new run reuses the cache', async () => {
    const p = diamondCopy();
    const r = await dag(p, ['run']);
    expect(r.code, r.stderr).toBe(0);
    const id = runIdOf(r.stdout);
    interruptAfter(join(p.runsDir, id), 2);
    const params = join(p.root, 'config/params.yaml');
    writeFileSync(params, readFileSync(params, 'utf8').replace('customers_per_region: 50', 'customers_per_region: 60'));
    const resumed = await dag(p, ['run', '--resume', id]);
    expect(resumed.code).toBe(3);
    expect(resumed.stderr).toMatch(/the project changed since run [0-9a-f]{32} started \(its parameter_hash differs\), so resuming would mix two versions \[resume-changed\]/);
    expect(resumed.stderr).toContain('fix: start a new run (it serves every state whose inputs did not change from the cache)');
  }, 60_000);
});
