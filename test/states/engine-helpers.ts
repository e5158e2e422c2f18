// Shared helpers for the engine tests under test/states/: DuckDB with the kernel prelude, temp copies
// of the repository's engine project, the real `dag` CLI as a child process, ledgers and digests.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { runCli, type CliResult, type RunJson } from '../support/cli.js';

export type { RunJson };
import { removeTemps, tempDir } from '../support/temp.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const LIB = join(REPO, 'states', '_lib');
export const HEX64 = /^[0-9a-f]{64}$/;

/** Per-test timeout for tests that spawn `dag` (a process costs ~0.5 s, a 1A run 1-2 s, far more on a busy machine). */
export const ENGINE_TIMEOUT = 120_000;

// ---------------------------------------------------------------------------------------------
// DuckDB

export interface Duck {
  db: DuckDBInstance;
  con: DuckDBConnection;
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  run(sql: string): Promise<void>;
  close(): void;
}

/** An in-memory DuckDB with the given prelude files of states/_lib loaded (e.g. ['prf', 'apportion']). */
export async function openDuck(libs: string[], threads = 2): Promise<Duck> {
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const con = await db.connect();
  for (const l of libs) await con.run(readFileSync(join(LIB, `${l}.sql`), 'utf8'));
  return {
    db,
    con,
    rows: async <T>(sql: string) => (await con.runAndReadAll(sql)).getRowObjectsJS() as T[],
    run: async (sql: string) => {
      await con.run(sql);
    },
    close: () => {
      con.closeSync();
      db.closeSync();
    },
  };
}

/** A SQL string literal. */
export const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

// ---------------------------------------------------------------------------------------------
// Temp folders

export { removeTemps, tempDir };

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
export const fileSha = (p: string) => sha256(readFileSync(p));

/** ASCII (byte-wise) order of strings, as the HashGate law wants it. */
export const ascii = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** Every file under dir, relative with '/', in ASCII order. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const abs = join(d, e.name);
      if (e.isDirectory()) walk(abs);
      else out.push(relative(dir, abs).split(sep).join('/'));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort(ascii);
}

// ---------------------------------------------------------------------------------------------
// The engine project and the `dag` CLI

export interface Project {
  root: string;
  runsDir: string;
  write(rel: string, text: string): void;
  read(rel: string): string;
  /** Replaces `from` by `to` in a project file; fails when `from` is not there exactly once. */
  edit(rel: string, from: string | RegExp, to: string): void;
}

/** Segments a segment's states read from besides 1A (copied along with it): 6A sizes its world from 5A's profiles. */
const UPSTREAM_SEGMENTS: Record<string, string[]> = { '6A': ['5A'], '5B': ['5A'], '6B': ['5A', '5B', '6A'] };

/**
 * A temp copy of the repository's engine project (dag.yaml, config/, contracts/, states/_lib and the
 * given segments' states: other segments are under construction in the repository and must not
 * decide whether a 1A test passes) and an empty runs folder.
 */
export function engineCopy(segments: string[] = ['1A']): Project {
  const root = tempDir('proj');
  const withUpstream = [...new Set(segments.flatMap((s) => [...(UPSTREAM_SEGMENTS[s] ?? []), s]))];
  for (const p of ['dag.yaml', 'config', 'contracts', 'states/_lib', ...withUpstream.map((s) => `states/${s}`)]) cpSync(join(REPO, p), join(root, p), { recursive: true });
  return withRuns(root, warmRunsDir());
}

/** A new runs folder holding the pristine dev world's cache entries: a state whose inputs are unchanged is a hit. */
function warmRunsDir(): string {
  const runsDir = tempDir('runs');
  const warm = warmCache();
  if (warm) for (const d of ['keys', 'objects', 'documents']) if (existsSync(join(warm, d))) cpSync(join(warm, d), join(runsDir, '.cache', d), { recursive: true });
  return runsDir;
}

/** The same project with a new runs folder that has only the pristine dev world's cache (no runs, no entries of this project's own edits). */
export function warmRuns(p: Project): Project {
  return withRuns(p.root, warmRunsDir());
}

/**
 * The cache of one pristine dev-world run of the whole engine (seed 42), made once per `vitest`
 * invocation by the first test file that asks and shared by the others (its workers are the
 * children of one process: the folder is named after it): each engine copy starts with a copy of it,
 * so a test pays only for the states its edits change. Its content is the repository's as it is
 * now, run by the same dist/ build. Undefined when the run failed (the tests then run cold and show
 * why). freshRuns() still gives an empty cache; warmRuns() a new runs folder with this one.
 */
function warmCache(): string | undefined {
  const dir = join(tmpdir(), `dag-warm-cache-${process.ppid}`);
  const ready = join(dir, 'cache');
  const failed = join(dir, 'failed');
  let mine = false;
  try {
    mkdirSync(dir);
    mine = true;
  } catch {
    // another test file is making it, or made it
  }
  if (mine) {
    for (const e of readdirSync(tmpdir())) {
      // warm caches of earlier test runs (their vitest process gone)
      if (!e.startsWith('dag-warm-cache-') || e === `dag-warm-cache-${process.ppid}`) continue;
      const pid = Number(e.slice('dag-warm-cache-'.length));
      let alive = true;
      try {
        process.kill(pid, 0);
      } catch {
        alive = false;
      }
      if (!alive) rmSync(join(tmpdir(), e), { recursive: true, force: true });
    }
    const root = join(dir, 'project');
    for (const p of ['dag.yaml', 'config', 'contracts', 'states']) cpSync(join(REPO, p), join(root, p), { recursive: true });
    const runs = join(dir, 'runs');
    const r = spawnSync(process.execPath, [join(REPO, 'dag', 'bin', 'dag.mjs'), '--root', root, 'run', '--quiet'], { cwd: root, env: { ...process.env, DAG_RUNS_DIR: runs, NO_COLOR: '1' }, encoding: 'utf8' });
    if (r.status === 0) renameSync(join(runs, '.cache'), ready);
    else writeFileSync(failed, `${r.status}\n${r.stdout}\n${r.stderr}`);
  }
  const deadline = Date.now() + 5 * ENGINE_TIMEOUT;
  while (!existsSync(ready) && !existsSync(failed) && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  return existsSync(ready) && statSync(ready).isDirectory() ? ready : undefined;
}

export function withRuns(root: string, runsDir: string): Project {
  const read = (rel: string) => readFileSync(join(root, rel), 'utf8');
  const write = (rel: string, text: string) => writeFileSync(join(root, rel), text);
  return {
    root,
    runsDir,
    read,
    write,
    edit(rel, from, to) {
      const text = read(rel);
      const hits = typeof from === 'string' ? text.split(from).length - 1 : (text.match(new RegExp(from.source, from.flags.includes('g') ? from.flags : from.flags + 'g')) ?? []).length;
      if (hits !== 1) throw new Error(`edit ${rel}: expected one match of ${String(from)}, found ${hits}`);
      write(rel, text.replace(from, to));
    },
  };
}

/** The same project with a fresh, empty runs folder (an empty cache: every state really runs). */
export function freshRuns(p: Project): Project {
  return withRuns(p.root, tempDir('runs'));
}

export type DagResult = CliResult;

/** The real `dag` CLI (compiled dist/) in its own process, DAG_RUNS_DIR = the project's runs folder. */
export function dag(p: Project, args: string[]): Promise<DagResult> {
  return runCli(['--root', p.root, ...args], { cwd: p.root, env: { DAG_RUNS_DIR: p.runsDir } });
}


export interface LedgerOutput {
  dataset: string;
  path: string;
  sha256: string;
  bytes: number;
  rows?: number;
}
export interface LedgerLine {
  state: string;
  action: string;
  reason: string;
  outputs?: LedgerOutput[];
  gate?: { segment: string; path: string; passed: boolean; digest?: string };
  error?: { message: string };
}

/** `dag run --json ...args`; returns the exit code, the parsed summary (when there is one) and the raw output. */
export async function dagRun(p: Project, args: string[] = []): Promise<DagResult & { json?: RunJson }> {
  const r = await dag(p, ['run', '--json', ...args]);
  let json: RunJson | undefined;
  try {
    json = JSON.parse(r.stdout) as RunJson;
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

/** A `dag run` that must succeed: its summary, ledger and run folder. */
export async function runOk(p: Project, args: string[] = []): Promise<{ json: RunJson; ledger: LedgerLine[] }> {
  const r = await dagRun(p, args);
  if (r.code !== 0 || !r.json) throw new Error(`dag run ${args.join(' ')} exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return { json: r.json, ledger: ledgerOf(r.json.run_dir) };
}

export function ledgerOf(runDir: string): LedgerLine[] {
  return readFileSync(join(runDir, 'ledger.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LedgerLine);
}

/** dataset -> sha256 of every published dataset in a ledger (the gate's index and flag excluded). */
export function digests(ledger: LedgerLine[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of ledger) {
    if (!['ran', 'cached', 'staged'].includes(e.action)) continue;
    for (const o of e.outputs ?? []) if (!o.dataset.startsWith('(')) out[o.dataset] = o.sha256;
  }
  return out;
}

/** The absolute path of a dataset's (single) published file in a run. */
export function outputPath(runDir: string, ledger: LedgerLine[], dataset: string): string {
  const hits = ledger.flatMap((e) => (['ran', 'cached', 'staged'].includes(e.action) ? (e.outputs ?? []) : [])).filter((o) => o.dataset === dataset);
  if (hits.length !== 1) throw new Error(`expected one published file of ${dataset}, found ${hits.length}`);
  return join(runDir, hits[0]!.path);
}

export function entryOf(ledger: LedgerLine[], state: string): LedgerLine {
  const e = ledger.filter((l) => l.state === state).at(-1);
  if (!e) throw new Error(`no ledger line for ${state}`);
  return e;
}

export const SEED_SCOPED = ['merchants_1A', 'outlets_1A', 'virtual_edges_1A', 'validation_report_1A', 'validation_issue_table_1A'];
export const WORLD_SCOPED = ['s0_gate_receipt_1A', 'sealed_inputs_1A', 'countries_1A', 'mcc_1A'];

/**
 * A segment's validation report in a run: data/<layer>/<seg>/validation/ and one folder per
 * partition level (seed=, scenario_id=, manifest_fingerprint=, as the segment has them), then
 * validation_report_<seg>.json.
 */
export function validationReport<T>(runDir: string, layer: string, seg: string): T {
  let dir = join(runDir, 'data', layer, seg, 'validation');
  const file = () => join(dir, `validation_report_${seg}.json`);
  while (!existsSync(file())) dir = join(dir, readdirSync(dir).find((d) => d.includes('='))!);
  return JSON.parse(readFileSync(file(), 'utf8')) as T;
}

/** A gate state's HashGate opened in a run: its ledger line passed and its bundle holds _passed.flag. */
export function expectGateOpen(runDir: string, ledger: LedgerLine[], state: string): LedgerLine {
  const entry = entryOf(ledger, state);
  expect(entry.gate?.passed, `${state}'s gate`).toBe(true);
  expect(existsSync(join(runDir, entry.gate!.path, '_passed.flag')), `${state}'s _passed.flag`).toBe(true);
  return entry;
}
