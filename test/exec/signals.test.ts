// Issue 13, signals and pipes: Ctrl-C as a terminal sends it (SIGINT to the whole process group,
// kernels included) always ends with the run `interrupted`, exit 130, no .lock and no .tmp; a
// closed stdout (`dag run | head`) never aborts the run. Real `dag` processes, each the leader of
// its own process group.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diamondCopy, freshRuns, receiptOf, slowKernel, spawnDag, type Project } from './harness.js';

const TRIALS = Number(process.env.DAG_SIGNAL_TRIALS ?? 8);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** fx.S1 and fx.S2 burn a little, so that a signal lands inside a kernel as often as between states. */
const project: Project = diamondCopy((e) => {
  slowKernel(e, 'states/fx/S1_customers.sql', 8_000_000);
  slowKernel(e, 'states/fx/S2_merchants.sql', 8_000_000);
});

/** `dag` as a terminal starts it: the leader of its own process group. */
const spawnGroup = (p: Project, args: string[], stdout: 'pipe' | 'ignore' = 'pipe') => spawnDag(p, args, { detached: true, stdout });

const runFolder = (p: Project) => readdirSync(p.runsDir).filter((n) => /^[0-9a-f]{32}$/.test(n));

describe('SIGINT to the process group', () => {
  it(`${TRIALS} trials at random moments of a run: each ends interrupted, exit 130, no .lock, no .tmp, no kernel left`, async () => {
    const started = async (p: Project) => {
      for (let i = 0; i < 400 && runFolder(p).every((id) => !existsSync(join(p.runsDir, id, 'run_receipt.json'))); i++) await sleep(10);
    };
    // how long a run lasts here, from its receipt to its end: the random moments fall inside it
    // whatever the machine's speed (a fixed window let a fast machine finish most runs first)
    const calibration = freshRuns(project);
    const timed = spawnGroup(calibration, ['run'], 'ignore');
    await started(calibration);
    const t0 = Date.now();
    expect((await timed.result).code).toBe(0);
    const runMs = Date.now() - t0;
    const outcomes: string[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const p = freshRuns(project);
      const run = spawnGroup(p, ['run'], 'ignore');
      // wait until the run's receipt exists (the run has started), then a random moment of its length
      await started(p);
      await sleep(Math.floor(Math.random() * runMs * 0.9));
      try {
        process.kill(-run.pid!, 'SIGINT');
      } catch {
        // ESRCH: the run ended first (its status says so below)
      }
      const r = await run.result;
      const [id] = runFolder(p);
      const dir = join(p.runsDir, id!);
      const status = receiptOf(dir).status;
      outcomes.push(status);
      if (status === 'succeeded') continue; // the signal came after the run's end: nothing to interrupt
      expect(r.signal, r.stderr).toBeNull();
      expect(r.code, r.stderr).toBe(130);
      expect(status).toBe('interrupted');
      expect(r.stderr).not.toMatch(/Unhandled|EPIPE|^\s+at \S/m);
      expect(existsSync(join(dir, '.lock'))).toBe(false);
      expect(existsSync(join(dir, '.tmp'))).toBe(false);
      // no kernel process of the group outlives it
      let alive = true;
      for (let i = 0; i < 100 && alive; i++) {
        try {
          process.kill(-run.pid!, 0);
          await sleep(20);
        } catch {
          alive = false;
        }
      }
      expect(alive).toBe(false);
    }
    expect(outcomes.filter((s) => s === 'interrupted').length, `outcomes ${outcomes.join(', ')}; a run lasts ${runMs} ms`).toBeGreaterThan(TRIALS / 2);
  }, 30_000 + TRIALS * 15_000);
});

describe('a closed stdout', () => {
  it('`dag run | head -1`: the run goes on to succeed and exits 0, with nothing on stderr', async () => {
    const p = freshRuns(project);
    const run = spawnGroup(p, ['run']);
    // read one chunk, then close the pipe as head does
    await new Promise<void>((resolve) => run.stdout!.once('data', () => resolve()));
    run.stdout!.destroy();
    const r = await run.result;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const [id] = runFolder(p);
    expect(receiptOf(join(p.runsDir, id!)).status).toBe('succeeded');
  }, 60_000);
});
