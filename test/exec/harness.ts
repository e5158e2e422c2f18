// Shared helpers for the executor tests: fixture copies, run folders, the real `dag` CLI as a child process.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { afterAll } from 'vitest';
import { readLedger, readReceipt, type LedgerEntry } from '../../dag/store/runs.js';
import { DIAMOND } from '../fixtures/materialize.js';

import { REPO, spawnCli, type CliProcess, type CliResult } from '../support/cli.js';

export { REPO };

export const RUN_ID = /^[0-9a-f]{32}$/;
export const HEX64 = /^[0-9a-f]{64}$/;

/** Temp folders of this test file (support/cli.ts kills its `dag` processes): a failed test leaves neither behind. */
const made: string[] = [];
afterAll(() => {
  made.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `dag-${prefix}-`));
  made.push(d);
  return d;
}

/** A project: a fresh copy of the diamond fixture, and an empty runs folder of its own. */
export interface Project {
  root: string;
  runsDir: string;
}

/** Copies the diamond to a temp folder, then lets `edit` break or slow it (paths relative to the copy). */
export function diamondCopy(edit?: (p: { root: string; write: (rel: string, text: string) => void; read: (rel: string) => string }) => void): Project {
  const root = tempDir('proj');
  cpSync(DIAMOND, root, { recursive: true });
  const runsDir = tempDir('runs');
  edit?.({ root, write: (rel, text) => writeFileSync(join(root, rel), text), read: (rel) => readFileSync(join(root, rel), 'utf8') });
  return { root, runsDir };
}

/** The same project with an empty runs folder (and so an empty cache): every state really runs. */
export function freshRuns(p: Project): Project {
  return { root: p.root, runsDir: tempDir('runs') };
}

export type DagResult = CliResult;

/** The real `dag` CLI (dist/), in its own process, with DAG_RUNS_DIR pointing at the project's runs folder. */
export function spawnDag(p: Project, args: string[], opts: { detached?: boolean; stdout?: 'pipe' | 'ignore'; env?: Record<string, string | undefined> } = {}): CliProcess {
  return spawnCli(['--root', p.root, ...args], { cwd: p.root, ...opts, env: { DAG_RUNS_DIR: p.runsDir, ...opts.env } });
}

export function dag(p: Project, args: string[]): Promise<DagResult> {
  return spawnDag(p, args).result;
}

/** Run folders (32-hex names) in the project's runs folder. */
export function runIds(p: Project): string[] {
  return existsSync(p.runsDir) ? readdirSync(p.runsDir).filter((n) => RUN_ID.test(n)) : [];
}

/** The one run folder a `dag run` made (fails if there are several). */
export function onlyRun(p: Project): { id: string; dir: string } {
  const ids = runIds(p);
  if (ids.length !== 1) throw new Error(`expected exactly one run in ${p.runsDir}, found ${ids.length}: ${ids.join(', ')}`);
  return { id: ids[0]!, dir: join(p.runsDir, ids[0]!) };
}

/** The run a `dag run` that printed `run <id>:` / `resuming <id>:` made. */
export function runIdOf(stdout: string): string {
  const m = /^(?:run|resuming) ([0-9a-f]{32}):/m.exec(stdout);
  if (!m) throw new Error(`no run id in:\n${stdout}`);
  return m[1]!;
}

export function ledgerOf(runDir: string): LedgerEntry[] {
  return readLedger(runDir);
}

export function receiptOf(runDir: string) {
  const r = readReceipt(runDir);
  if (!r) throw new Error(`no receipt in ${runDir}`);
  return r;
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Every file under `dir`, run-relative with '/', sorted; [] when `dir` does not exist. */
export function filesUnder(runDir: string, sub: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const abs = join(d, e.name);
      if (e.isDirectory()) walk(abs);
      else out.push(relative(runDir, abs).split(sep).join('/'));
    }
  };
  if (existsSync(join(runDir, sub))) walk(join(runDir, sub));
  return out.sort();
}

/** dataset -> sha256 of every published output in the ledger (latest outcome per state). */
export function digestsByDataset(ledger: LedgerEntry[]): Record<string, string> {
  const latest = new Map<string, LedgerEntry>();
  for (const e of ledger) latest.set(`${e.state}@${e.scenario ?? ''}`, e);
  const out: Record<string, string> = {};
  for (const e of latest.values()) {
    if (!PUBLISHED.includes(e.action)) continue;
    for (const o of e.outputs ?? []) out[o.dataset] = o.sha256;
  }
  return out;
}

/** Ledger actions that publish files. */
export const PUBLISHED: string[] = ['ran', 'cached', 'staged'];

/** The latest ledger action per state. */
export function actionsOf(ledger: LedgerEntry[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of ledger) out[e.state] = e.action;
  return out;
}

export function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 30_000, everyMs = 10): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The pid of a process that has already exited (so nobody holds it, barring pid reuse). */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  const pid = child.pid!;
  await new Promise((r) => child.on('exit', r));
  return pid;
}

/**
 * SQL that keeps DuckDB busy for a while (hashing `rows` integers: ~1.5 s per 100M on two threads),
 * leaving a table nobody reads; placed as its own `-- step:` in a kernel to make that state slow.
 */
export function slowStep(name: string, rows: number): string {
  return `-- step: ${name}\ncreate table ${name}_burn as select sum(hash(i)) as h from range(${rows}) r(i);\n`;
}

/** Adds a slow step at the top of a state's SQL kernel. */
export function slowKernel(p: { read: (rel: string) => string; write: (rel: string, text: string) => void }, kernel: string, rows: number, name = 'burn'): void {
  p.write(kernel, slowStep(name, rows) + p.read(kernel));
}

/** The seed-scoped and world-scoped datasets of the diamond. */
export const SEED_SCOPED = ['customers_fx', 'merchants_fx', 'pairs_fx', 'validation_report_fx', 'summary_fx'];
export const WORLD_SCOPED = ['regions_fx'];
export const STATES = ['fx.S0', 'fx.S1', 'fx.S2', 'fx.S3', 'fx.S4'];
