// The bullmq executor (ORCHESTRATOR.md §11a, docs/distributed.md): `dag run --executor bullmq`
// puts each kernel job on a queue in a real Redis, three real `dag worker` processes take them, and
// the run publishes the same bytes as a local run; a worker killed mid-kernel loses its job to
// another; a coordinator killed mid-run is finished by --resume; under --seeds the world-scoped
// state is computed once. Skipped, saying so, where redis-server is not installed.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli, type CliProcess, type RunJson } from '../support/cli.js';
import { HAVE_REDIS, NO_REDIS, startRedis } from '../support/redis.js';
import { dag, diamondCopy, digestsByDataset, filesUnder, freshRuns, ledgerOf, receiptOf, sha256, slowKernel, spawnDag, tempDir, waitFor, type Project } from './harness.js';

const T = 180_000;
const newId = () => randomBytes(16).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** fx.S2 has a slow first step (about 1 s on 2 cores), so a kill 300 ms after a worker takes it lands inside its kernel, on a fast machine too (40M rows took 0.2 s here: the kernel had finished). */
const project: Project = diamondCopy((e) => slowKernel(e, 'states/fx/S2_merchants.sql', 200_000_000));
let baseline: { digests: Record<string, string>; files: Record<string, string> };
const workers: CliProcess[] = [];

/** Every published file of a run with its sha256 (the bytes, not the ledger's word for them). */
function publishedBytes(runDir: string): Record<string, string> {
  return Object.fromEntries(filesUnder(runDir, 'data').map((f) => [f, sha256(join(runDir, f))]));
}

/** A `dag worker` of the test's queue, once it says it is ready; locks short, so a dead worker's job moves on within seconds. */
async function startWorker(): Promise<CliProcess> {
  const w = spawnCli(['worker', '--redis', process.env.DAG_REDIS_URL!, '--lock-ms', '2000', '--stalled-ms', '500'], { cwd: tempDir('worker') });
  await waitFor('the worker to be ready', () => {
    if (w.exitCode !== null) throw new Error(`the worker exited (${w.exitCode}): ${w.output()}${w.errors()}`);
    return /^worker \S+ ready/m.test(w.output());
  }, 30_000);
  workers.push(w);
  return w;
}

/** Whether the worker has taken fx.S2 of this run (its lines name the run by its first 8 characters). */
const tookS2 = (w: CliProcess, runId: string) => new RegExp(`^took fx\\.S2 \\(job \\S+, run ${runId.slice(0, 8)}`, 'm').test(w.output());

const alive = () => workers.filter((w) => w.exitCode === null && w.signalCode === null);

describe.skipIf(!HAVE_REDIS)(`dag run --executor bullmq with three dag worker processes${HAVE_REDIS ? '' : ` (${NO_REDIS})`}`, () => {
  beforeAll(async () => {
    const redis = await startRedis();
    process.env.DAG_REDIS_URL = redis.url; // the dag processes below inherit it
    await Promise.all([startWorker(), startWorker(), startWorker()]);
    const id = newId();
    const local = freshRuns(project);
    const r = await dag(local, ['run', '--run-id', id]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    baseline = { digests: digestsByDataset(ledgerOf(join(local.runsDir, id))), files: publishedBytes(join(local.runsDir, id)) };
    expect(Object.keys(baseline.digests)).toHaveLength(8);
  }, T);

  afterAll(async () => {
    // workers first (they hold connections to the server the helper stops next)
    await Promise.all(alive().map((w) => (w.kill('SIGTERM'), w.result)));
  });

  it('runs every kernel on the workers and publishes the bytes a local run publishes', { timeout: T }, async () => {
    const p = freshRuns(project);
    const id = newId();
    const r = await dag(p, ['run', '--executor', 'bullmq', '--jobs', '3', '--run-id', id]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).not.toContain('no dag worker');
    const dir = join(p.runsDir, id);
    expect(receiptOf(dir).status).toBe('succeeded');
    expect(ledgerOf(dir).map((e) => e.action)).toEqual(['ran', 'ran', 'ran', 'ran', 'ran']);
    expect(digestsByDataset(ledgerOf(dir))).toEqual(baseline.digests);
    expect(publishedBytes(dir)).toEqual(baseline.files);
    expect(existsSync(join(dir, '.tmp'))).toBe(false);
    const took = workers.map((w) => w.output()).join('');
    for (const s of ['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3', 'fx.S4']) expect(took).toMatch(new RegExp(`^took ${s.replace('.', '\\.')} `, 'm'));
    // what it made is cached as a local run's is: a second run on the workers runs nothing
    const again = await dag(p, ['run', '--executor', 'bullmq', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as RunJson).counts).toMatchObject({ ran: 0, cached: 5 });
  });

  it('a worker killed (SIGKILL) inside a kernel loses its job to another worker: the run succeeds with the same bytes', { timeout: T }, async () => {
    const p = freshRuns(project);
    const id = newId();
    const run = spawnDag(p, ['run', '--executor', 'bullmq', '--run-id', id]);
    const victim = await waitFor('a worker to take fx.S2', () => alive().find((w) => tookS2(w, id)), 90_000);
    await sleep(300); // inside its slow first step
    victim.kill('SIGKILL');
    const r = await run.result;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const dir = join(p.runsDir, id);
    expect(digestsByDataset(ledgerOf(dir))).toEqual(baseline.digests);
    expect(publishedBytes(dir)).toEqual(baseline.files);
    expect(ledgerOf(dir).filter((e) => e.state === 'fx.S2').map((e) => e.action)).toEqual(['ran']);
    // the job's second delivery, on a worker still alive
    expect(alive().map((w) => w.output()).join('')).toMatch(new RegExp(`^took fx\\.S2 \\(job \\S+, run ${id.slice(0, 8)}, delivery 2\\)`, 'm'));
    expect(existsSync(join(dir, '.tmp'))).toBe(false);
    await startWorker(); // three again
  });

  it('a coordinator killed (SIGKILL) mid-run is finished by dag run --resume on the workers, with the same bytes', { timeout: T }, async () => {
    const p = freshRuns(project);
    const id = newId();
    const dir = join(p.runsDir, id);
    const run = spawnDag(p, ['run', '--executor', 'bullmq', '--run-id', id]);
    await waitFor('fx.S2 on a worker', () => workers.some((w) => tookS2(w, id)), 90_000);
    run.kill('SIGKILL');
    expect((await run.result).signal).toBe('SIGKILL');
    expect(receiptOf(dir).status).toBe('running'); // nobody could update it
    const r = await dag(p, ['run', '--resume', id, '--executor', 'bullmq']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`resuming ${id}`);
    expect(receiptOf(dir).status).toBe('succeeded');
    expect(digestsByDataset(ledgerOf(dir))).toEqual(baseline.digests);
    expect(publishedBytes(dir)).toEqual(baseline.files);
    expect(existsSync(join(dir, '.tmp'))).toBe(false);
    const v = await dag(p, ['verify', id, '--json']);
    expect(v.code, v.stdout).toBe(0);
  });

  it('--seeds runs its seeds at once on the workers; the world-scoped fx.S0 is computed once, and seed 42 has the local bytes', { timeout: T }, async () => {
    const p = freshRuns(project);
    const r = await dag(p, ['run', '--executor', 'bullmq', '--jobs', '3', '--seeds', '42,7,101', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const matrix = JSON.parse(r.stdout) as { runs: (RunJson & { seed: number })[] };
    expect(matrix.runs.map((x) => [x.seed, x.status])).toEqual([[42, 'succeeded'], [7, 'succeeded'], [101, 'succeeded']]);
    const s0 = matrix.runs.flatMap((x) => ledgerOf(x.run_dir).filter((e) => e.state === 'fx.S0').map((e) => e.action));
    expect(s0.sort()).toEqual(['cached', 'cached', 'ran']);
    const digests = matrix.runs.map((x) => digestsByDataset(ledgerOf(x.run_dir)));
    expect(new Set(digests.map((d) => d.regions_fx)).size).toBe(1);
    expect(new Set(digests.map((d) => d.customers_fx)).size).toBe(3);
    expect(digests[0]).toEqual(baseline.digests);
    // the runs ran at once: each started before any other ended
    const spans = matrix.runs.map((x) => {
      const rc = receiptOf(x.run_dir);
      return [Date.parse(rc.created_utc), Date.parse(rc.finished_utc!)] as const;
    });
    expect(Math.max(...spans.map((s) => s[0]))).toBeLessThan(Math.min(...spans.map((s) => s[1])));
  });

  it('a Redis nobody answers at is refused before a run folder exists (exit 3), and none named is exit 2', { timeout: T }, async () => {
    const p = freshRuns(project);
    const none = await spawnDag(p, ['run', '--executor', 'bullmq'], { env: { DAG_REDIS_URL: undefined } }).result;
    expect(none.code, none.stderr).toBe(2);
    expect(none.stderr).toContain('the bullmq executor needs a Redis server');
    const dead = await spawnDag(p, ['run', '--executor', 'bullmq'], { env: { DAG_REDIS_URL: 'redis://127.0.0.1:1' } }).result;
    expect(dead.code, dead.stderr).toBe(3);
    expect(dead.stderr).toContain('cannot reach Redis at redis://127.0.0.1:1');
    expect(filesUnder(p.runsDir, '.').filter((f) => /^[0-9a-f]{32}\//.test(f))).toEqual([]);
  });
});
