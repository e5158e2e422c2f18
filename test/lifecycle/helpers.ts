import { removeTemps, tempDir } from '../support/temp.js';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { REPO, spawnCli, type CliResult, type RunJson } from '../support/cli.js';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export { REPO };
const FIXTURE = join(REPO, 'test', 'fixtures', 'diamond');

/** A test that spawns the CLI several times; the machine may be busy. */
export const LIFECYCLE_TIMEOUT = 120_000;

export type DagResult = CliResult;
export type { RunJson };

export { tempDir };

export function cleanup(): void {
  removeTemps();
}

/**
 * A private copy of the diamond fixture (without any runs/). `retention` is appended to dag.yaml
 * as given; `breakS2` replaces fx.S2's kernel with SQL that does not parse.
 */
export function copyFixture(opts: { retention?: string; breakS2?: boolean } = {}): string {
  const root = join(tempDir('project'), 'diamond');
  cpSync(FIXTURE, root, { recursive: true, filter: (src) => !src.startsWith(join(FIXTURE, 'runs')) });
  if (opts.retention) writeFileSync(join(root, 'dag.yaml'), readFileSync(join(root, 'dag.yaml'), 'utf8') + `retention: ${opts.retention}\n`);
  if (opts.breakS2) writeFileSync(join(root, 'states', 'fx', 'S2_merchants.sql'), '-- step: draw\ncreate table merchants_fx as select nonsense from;\n');
  return root;
}

/** Runs the real `dag` command (compiled dist/) with DAG_RUNS_DIR set. */
export function dag(root: string, runsDir: string, args: string[]): Promise<DagResult> {
  return spawnDag(root, runsDir, args).done;
}

/** The same, started: the child (to kill it) and its result. */
export function spawnDag(root: string, runsDir: string, args: string[]): { child: ChildProcess; done: Promise<DagResult> } {
  const child = spawnCli(['--root', root, ...args], { cwd: REPO, env: { DAG_RUNS_DIR: runsDir } });
  return { child, done: child.result };
}

/** `dag ... --json`, asserting the exit code, parsed. */
export async function dagJson<T = any>(root: string, runsDir: string, args: string[], expectCode = 0): Promise<T> {
  const r = await dag(root, runsDir, [...args, '--json']);
  if (r.code !== expectCode) throw new Error(`dag ${args.join(' ')} exited ${r.code}, expected ${expectCode}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** `dag run ... --json`; the exit code must match `expectCode`. */
export function dagRun(root: string, runsDir: string, args: string[] = [], expectCode = 0): Promise<RunJson> {
  return dagJson<RunJson>(root, runsDir, ['run', ...args], expectCode);
}

/** Disk usage as `du` counts it (each inode once), in bytes. */
export function du(path: string): number {
  const out = execFileSync('du', ['-sB1', path], { encoding: 'utf8' });
  return Number(out.split(/\s/)[0]);
}

export function readJson<T = any>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function labelsFile(runsDir: string): Record<string, string[]> {
  const f = join(runsDir, 'labels.json');
  return existsSync(f) ? readJson(f) : {};
}

export interface LedgerLine {
  state: string;
  scenario?: string;
  action: string;
  cache_key?: string;
  outputs?: { dataset: string; path: string; sha256: string; bytes: number }[];
}

export function ledger(runDir: string): LedgerLine[] {
  return readFileSync(join(runDir, 'ledger.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LedgerLine);
}

/** The sha256 of every output a run's ledger lists. */
export function outputShas(runDir: string): Set<string> {
  return new Set(ledger(runDir).flatMap((e) => (e.outputs ?? []).map((o) => o.sha256)));
}

export function objectPath(runsDir: string, sha: string): string {
  return join(runsDir, '.cache', 'objects', sha.slice(0, 2), sha);
}

/** A process that stays alive until killed: a live pid to put in a lock file. */
export function liveProcess(): ChildProcess {
  return spawn('sleep', ['600'], { stdio: 'ignore' });
}

/** Makes a finished run look like one still running under `pid`: receipt status running, a lock held by pid. */
export function markRunning(runDir: string, pid: number | undefined, host: string): void {
  const receiptPath = join(runDir, 'run_receipt.json');
  const receipt = readJson(receiptPath);
  writeFileSync(receiptPath, JSON.stringify({ ...receipt, status: 'running', finished_utc: null }, null, 2) + '\n');
  if (pid !== undefined) writeFileSync(join(runDir, '.lock'), JSON.stringify({ pid, host, since: new Date().toISOString() }));
}

/**
 * A private copy of test/fixtures/certify (engine-free: a gate that follows a parameter, a
 * cross-seed declaration) with the repository's validation prelude and shared contract under test.
 */
export function certifyFixture(): string {
  const root = join(tempDir('project'), 'certify');
  cpSync(join(REPO, 'test', 'fixtures', 'certify'), root, { recursive: true });
  mkdirSync(join(root, 'states', '_lib'), { recursive: true });
  cpSync(join(REPO, 'states', '_lib', 'validation.sql'), join(root, 'states', '_lib', 'validation.sql'));
  cpSync(join(REPO, 'contracts', 'engine.yaml'), join(root, 'contracts', 'engine.yaml'));
  return root;
}
