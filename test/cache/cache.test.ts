// The content-addressed cache (ORCHESTRATOR.md §7), end to end: real runs of the diamond fixture.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { actions, allOf, dag, diamond, goodRun, outputFiles, planActions, planJson, read, replaceIn, runJson, STATES, TIMEOUT, write, type Proj, type RunResult } from './helpers.js';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const objectPath = (p: Proj, digest: string) => join(p.runsDir, '.cache', 'objects', digest.slice(0, 2), digest);
const digestOf = (r: RunResult, state: string, dataset: string) => {
  const o = r.by[state]?.outputs?.find((x) => x.dataset === dataset);
  expect(o, `${state} published no ${dataset}`).toBeDefined();
  return o!.sha256;
};

describe('dag run serves unchanged states from the cache', { timeout: TIMEOUT }, () => {
  it('a second run is all cached, succeeds, and its files are hard links of the first run\'s', async () => {
    const p = diamond();
    const first = await goodRun(p);
    expect(actions(first)).toEqual(allOf('ran'));
    const second = await goodRun(p);
    expect(actions(second)).toEqual(allOf('cached'));
    expect(second.counts).toMatchObject({ ran: 0, cached: 5, failed: 0, skipped: 0 });
    expect(second.receipt.status).toBe('succeeded');
    for (const state of STATES) {
      expect(second.by[state]!.reason).toBe('unchanged');
      expect(second.by[state]!.cache_key).toBe(first.by[state]!.cache_key);
      const a = outputFiles(first, state);
      const b = outputFiles(second, state);
      expect(b.map((f) => f.slice(second.run_dir.length))).toEqual(a.map((f) => f.slice(first.run_dir.length)));
      a.forEach((fa, i) => {
        const sa = statSync(fa);
        const sb = statSync(b[i]!);
        expect(sb.ino, `${b[i]} is not a hard link of ${fa}`).toBe(sa.ino);
        expect(sb.dev).toBe(sa.dev);
        expect(sb.nlink).toBeGreaterThanOrEqual(2);
        expect(sb.mode & 0o777, 'a file that shares its inode with the cache must be read-only').toBe(0o444);
      });
    }
  });

  it('a comment-only edit of config/params.yaml changes nothing, in the plan or the run', async () => {
    const p = diamond();
    await goodRun(p);
    write(p, 'config/params.yaml', `# a new first line\n${read(p, 'config/params.yaml').replace(/^#.*$/m, '# reworded comment')}\n# trailing comment\n`);
    const plan = await planJson(p);
    expect(planActions(plan)).toEqual(allOf('cached'));
    expect(plan.states.map((s) => s.reason)).toEqual(STATES.map(() => 'unchanged'));
    const r = await goodRun(p);
    expect(actions(r)).toEqual(allOf('cached'));
  });

  it('a value edit reruns the states reading config/params.yaml, naming the file and the JSON pointer, and their dependants', async () => {
    const p = diamond();
    const first = await goodRun(p);
    replaceIn(p, 'config/params.yaml', 'customers_per_region: 50', 'customers_per_region: 60');
    const why = 'file changed: config/params.yaml (/customers_per_region)';

    const plan = await planJson(p);
    expect(planActions(plan)).toEqual({ 'fx.S0': 'cached', 'fx.S1': 'run', 'fx.S2': 'run', 'fx.S3': 'run', 'fx.S4': 'run' });
    const reason = Object.fromEntries(plan.states.map((s) => [s.task, s.reason]));
    expect(reason['fx.S1']).toBe(why);
    expect(reason['fx.S2']).toBe(why);

    const r = await goodRun(p);
    expect(actions(r)).toEqual({ 'fx.S0': 'cached', 'fx.S1': 'ran', 'fx.S2': 'ran', 'fx.S3': 'ran', 'fx.S4': 'ran' });
    for (const s of ['fx.S1', 'fx.S2', 'fx.S3']) expect(r.by[s]!.reason, s).toContain(why);
    expect(r.by['fx.S4']!.reason).toContain('input changed: pairs_fx');
    expect(r.by['fx.S4']!.reason).not.toContain('config/params.yaml'); // S4 does not read the file
    // the new value really reached the kernel: 4 regions x 60 customers
    expect(r.by['fx.S1']!.rows).toEqual({ customers_fx: 240 });
    expect(digestOf(r, 'fx.S0', 'regions_fx')).toBe(digestOf(first, 'fx.S0', 'regions_fx'));
    // S2 reads the file but not this value: a rerun that comes out byte-identical
    expect(digestOf(r, 'fx.S2', 'merchants_fx')).toBe(digestOf(first, 'fx.S2', 'merchants_fx'));
  });

  it('editing merchants_per_region names /merchants_per_region, and S1 comes out identical', async () => {
    const p = diamond();
    const first = await goodRun(p);
    replaceIn(p, 'config/params.yaml', 'merchants_per_region: 5', 'merchants_per_region: 6');
    const why = 'file changed: config/params.yaml (/merchants_per_region)';
    const plan = await planJson(p);
    expect(plan.states.find((s) => s.task === 'fx.S1')!.reason).toBe(why);
    const r = await goodRun(p);
    expect(actions(r)).toEqual({ 'fx.S0': 'cached', 'fx.S1': 'ran', 'fx.S2': 'ran', 'fx.S3': 'ran', 'fx.S4': 'ran' });
    for (const s of ['fx.S1', 'fx.S2', 'fx.S3']) expect(r.by[s]!.reason, s).toContain(why);
    expect(r.by['fx.S2']!.rows).toEqual({ merchants_fx: 24 });
    expect(digestOf(r, 'fx.S1', 'customers_fx')).toBe(digestOf(first, 'fx.S1', 'customers_fx'));
    expect(digestOf(r, 'fx.S3', 'pairs_fx')).not.toBe(digestOf(first, 'fx.S3', 'pairs_fx'));
  });

  it('a kernel edit that leaves the outputs identical reruns that state only: its dependants are cached (early cutoff)', async () => {
    const p = diamond();
    const first = await goodRun(p);
    write(p, 'states/fx/S1_customers.sql', read(p, 'states/fx/S1_customers.sql') + '\n-- a comment changes the kernel bytes, not its result\n');
    const why = 'kernel changed: states/fx/S1_customers.sql';
    const plan = await planJson(p);
    expect(planActions(plan)).toEqual({ 'fx.S0': 'cached', 'fx.S1': 'run', 'fx.S2': 'cached', 'fx.S3': 'run', 'fx.S4': 'run' });
    expect(plan.states.find((s) => s.task === 'fx.S1')).toMatchObject({ reason: why });
    expect(plan.states.find((s) => s.task === 'fx.S1')!.provisional).toBeFalsy();
    // the plan cannot know S1's outputs in advance: S3 and S4 may yet be served
    expect(plan.states.filter((s) => s.provisional).map((s) => s.task)).toEqual(['fx.S3', 'fx.S4']);

    const r = await goodRun(p);
    expect(actions(r)).toEqual({ 'fx.S0': 'cached', 'fx.S1': 'ran', 'fx.S2': 'cached', 'fx.S3': 'cached', 'fx.S4': 'cached' });
    expect(r.by['fx.S1']!.reason).toBe(why);
    expect(r.by['fx.S1']!.cache_key).not.toBe(first.by['fx.S1']!.cache_key);
    expect(digestOf(r, 'fx.S1', 'customers_fx')).toBe(digestOf(first, 'fx.S1', 'customers_fx'));
    expect(r.by['fx.S3']!.cache_key).toBe(first.by['fx.S3']!.cache_key);
    // served, so the same inode as the first run's
    expect(statSync(outputFiles(r, 'fx.S3')[0]!).ino).toBe(statSync(outputFiles(first, 'fx.S3')[0]!).ino);
  });

  it('world-scoped fx.S0 is computed once and served to another seed; seed-scoped states run', async () => {
    const p = diamond();
    const s42 = await goodRun(p);
    const s7 = await goodRun(p, ['--seed', '7']);
    expect(s7.receipt.seed).toBe(7);
    expect(actions(s7)).toEqual({ 'fx.S0': 'cached', 'fx.S1': 'ran', 'fx.S2': 'ran', 'fx.S3': 'ran', 'fx.S4': 'ran' });
    expect(s7.by['fx.S0']!.cache_key).toBe(s42.by['fx.S0']!.cache_key);
    expect(statSync(outputFiles(s7, 'fx.S0')[0]!).ino).toBe(statSync(outputFiles(s42, 'fx.S0')[0]!).ino);
    for (const s of ['fx.S1', 'fx.S2', 'fx.S3', 'fx.S4']) {
      expect(s7.by[s]!.cache_key, s).not.toBe(s42.by[s]!.cache_key);
      for (const o of s7.by[s]!.outputs!) expect(o.path, s).toContain('seed=7');
    }
    expect(digestOf(s7, 'fx.S1', 'customers_fx')).not.toBe(digestOf(s42, 'fx.S1', 'customers_fx'));
    // and each seed is now served from the cache
    expect(actions(await goodRun(p, ['--seed', '7']))).toEqual(allOf('cached'));
    expect(actions(await goodRun(p, ['--seed', '42']))).toEqual(allOf('cached'));
  });

  it('--no-cache runs every state (and the outputs are the same bytes)', async () => {
    const p = diamond();
    const first = await goodRun(p);
    const r = await goodRun(p, ['--no-cache']);
    expect(actions(r)).toEqual(allOf('ran'));
    expect(r.counts).toMatchObject({ ran: 5, cached: 0 });
    for (const s of STATES) {
      expect(r.by[s]!.reason, s).toBe('--no-cache');
      expect(r.by[s]!.outputs!.map((o) => o.sha256), s).toEqual(first.by[s]!.outputs!.map((o) => o.sha256));
      expect(statSync(outputFiles(r, s)[0]!).ino, `${s} ran, so it has files of its own`).not.toBe(statSync(outputFiles(first, s)[0]!).ino);
    }
  });
});

describe('a cache object that no longer matches its digest is never served', { timeout: TIMEOUT }, () => {
  it('a flipped byte is detected: warning, the state reruns, the run verifies, the object is replaced', async () => {
    const p = diamond();
    const first = await goodRun(p);
    const digest = digestOf(first, 'fx.S1', 'customers_fx');
    const obj = objectPath(p, digest);
    expect(existsSync(obj)).toBe(true);
    const before = statSync(obj);
    chmodSync(obj, 0o644);
    const bytes = readFileSync(obj);
    const mid = Math.floor(bytes.length / 2);
    bytes[mid] = bytes[mid]! ^ 0xff;
    writeFileSync(obj, bytes);
    chmodSync(obj, 0o444);
    utimesSync(obj, before.atime, before.mtime); // same size and mtime: only the content (and ctime) moved
    expect(sha256(obj)).not.toBe(digest);

    const r = await dag(p, ['run']); // plain mode, where warnings are printed
    expect(r.code, r.stderr).toBe(0);
    const runId = /^run ([0-9a-f]{32}):/m.exec(r.stdout)?.[1];
    expect(runId, r.stdout).toBeDefined();
    expect(r.stdout + r.stderr).toMatch(/warning: fx\.S1: cache entry [0-9a-f]+ not served: .*corrupt/);
    const ledger = readFileSync(join(p.runsDir, runId!, 'ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { state: string; action: string; reason: string });
    expect(Object.fromEntries(ledger.map((e) => [e.state, e.action]))).toEqual({ 'fx.S0': 'cached', 'fx.S1': 'ran', 'fx.S2': 'cached', 'fx.S3': 'cached', 'fx.S4': 'cached' });
    expect(ledger.find((e) => e.state === 'fx.S1')!.reason).toMatch(/^cache entry not served: .*corrupt/);
    const log = readFileSync(join(p.runsDir, runId!, 'logs', 'run.log'), 'utf8');
    expect(log).toMatch(/"level":"warn".*corrupt|corrupt.*"level":"warn"/);

    const verify = await dag(p, ['verify', runId!]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^ok: /m);
    // good bytes are back under the digest's name
    expect(sha256(obj)).toBe(digest);
    const again = await goodRun(p);
    expect(actions(again)).toEqual(allOf('cached'));
    expect(statSync(outputFiles(again, 'fx.S1')[0]!).ino).toBe(statSync(join(p.runsDir, runId!, first.by['fx.S1']!.outputs![0]!.path)).ino);
  });

  it('a deleted object makes its state rerun; the next run is all cached again', async () => {
    const p = diamond();
    const first = await goodRun(p);
    const digest = digestOf(first, 'fx.S2', 'merchants_fx');
    rmSync(objectPath(p, digest));
    const r = await goodRun(p);
    expect(actions(r)).toEqual({ 'fx.S0': 'cached', 'fx.S1': 'cached', 'fx.S2': 'ran', 'fx.S3': 'cached', 'fx.S4': 'cached' });
    expect(r.by['fx.S2']!.reason).toMatch(/^cache entry not served: .*missing/);
    expect(digestOf(r, 'fx.S2', 'merchants_fx')).toBe(digest);
    expect(existsSync(objectPath(p, digest))).toBe(true);
    expect(actions(await goodRun(p))).toEqual(allOf('cached'));
  });
});
