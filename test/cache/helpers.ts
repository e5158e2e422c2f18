import { runCli, type CliResult } from '../support/cli.js';
// Helpers for the cache, --from and plan-vs-run tests: a fresh copy of the diamond fixture with a
// runs folder of its own, and the real `dag` CLI (dist/) as a child process with DAG_RUNS_DIR set.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect } from 'vitest';
import type { PlanJson } from '../../dag/cli/plan.js';
import { readLedger, readReceipt, type LedgerEntry, type RunReceipt } from '../../dag/store/runs.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const DIAMOND = join(REPO, 'test', 'fixtures', 'diamond');

/** Per-test timeout: each test runs the CLI several times (~1 s per run, more on a busy machine). */
export const TIMEOUT = 60_000;
export const STATES = ['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3', 'fx.S4'];
/** Datasets of seed-scoped states (fx.S1..S4); regions_fx (fx.S0) is world-scoped. */
export const SEED_SCOPED = ['customers_fx', 'merchants_fx', 'pairs_fx', 'summary_fx', 'validation_report_fx'];

const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) {
    // published files and cache objects are read-only; the folders that hold them are not
    rmSync(d, { recursive: true, force: true });
  }
});

export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `dag-${prefix}-`));
  made.push(d);
  return d;
}

/** A project copy and the runs folder (DAG_RUNS_DIR) its commands use. */
export interface Proj {
  root: string;
  runsDir: string;
}

/** A fresh copy of the diamond (any runs/ folder left in the fixture is skipped) with an empty runs folder. */
export function diamond(): Proj {
  const root = tempDir('proj');
  cpSync(DIAMOND, root, { recursive: true, filter: (src) => src !== join(DIAMOND, 'runs') });
  return { root, runsDir: tempDir('runs') };
}

export function read(p: Proj, rel: string): string {
  return readFileSync(join(p.root, rel), 'utf8');
}

export function write(p: Proj, rel: string, text: string): void {
  mkdirSync(dirname(join(p.root, rel)), { recursive: true });
  writeFileSync(join(p.root, rel), text);
}

/** Replaces `from` by `to` in a project file, failing if `from` is not there (so an edit cannot silently do nothing). */
export function replaceIn(p: Proj, rel: string, from: string, to: string): void {
  const text = read(p, rel);
  if (!text.includes(from)) throw new Error(`${rel} does not contain ${JSON.stringify(from)}`);
  write(p, rel, text.replace(from, to));
}

export type { CliResult };

export function dag(p: Proj, args: string[]): Promise<CliResult> {
  return runCli(['--root', p.root, ...args], { cwd: p.root, env: { DAG_RUNS_DIR: p.runsDir } });
}

/** `dag run --json`'s summary, with the run's ledger (latest line per state) and receipt. */
export interface RunResult {
  run_id: string;
  run_dir: string;
  status: string;
  counts: { ran: number; cached: number; staged: number; failed: number; skipped: number; kept: number };
  exit_code: number;
  code: number | null;
  stderr: string;
  ledger: LedgerEntry[];
  by: Record<string, LedgerEntry>;
  receipt: RunReceipt;
}

/** `dag run <args> --json`: parses the summary and reads the ledger; fails the test if there is no summary. */
export async function runJson(p: Proj, args: string[] = []): Promise<RunResult> {
  const r = await dag(p, ['run', ...args, '--json']);
  let summary: Omit<RunResult, 'ledger' | 'by' | 'receipt' | 'code' | 'stderr'>;
  try {
    summary = JSON.parse(r.stdout);
  } catch {
    throw new Error(`dag run ${args.join(' ')} printed no JSON summary (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  const ledger = readLedger(summary.run_dir);
  const by: Record<string, LedgerEntry> = {};
  for (const e of ledger) by[e.state] = e;
  const receipt = readReceipt(summary.run_dir);
  if (!receipt) throw new Error(`no receipt in ${summary.run_dir}`);
  return { ...summary, code: r.code, stderr: r.stderr, ledger, by, receipt };
}

/** A run that must succeed. */
export async function goodRun(p: Proj, args: string[] = []): Promise<RunResult> {
  const r = await runJson(p, args);
  expect(r.status, `dag run ${args.join(' ')}: ${r.stderr}\n${JSON.stringify(r.ledger.filter((e) => e.action === 'failed'))}`).toBe('succeeded');
  expect(r.code).toBe(0);
  return r;
}

/** `dag plan <args> --json`, which must exit 0. */
export async function planJson(p: Proj, args: string[] = []): Promise<PlanJson> {
  const r = await dag(p, ['plan', ...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as PlanJson;
}

/** state -> ledger action of a run. */
export function actions(r: RunResult): Record<string, string> {
  return Object.fromEntries(Object.entries(r.by).map(([s, e]) => [s, e.action]));
}

/** state -> plan action. */
export function planActions(plan: PlanJson): Record<string, string> {
  return Object.fromEntries(plan.states.map((s) => [s.task, s.action]));
}

export function allOf(action: string): Record<string, string> {
  return Object.fromEntries(STATES.map((s) => [s, action]));
}

/** The absolute paths of a state's published files in a run (from its ledger line). */
export function outputFiles(r: RunResult, state: string): string[] {
  const files = (r.by[state]?.outputs ?? []).map((o) => join(r.run_dir, o.path));
  expect(files.length, `${state} published nothing in ${r.run_id}`).toBeGreaterThan(0);
  return files;
}

/** Run folders in the runs folder. */
export function runIds(p: Proj): string[] {
  return existsSync(p.runsDir) ? readdirSync(p.runsDir).filter((n) => /^[0-9a-f]{32}$/.test(n)) : [];
}
