// Crashes and signals (ORCHESTRATOR.md §5, §6): `dag run` killed at any point leaves nothing at a
// published path that the ledger does not vouch for, and `--resume` finishes with the same bytes
// as an uninterrupted run. SIGTERM marks the run interrupted and removes its temporary files.
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { actionsOf, dag, diamondCopy, digestsByDataset, filesUnder, freshRuns, ledgerOf, PUBLISHED, receiptOf, sha256, slowKernel, spawnDag, STATES, waitFor, type Project } from './harness.js';
import type { LedgerEntry } from '../../dag/store/runs.js';

const T = 120_000;
const newId = () => randomBytes(16).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** fx.S2 has a slow first step, so a kill can land inside a kernel. Each run gets its own runs folder (and cache), so its states really run. */
const project: Project = diamondCopy((e) => slowKernel(e, 'states/fx/S2_merchants.sql', 40_000_000));
let baseline: Record<string, string> = {};

beforeAll(async () => {
  const id = newId();
  const r = await dag(project, ['run', '--run-id', id]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  baseline = digestsByDataset(ledgerOf(join(project.runsDir, id)));
  expect(Object.keys(baseline)).toHaveLength(8);
}, T);

/**
 * Every file under data/ and reports/ must be a published output the ledger records with this
 * sha256 (reports/perf.json is the orchestrator's own report, not an output). Returns the files
 * that break this, with why.
 */
function unvouched(runDir: string): string[] {
  const recorded = new Map<string, string>();
  const latest = new Map<string, LedgerEntry>();
  for (const e of ledgerOf(runDir)) latest.set(e.state, e);
  for (const e of latest.values()) if (PUBLISHED.includes(e.action)) for (const o of e.outputs ?? []) recorded.set(o.path, o.sha256);
  const problems: string[] = [];
  for (const f of [...filesUnder(runDir, 'data'), ...filesUnder(runDir, 'reports')]) {
    if (f === 'reports/perf.json') continue;
    const want = recorded.get(f);
    if (want === undefined) problems.push(`${f}: present without a ledger record`);
    else if (sha256(join(runDir, f)) !== want) problems.push(`${f}: sha256 differs from the ledger`);
  }
  return problems;
}

/** Resumes a run and checks it ends like the uninterrupted one. */
async function resumeAndCompare(p: Project, id: string, keptStates: string[], opts: { verify?: boolean } = {}): Promise<string> {
  const dir = join(p.runsDir, id);
  const r = await dag(p, ['run', '--resume', id]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(r.stdout).toContain(`resuming ${id}`);
  for (const s of keptStates) expect(r.stdout, s).toMatch(new RegExp(`^kept\\s+${s.replace('.', '\\.')}\\b`, 'm'));
  expect(receiptOf(dir).status).toBe('succeeded');
  expect(digestsByDataset(ledgerOf(dir))).toEqual(baseline);
  expect(unvouched(dir)).toEqual([]);
  expect(existsSync(join(dir, '.tmp'))).toBe(false);
  expect(existsSync(join(dir, '.lock'))).toBe(false);
  if (opts.verify) {
    const v = await dag(p, ['verify', id, '--json']);
    expect(v.code, v.stdout).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, files: 8 });
  }
  return r.stdout + r.stderr; // warnings (a stale lock taken over) are on stderr
}

type Run = ReturnType<typeof spawnDag>;
const ledgerHas = (dir: string, n: number) => () => ledgerOf(dir).length >= n;
const printed = (run: Run, line: string) => () => run.output().includes(line);

/** Waits for `probe` while the run goes on; a run that ends first fails the wait at once, with its output. */
async function during<T>(run: Run, what: string, probe: () => T | undefined | false): Promise<T> {
  try {
    return await waitFor(what, () => {
      if (run.exitCode !== null || run.signalCode !== null) throw new Error(`the run ended (${run.exitCode ?? run.signalCode}) before ${what}`);
      return probe();
    }, 60_000, 2);
  } catch (e) {
    throw new Error(`${(e as Error).message}; its output:\n${run.output()}\n${run.errors()}`);
  }
}

const killPoints: { name: string; at: (run: Run, dir: string) => Promise<unknown> }[] = [
  { name: 'when the ledger shows 1 state (fx.S1 starting)', at: (run, dir) => during(run, '1 ledger line', ledgerHas(dir, 1)) },
  { name: 'inside the slow kernel step of fx.S2', at: async (run) => { await during(run, 'fx.S2 burning', printed(run, 'step    fx.S2: burn')); await sleep(150); } },
  { name: 'as fx.S2 starts writing its outputs', at: (run) => during(run, 'fx.S2 writing', printed(run, 'step    fx.S2: write outputs')) },
  { name: 'when the ledger shows 3 states (fx.S3 starting)', at: (run, dir) => during(run, '3 ledger lines', ledgerHas(dir, 3)) },
  { name: 'as fx.S3 (the gate) writes its outputs', at: (run) => during(run, 'fx.S3 writing', printed(run, 'step    fx.S3: write outputs')) },
  { name: '30 ms after fx.S3 starts writing', at: async (run) => { await during(run, 'fx.S3 writing', printed(run, 'step    fx.S3: write outputs')); await sleep(30); } },
  { name: 'when the ledger shows 4 states (fx.S4 starting)', at: (run, dir) => during(run, '4 ledger lines', ledgerHas(dir, 4)) },
];

describe('SIGKILL of `dag run`', () => {
  it.concurrent.for(killPoints)('$name: only ledgered files at published paths, then --resume gives the uninterrupted bytes', { timeout: T }, async (point) => {
    const p = freshRuns(project);
    const id = newId();
    const dir = join(p.runsDir, id);
    const run = spawnDag(p, ['run', '--run-id', id]);
    await during(run, 'the run folder', () => existsSync(join(dir, 'run_receipt.json')));
    await point.at(run, dir);
    run.kill('SIGKILL');
    const r = await run.result;
    expect(r.signal, `the run ended before the kill:\n${r.stdout}`).toBe('SIGKILL');

    expect(unvouched(dir)).toEqual([]);
    const recorded = ledgerOf(dir).filter((e) => PUBLISHED.includes(e.action)).map((e) => e.state);
    expect(recorded.length).toBeLessThan(5);
    expect(receiptOf(dir).status).toBe('running'); // nobody could update it
    const first = point === killPoints[0];
    if (first) {
      // (checked once: each `dag` process costs half a second) the receipt says running, but nobody holds the lock
      const runs = JSON.parse((await dag(p, ['runs', '--json'])).stdout) as { id: string; status: string }[];
      expect(runs.find((x) => x.id === id)?.status).toBe('interrupted');
    }

    const out = await resumeAndCompare(p, id, recorded, { verify: first });
    expect(out).toContain(`took over the stale lock of dead pid ${run.pid}`);
  });
});

describe('SIGTERM of `dag run`', () => {
  it('abandons the running state, removes its temporary files, marks the run interrupted; --resume finishes it', async () => {
    const p = freshRuns(project);
    const id = newId();
    const dir = join(p.runsDir, id);
    const run = spawnDag(p, ['run', '--run-id', id]);
    await during(run, 'fx.S2 burning', printed(run, 'step    fx.S2: burn'));
    await sleep(100);
    expect(existsSync(join(dir, '.tmp', 'fx.S2'))).toBe(true);
    run.kill('SIGTERM');
    const r = await run.result;
    expect(r.signal).toBeNull();
    expect(r.code).not.toBe(0);
    expect(r.code).toBe(143);
    expect(r.stderr).toContain('SIGTERM');
    expect(r.stdout).toMatch(/^interrupted in /m);

    expect(receiptOf(dir).status).toBe('interrupted');
    expect(receiptOf(dir).finished_utc).not.toBeNull();
    expect(existsSync(join(dir, '.tmp'))).toBe(false);
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    expect(actionsOf(ledgerOf(dir))).toEqual({ 'fx.S0': 'ran', 'fx.S1': 'ran' });
    expect(existsSync(join(dir, 'data/fx/merchants_fx'))).toBe(false);
    expect(unvouched(dir)).toEqual([]);
    const runs = JSON.parse((await dag(p, ['runs', '--json'])).stdout) as { id: string; status: string }[];
    expect(runs.find((x) => x.id === id)?.status).toBe('interrupted');

    await resumeAndCompare(p, id, ['fx.S0', 'fx.S1'], { verify: true });
  }, T);
});

describe('a ledger line torn by a crash', () => {
  it('is ignored, and does not swallow the record appended after it by --resume', async () => {
    const p = freshRuns(project);
    const id = newId();
    const dir = join(p.runsDir, id);
    const run = spawnDag(p, ['run', '--run-id', id]);
    await during(run, '2 ledger lines', ledgerHas(dir, 2));
    run.kill('SIGKILL');
    expect((await run.result).signal).toBe('SIGKILL');
    const kept = ledgerOf(dir).map((e) => e.state);
    expect(kept.length).toBeGreaterThanOrEqual(2);
    // the crash came in the middle of appending the next line: half a JSON object, no newline
    const whole = readFileSync(join(dir, 'ledger.jsonl'), 'utf8').split('\n')[0]!;
    appendFileSync(join(dir, 'ledger.jsonl'), whole.slice(0, Math.floor(whole.length / 2)));
    expect(ledgerOf(dir).map((e) => e.state)).toEqual(kept);

    const r = await dag(p, ['run', '--resume', id]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // every state the resume ran must be on record, or verify, query and a later resume cannot see it
    const ran = r.stdout.split('\n').filter((l) => /^ran\s/.test(l)).map((l) => l.split(/\s+/)[1]!);
    expect(ran.length).toBeGreaterThan(0);
    const recorded = ledgerOf(dir).filter((e) => PUBLISHED.includes(e.action)).map((e) => e.state);
    expect(ran.filter((s) => !recorded.includes(s)), 'states that ran in the resume but have no ledger record').toEqual([]);
    expect(recorded.sort()).toEqual(STATES);
    expect(digestsByDataset(ledgerOf(dir))).toEqual(baseline);
    // the resume cut the torn fragment: the ledger is whole records again
    const v = await dag(p, ['verify', id]);
    expect(v.code, v.stdout).toBe(0);
  }, T);
});

describe('dag verify and the ledger (issue 13)', () => {
  it('fails on a ledger line that is not a record, naming the line; a torn last line is cut by the next writer', async () => {
    const p = freshRuns(project);
    const id = newId();
    const dir = join(p.runsDir, id);
    expect((await dag(p, ['run', '--run-id', id])).code).toBe(0);
    const ok = await dag(p, ['verify', id]);
    expect(ok.code, ok.stdout).toBe(0);
    const lines = readFileSync(join(dir, 'ledger.jsonl'), 'utf8').split('\n');
    // an edited middle line
    const edited = [...lines];
    edited[1] = '#' + edited[1]!.slice(1);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'ledger.jsonl'), edited.join('\n'));
    const bad = await dag(p, ['verify', id, '--json']);
    expect(bad.code).toBe(1);
    const doc = JSON.parse(bad.stdout) as { ok: boolean; problems: { path: string; problem: string }[] };
    expect(doc.ok).toBe(false);
    expect(doc.problems[0]).toMatchObject({ path: 'ledger.jsonl:2' });
    expect(doc.problems[0]!.problem).toContain('line 2 is not a ledger record');
  }, T);
});
