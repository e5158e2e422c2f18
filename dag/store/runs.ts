import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readdirSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { CompiledProject } from '../graph/compile.js';
import { DagError } from '../project/diagnostics.js';
import type { Override } from '../project/overrides.js';
import { writeFileAtomic } from './atomic.js';
import { LabelStore } from './labels.js';
import { taskKey } from '../graph/tasks.js';
export { taskKey };

export const RUN_ID = /^[0-9a-f]{32}$/;
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'interrupted';

/** run_receipt.json (ORCHESTRATOR.md §6). */
export interface RunReceipt {
  run_id: string;
  created_utc: string;
  finished_utc: string | null;
  status: RunStatus;
  seed: number;
  scenarios: string[];
  profile: string | null;
  /** `--set` overrides the run read its documents with (absent in receipts written before they existed). */
  overrides?: Override[];
  targets: string[];
  parameter_hash: string;
  manifest_fingerprint: string;
  staged_from_run_id: string | null;
  /** The --from states (none without --from). Absent in receipts written before --from was repeatable. */
  from_states?: string[];
  /** ORCHESTRATOR.md §6's field: the first --from state (null without --from); older receipts have only this. */
  from_state?: string | null;
  /** Started with --no-cache (a resume keeps to it). Absent in receipts written before it was recorded. */
  no_cache?: boolean;
  group_id: string | null;
  /** The sweep and candidate the run is one of (dag sweep); absent or null for other runs. */
  sweep?: { id: string; candidate: string } | null;
  engine_version: string | null;
  dag_version: string;
  git_commit: string | null;
  duckdb_version: string;
  project: string;
}

/** The --from states a run started with, whichever way its receipt records them; undefined without --from. */
export function fromStatesOf(receipt: RunReceipt): string[] | undefined {
  const states = receipt.from_states ?? (receipt.from_state ? [receipt.from_state] : []);
  return states.length > 0 ? states : undefined;
}

/** One line of ledger.jsonl: the outcome of one state (per scenario) in a run. */
export interface LedgerEntry {
  ts: string;
  state: string;
  scenario?: string;
  action: 'ran' | 'cached' | 'staged' | 'failed' | 'skipped';
  reason: string;
  cache_key?: string;
  seconds: number;
  steps?: { name: string; seconds: number }[];
  rows?: Record<string, number>;
  bytes?: number;
  /** Bytes read to verify what was staged or served (0 when every file's digest came from the stat cache). */
  hashed_bytes?: number;
  /** Published files, run-relative, with their sha256 and rows. */
  outputs?: LedgerOutput[];
  gate?: { segment: string; path: string; passed: boolean; digest?: string };
  error?: { message: string; step?: string; output?: string; column?: string; rule?: string };
}

/** A published file: run-relative path, the output folder's path template, digest, size, rows. */
export interface LedgerOutput {
  dataset: string;
  path: string;
  template: string;
  sha256: string;
  bytes: number;
  rows?: number;
}

export function runsDirOf(cp: CompiledProject): string {
  return runsDirFor(cp.project.root, cp.project.config.runs_dir);
}

/** The runs folder of the project at `root` whose dag.yaml says `runsDir` (DAG_RUNS_DIR overrides it). */
export function runsDirFor(root: string, runsDir: string): string {
  return process.env.DAG_RUNS_DIR ?? join(root, runsDir);
}

export function newRunId(): string {
  return randomBytes(16).toString('hex');
}

export const RECEIPT = 'run_receipt.json';
export const LEDGER = 'ledger.jsonl';

export function readReceipt(runDir: string): RunReceipt | undefined {
  try {
    return JSON.parse(readFileSync(join(runDir, RECEIPT), 'utf8')) as RunReceipt;
  } catch {
    return undefined;
  }
}

export function writeReceipt(runDir: string, receipt: RunReceipt): void {
  writeFileAtomic(join(runDir, RECEIPT), JSON.stringify(receipt, null, 2) + '\n');
}

/**
 * The receipt rewritten in place, in the blocks it already has: for a full disk, where the atomic
 * write (a new file, then a rename) cannot get a block. Compact JSON, so it is no longer than the
 * indented receipt it replaces; a crash in the middle could tear it, which is why it is the fallback.
 */
export function overwriteReceiptInPlace(runDir: string, receipt: RunReceipt): void {
  const fd = openSync(join(runDir, RECEIPT), 'r+');
  try {
    const text = Buffer.from(JSON.stringify(receipt) + '\n');
    writeSync(fd, text, 0, text.length, 0);
    ftruncateSync(fd, text.length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * A run's ledger, held open for the run. Lines of states that ran are fsynced at once; lines of
 * cached and staged states are cheap to redo, so they are fsynced together by `sync()`.
 */
export class LedgerWriter {
  private fd: number;
  private readonly path: string;
  private readonly runDir: string;
  /** The entries this writer appended, and whether the ledger was empty before them (then they are all of it). */
  private readonly appended: LedgerEntry[] = [];
  private readonly startedEmpty: boolean;

  constructor(runDir: string) {
    const path = join(runDir, LEDGER);
    this.path = path;
    this.runDir = runDir;
    this.fd = openSync(path, 'a+');
    // A crash mid-append leaves a torn last line (a record is one write ending in '\n', so a last
    // line without one never completed): cut it, so the ledger holds whole records only. A complete
    // line that is not a record (an edit) stays, and dag verify fails on it.
    const size = fstatSync(this.fd).size;
    this.startedEmpty = size === 0;
    if (size > 0) {
      const tail = Buffer.alloc(Math.min(size, 1 << 20));
      readSync(this.fd, tail, 0, tail.length, size - tail.length);
      if (tail[tail.length - 1] !== 0x0a) {
        const nl = tail.lastIndexOf(0x0a);
        if (nl >= 0 || size <= tail.length) ftruncateSync(this.fd, size - tail.length + nl + 1);
        else writeSync(this.fd, '\n'); // a torn line longer than 1 MiB: ended, reported by dag verify
      }
    }
  }

  append(entry: LedgerEntry, durable = true): void {
    try {
      writeSync(this.fd, JSON.stringify(entry) + '\n');
      if (durable) fsyncSync(this.fd);
      this.appended.push(entry);
    } catch (e) {
      (e as NodeJS.ErrnoException).path ??= this.path; // a write to a descriptor names no file
      throw e;
    }
  }

  sync(): void {
    fsyncSync(this.fd);
  }

  /** The ledger's entries, as readLedger gives them: from memory when this writer wrote all of them (a fresh run), else read back. */
  entries(): LedgerEntry[] {
    return this.startedEmpty ? [...this.appended] : readLedger(this.runDir);
  }

  close(): void {
    if (this.fd < 0) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = -1;
  }
}

/** The ledger's lines; a torn last line (a crash mid-append) is ignored. */
export function readLedger(runDir: string): LedgerEntry[] {
  const path = join(runDir, LEDGER);
  if (!existsSync(path)) return [];
  const out: LedgerEntry[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const e = JSON.parse(line) as LedgerEntry;
      if (typeof e === 'object' && e !== null && typeof e.state === 'string') out.push(e);
    } catch {
      /* a torn line (dag verify reports it) */
    }
  }
  return out;
}

/** The ledger's lines that are not a JSON record (torn by a crash, or edited), 1-based. */
export function unparseableLedgerLines(runDir: string): { line: number; text: string }[] {
  const path = join(runDir, LEDGER);
  if (!existsSync(path)) return [];
  const bad: { line: number; text: string }[] = [];
  readFileSync(path, 'utf8').split('\n').forEach((text, i) => {
    if (text.trim() === '') return;
    try {
      const v = JSON.parse(text) as unknown;
      if (typeof v !== 'object' || v === null || typeof (v as { state?: unknown }).state !== 'string') bad.push({ line: i + 1, text });
    } catch {
      bad.push({ line: i + 1, text });
    }
  });
  return bad;
}

/** The latest outcome per task key (`state` or `state@scenario`). */
export function latestOutcomes(entries: LedgerEntry[]): Map<string, LedgerEntry> {
  const m = new Map<string, LedgerEntry>();
  for (const e of entries) m.set(taskKey(e.state, e.scenario), e);
  return m;
}


export interface RunInfo {
  id: string;
  dir: string;
  receipt: RunReceipt;
}

/** The folders of runs/ named like a run (32 hex), in directory order. */
function runFolders(runsDir: string): { id: string; dir: string }[] {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir).filter((name) => RUN_ID.test(name)).map((id) => ({ id, dir: join(runsDir, id) }));
}

/** Every run folder with a readable receipt, newest first. */
export function listRuns(runsDir: string): RunInfo[] {
  const runs: RunInfo[] = [];
  for (const { id, dir } of runFolders(runsDir)) {
    const receipt = readReceipt(dir);
    if (receipt) runs.push({ id, dir, receipt });
  }
  return runs.sort((a, b) => b.receipt.created_utc.localeCompare(a.receipt.created_utc) || a.id.localeCompare(b.id));
}

/** A run folder without a readable receipt: killed between making its folder and its receipt. */
export interface OrphanRun {
  id: string;
  dir: string;
  /** The folder's modification time (ISO), for the listing. */
  modified: string;
  /** Younger than a minute: it may be a run that is starting now, so it is never removed yet. */
  recent: boolean;
}

/** Run folders (32-hex names) with no readable receipt, newest first. */
export function listOrphans(runsDir: string): OrphanRun[] {
  const orphans: OrphanRun[] = [];
  for (const { id, dir } of runFolders(runsDir)) {
    if (readReceipt(dir)) continue;
    let mtime: number;
    try {
      const st = statSync(dir);
      if (!st.isDirectory()) continue;
      mtime = st.mtimeMs;
    } catch {
      continue;
    }
    orphans.push({ id, dir, modified: new Date(mtime).toISOString(), recent: Date.now() - mtime < 60_000 });
  }
  return orphans.sort((a, b) => b.modified.localeCompare(a.modified));
}

/** A run by full id, unique prefix (at least 4 characters), or a label naming exactly one run. */
export function resolveRun(runsDir: string, text: string): RunInfo {
  const runs = listRuns(runsDir);
  const exact = runs.find((r) => r.id === text);
  if (exact) return exact;
  const labelled = new LabelStore(runsDir).runsWith(text);
  if (labelled.length === 1) {
    const run = runs.find((r) => r.id === labelled[0]);
    if (run) return run;
  }
  if (labelled.length > 1) throw new DagError([{ code: 'ambiguous-run', file: '(command line)', message: `label '${text}' names ${labelled.length} runs: ${labelled.join(', ')}`, fix: 'give a run id' }]);
  const matches = text.length >= 4 ? runs.filter((r) => r.id.startsWith(text)) : [];
  if (matches.length === 1) return matches[0]!;
  const why = matches.length > 1 ? `'${text}' matches ${matches.length} runs: ${matches.map((r) => r.id).join(', ')}` : `no run '${text}' in ${runsDir}`;
  throw new DagError([{ code: 'unknown-run', file: '(command line)', message: why, fix: 'give a run id or a unique prefix of at least 4 characters (see dag runs)' }]);
}
