import type { PruneRow } from '../../dag/store/prune.js';
// `dag prune` (ORCHESTRATOR.md §10, README "Run lifecycle"): keeps locked runs, --keep runs, runs
// carrying a label of retention.keep_labels and the newest keep_last succeeded runs; deletes failed,
// interrupted and superseded runs, the cache entries and objects no kept run uses; prints exactly
// what `du` will see freed. One runs folder holds the scenario of the issue; every test prunes its
// own clone of it (cp -a keeps the hard links between runs and the cache).
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, copyFixture, dag, dagJson, dagRun, du, labelsFile, ledger, LIFECYCLE_TIMEOUT, liveProcess, markRunning, objectPath, outputShas, tempDir } from './helpers.js';

const KEEP_LABELS = '[authority, candidate, last-good, witness]';

type Row = PruneRow; // the rows of `dag prune --json`

interface PruneJson {
  dry_run: boolean;
  rows: Row[];
  cache: { entries: string[]; objects: string[] };
  free_bytes: number;
  deleted: { runs: number; entries: number; objects: number } | null;
  skipped: { run: string; why: string }[];
}

/** The scenario's runs, by role. */
interface Scenario {
  authority: string;
  candidate: string;
  witness1: string;
  witness2: string;
  lastGood: string;
  failed: string;
  superseded11: string;
  custom: string;
  superseded42: string;
  interrupted: string;
  running: string;
  newest: string;
}

const root = copyFixture({ retention: `{keep_labels: ${KEEP_LABELS}, keep_last: 1}` });
const broken = copyFixture({ retention: `{keep_labels: ${KEEP_LABELS}, keep_last: 1}`, breakS2: true });
const template = tempDir('template');
const runs0 = join(template, 'runs');
let holder: ChildProcess;
let s: Scenario;

afterAll(() => {
  holder?.kill('SIGKILL');
  cleanup();
});

beforeAll(async () => {
  holder = liveProcess();
  const run = async (args: string[], project = root, code = 0) => (await dagRun(project, runs0, args, code)).run_id;
  const authority = await run([]); // promoted to last-good, which moves on below
  expect((await dag(root, runs0, ['label', authority, 'authority'])).code).toBe(0);
  const candidate = await run(['--no-promote', '--label', 'candidate']);
  const witness1 = await run(['--seed', '7', '--no-promote', '--label', 'witness']);
  const witness2 = await run(['--seed', '101', '--no-promote', '--label', 'witness']);
  const lastGood = await run(['--seed', '21']);
  const failed = await run([], broken, 1);
  const superseded11 = await run(['--seed', '11', '--no-promote']);
  const custom = await run(['--seed', '12', '--no-promote', '--label', 'mine']);
  const superseded42 = await run(['--no-promote']); // every file a hard link shared with the authority run and the cache
  const interrupted = await run(['--seed', '13', '--no-promote']);
  markRunning(join(runs0, interrupted), undefined, hostname()); // says running, no live holder
  const running = await run(['--seed', '14', '--no-promote']);
  markRunning(join(runs0, running), holder.pid!, hostname());
  const newest = await run(['--seed', '15', '--no-promote']);
  s = { authority, candidate, witness1, witness2, lastGood, failed, superseded11, custom, superseded42, interrupted, running, newest };
  expect(labelsFile(runs0)).toEqual({ authority: [authority], candidate: [candidate], witness: [witness1, witness2], 'last-good': [lastGood], mine: [custom] });
}, 4 * LIFECYCLE_TIMEOUT);

/** A private copy of the scenario's runs folder, hard links and all. */
function cloneRuns(): string {
  const dir = join(tempDir('runs'), 'runs');
  execFileSync('cp', ['-a', runs0, dir]);
  return dir;
}

const runFolders = (runs: string) => readdirSync(runs).filter((n) => /^[0-9a-f]{32}$/.test(n)).sort();

/** Every cache object file, by sha256. */
function cacheObjects(runs: string): Set<string> {
  const dir = join(runs, '.cache', 'objects');
  return new Set(readdirSync(dir).flatMap((d) => readdirSync(join(dir, d))));
}

function cacheKeys(runs: string): Set<string> {
  return new Set(readdirSync(join(runs, '.cache', 'keys')).map((f) => f.replace(/\.json$/, '')));
}

const union = (sets: Set<string>[]) => new Set(sets.flatMap((x) => [...x]));

/** The rows the scenario must give under the default policy, newest first. */
function expectedRows(): Pick<Row, 'run' | 'action' | 'reason' | 'status' | 'labels'>[] {
  const sup = 'superseded (older than the 1 newest succeeded, retention.keep_last)';
  const pinned = (l: string) => `label: ${l} (retention.keep_labels)`;
  return [
    { run: s.newest, action: 'KEEP', reason: 'newest (1 of retention.keep_last 1)', status: 'succeeded', labels: [] },
    { run: s.running, action: 'KEEP', reason: `running (locked by pid ${holder.pid})`, status: 'running', labels: [] },
    { run: s.interrupted, action: 'DELETE', reason: 'interrupted (failed and interrupted runs go)', status: 'interrupted', labels: [] },
    { run: s.superseded42, action: 'DELETE', reason: sup, status: 'succeeded', labels: [] },
    { run: s.custom, action: 'KEEP', reason: 'label: mine (a labelled run is kept; --drop-label mine lets it go)', status: 'succeeded', labels: ['mine'] },
    { run: s.superseded11, action: 'DELETE', reason: sup, status: 'succeeded', labels: [] },
    { run: s.failed, action: 'DELETE', reason: 'failed (failed and interrupted runs go)', status: 'failed', labels: [] },
    { run: s.lastGood, action: 'KEEP', reason: pinned('last-good'), status: 'succeeded', labels: ['last-good'] },
    { run: s.witness2, action: 'KEEP', reason: pinned('witness'), status: 'succeeded', labels: ['witness'] },
    { run: s.witness1, action: 'KEEP', reason: pinned('witness'), status: 'succeeded', labels: ['witness'] },
    { run: s.candidate, action: 'KEEP', reason: pinned('candidate'), status: 'succeeded', labels: ['candidate'] },
    { run: s.authority, action: 'KEEP', reason: pinned('authority'), status: 'succeeded', labels: ['authority'] },
  ];
}

/** `dag prune --yes --json`, with du of the runs folder measured around it. */
async function pruneYes(runs: string, extra: string[] = []): Promise<{ result: PruneJson; freed: number }> {
  const before = du(runs);
  const result = await dagJson<PruneJson>(root, runs, ['prune', '--yes', ...extra]);
  return { result, freed: before - du(runs) };
}

async function expectVerifies(runs: string, ids: string[]): Promise<void> {
  for (const id of ids) {
    const v = await dag(root, runs, ['verify', id, '--json']);
    expect(v.code, `dag verify ${id}: ${v.stdout}${v.stderr}`).toBe(0);
    const doc = JSON.parse(v.stdout) as { ok: boolean; files: number; problems: unknown[] };
    expect(doc.ok).toBe(true);
    expect(doc.files).toBeGreaterThan(0);
  }
}

describe('dag prune on the scenario of the issue (retention keep_last: 1)', () => {
  it('the dry run lists every run with KEEP or DELETE, its reason and its du size, and deletes nothing', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const runs = cloneRuns();
    const folders = runFolders(runs);
    const objects = cacheObjects(runs);
    const plan = await dagJson<PruneJson>(root, runs, ['prune']);
    expect(plan.dry_run).toBe(true);
    expect(plan.deleted).toBeNull();
    expect(plan.rows.map(({ run, action, reason, status, labels }) => ({ run, action, reason, status, labels }))).toEqual(expectedRows());
    for (const row of plan.rows) expect(row.bytes, `size of ${row.run}`).toBe(du(join(runs, row.run)));
    expect(plan.free_bytes).toBeGreaterThan(0);
    expect(runFolders(runs)).toEqual(folders);
    expect(cacheObjects(runs)).toEqual(objects);

    const text = await dag(root, runs, ['prune']);
    expect(text.code).toBe(0);
    const line = (id: string) => text.stdout.split('\n').find((l) => l.startsWith(id)) ?? '';
    expect(line(s.failed)).toMatch(/\bfailed\b.*\bDELETE\s+failed \(failed and interrupted runs go\)/);
    expect(line(s.running)).toMatch(new RegExp(`\\bKEEP\\s+running \\(locked by pid ${holder.pid}\\)`));
    expect(line(s.custom)).toMatch(/\bmine\s+KEEP\s+label: mine\b/);
    expect(line(s.superseded11)).toMatch(/\bDELETE\s+superseded \(older than the 1 newest succeeded, retention\.keep_last\)/);
    expect(text.stdout).toContain(`would free`);
    expect(text.stdout).toContain(`(${plan.free_bytes} bytes) by deleting 4 runs; run with --yes to delete`);
    expect(runFolders(runs)).toEqual(folders);
  });

  it('--yes deletes exactly the DELETE rows, frees exactly the printed bytes, forgets their labels, keeps what kept runs use; a second prune finds nothing', { timeout: 2 * LIFECYCLE_TIMEOUT }, async () => {
    const runs = cloneRuns();
    const rows = expectedRows();
    const keep = rows.filter((r) => r.action === 'KEEP').map((r) => r.run);
    const drop = rows.filter((r) => r.action === 'DELETE').map((r) => r.run);
    const keptShas = union(keep.map((id) => outputShas(join(runs, id))));
    const allShas = union(runFolders(runs).map((id) => outputShas(join(runs, id))));
    const objectsBefore = cacheObjects(runs);
    // every cache object is some run's output, and a run at seed 11 wrote objects only it uses
    expect([...objectsBefore].filter((o) => !allShas.has(o))).toEqual([]);
    const only11 = [...outputShas(join(runs, s.superseded11))].filter((o) => !keptShas.has(o));
    expect(only11.length).toBeGreaterThan(0);
    // ...and the superseded seed-42 run shares every output with kept runs (hard links)
    expect([...outputShas(join(runs, s.superseded42))].filter((o) => !keptShas.has(o))).toEqual([]);
    const keysOf11 = ledger(join(runs, s.superseded11)).filter((e) => e.action === 'ran').map((e) => e.cache_key!);
    expect(keysOf11.length).toBe(4);
    expect(keysOf11.every((k) => cacheKeys(runs).has(k))).toBe(true);

    const dry = await dagJson<PruneJson>(root, runs, ['prune']);
    expect([...dry.cache.objects].sort()).toEqual([...objectsBefore].filter((o) => !keptShas.has(o)).sort());
    const { result, freed } = await pruneYes(runs);
    expect(result.dry_run).toBe(false);
    expect(result.rows.map((r) => [r.run, r.action, r.reason])).toEqual(rows.map((r) => [r.run, r.action, r.reason]));
    expect(result.deleted).toEqual({ runs: drop.length, entries: result.cache.entries.length, objects: result.cache.objects.length });
    expect(result.skipped).toEqual([]);
    expect(result.free_bytes).toBe(dry.free_bytes);
    expect(freed).toBe(result.free_bytes); // exact, as du counts it

    expect(runFolders(runs)).toEqual([...keep].sort());
    expect(existsSync(join(runs, '.trash'))).toBe(false);
    const labels = labelsFile(runs);
    expect(labels).toEqual({ authority: [s.authority], candidate: [s.candidate], witness: [s.witness1, s.witness2], 'last-good': [s.lastGood], mine: [s.custom] });

    // cache: what kept runs use stays, what only deleted runs used is gone
    const objectsAfter = cacheObjects(runs);
    for (const sha of keptShas) expect(existsSync(objectPath(runs, sha)), `object ${sha} of a kept run`).toBe(true);
    for (const sha of only11) expect(objectsAfter.has(sha), `object ${sha} only the deleted seed-11 run used`).toBe(false);
    expect([...objectsAfter].sort()).toEqual([...objectsBefore].filter((o) => keptShas.has(o)).sort());
    const keysAfter = cacheKeys(runs);
    for (const k of keysOf11) expect(keysAfter.has(k), `cache entry ${k} of the deleted seed-11 run`).toBe(false);
    for (const id of keep) for (const e of ledger(join(runs, id))) if (e.cache_key && e.action !== 'failed') expect(keysAfter.has(e.cache_key), `cache entry ${e.cache_key} used by ${id}`).toBe(true);
    for (const k of keysAfter) {
      const entry = JSON.parse(readFileSync(join(runs, '.cache', 'keys', `${k}.json`), 'utf8')) as { files: { sha256: string }[] };
      for (const f of entry.files) expect(objectsAfter.has(f.sha256), `entry ${k} lists ${f.sha256}`).toBe(true);
    }

    // kept runs, including the ones whose files were hard links shared with deleted runs, verify
    await expectVerifies(runs, keep);
    const listed = await dagJson<{ id: string }[]>(root, runs, ['runs']);
    expect(listed.map((r) => r.id).sort()).toEqual([...keep].sort());

    const again = await pruneYes(runs);
    expect(again.result.rows.filter((r) => r.action === 'DELETE')).toEqual([]);
    expect(again.result.cache).toEqual({ entries: [], objects: [] });
    expect(again.result.free_bytes).toBe(0);
    expect(again.result.deleted).toEqual({ runs: 0, entries: 0, objects: 0 });
    expect(again.freed).toBe(0);
    expect(runFolders(runs)).toEqual([...keep].sort());

    // the pruned cache still serves what kept runs made, and nothing it no longer holds
    const seed7 = await dagRun(root, runs, ['--seed', '7', '--no-promote']);
    expect(seed7.counts).toMatchObject({ cached: 5, ran: 0 });
    expect(seed7.warnings).toEqual([]);
    const seed11 = await dagRun(root, runs, ['--seed', '11', '--no-promote']);
    expect(seed11.counts).toMatchObject({ cached: 1, ran: 4 });
    expect(seed11.warnings).toEqual([]);
  });

  it('--failed deletes only the failed and interrupted runs', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const runs = cloneRuns();
    const dry = await dagJson<PruneJson>(root, runs, ['prune', '--failed']);
    const del = dry.rows.filter((r) => r.action === 'DELETE');
    expect(del.map((r) => [r.run, r.reason])).toEqual([
      [s.interrupted, 'interrupted (failed and interrupted runs go)'],
      [s.failed, 'failed (failed and interrupted runs go)'],
    ]);
    for (const id of [s.superseded42, s.superseded11]) expect(dry.rows.find((r) => r.run === id)).toMatchObject({ action: 'KEEP', reason: 'not failed (--failed)' });
    const keptShas = union(runFolders(runs).filter((id) => id !== s.interrupted && id !== s.failed).map((id) => outputShas(join(runs, id))));
    const only13 = [...outputShas(join(runs, s.interrupted))].filter((o) => !keptShas.has(o));
    expect(only13.length).toBeGreaterThan(0);

    const { result, freed } = await pruneYes(runs, ['--failed']);
    expect(freed).toBe(result.free_bytes);
    expect(result.free_bytes).toBe(dry.free_bytes);
    const left = runFolders(runs);
    expect(left).toEqual(runFolders(runs0).filter((id) => id !== s.interrupted && id !== s.failed).sort());
    for (const sha of keptShas) expect(existsSync(objectPath(runs, sha))).toBe(true);
    for (const sha of only13) expect(existsSync(objectPath(runs, sha))).toBe(false);
    expect(labelsFile(runs).mine).toEqual([s.custom]);
    await expectVerifies(runs, [s.superseded11, s.custom, s.superseded42]);
  });

  it('--keep RUN (an id or a prefix) keeps runs the policy would delete; an unknown --keep exits 2 and deletes nothing', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const runs = cloneRuns();
    const bad = await dag(root, runs, ['prune', '--yes', '--keep', 'ffffffffffff']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('[unknown-run]');
    expect(runFolders(runs)).toEqual(runFolders(runs0));

    const { result, freed } = await pruneYes(runs, ['--keep', s.superseded11, '--keep', s.failed.slice(0, 8)]);
    expect(freed).toBe(result.free_bytes);
    const reasons = new Map(result.rows.map((r) => [r.run, `${r.action} ${r.reason}`]));
    expect(reasons.get(s.superseded11)).toBe('KEEP --keep');
    expect(reasons.get(s.failed)).toBe('KEEP --keep');
    const expectedLeft = expectedRows()
      .filter((r) => r.action === 'KEEP' || r.run === s.superseded11 || r.run === s.failed)
      .map((r) => r.run)
      .sort();
    expect(runFolders(runs)).toEqual(expectedLeft);
    for (const sha of outputShas(join(runs, s.superseded11))) expect(existsSync(objectPath(runs, sha))).toBe(true);
    await expectVerifies(runs, [s.superseded11]);
  });

  // dag/store/lock.ts acquireLock refuses a lock from another host ("whose process it cannot check",
  // test/store/lock.test.ts); prune must not treat that same lock as dead and delete the run.
  it('never deletes a run locked from another host (shared runs folder): its holder cannot be checked', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const runs = cloneRuns();
    markRunning(join(runs, s.superseded11), holder.pid!, `not-${hostname()}`);
    const plan = await dagJson<PruneJson>(root, runs, ['prune']);
    const row = plan.rows.find((r) => r.run === s.superseded11)!;
    expect(row.action).toBe('KEEP');
    expect(row.reason).toMatch(new RegExp(`^running \\(locked by pid ${holder.pid}\\b`));
    await pruneYes(runs);
    expect(existsSync(join(runs, s.superseded11))).toBe(true);
  });

  // issue 15 (found by the no-op bench): two `dag prune --yes` at once raced to empty the same
  // runs/.trash, and the second died halfway with `internal error: ENOENT ... lstat`. A deleting
  // prune now holds the runs folder's lock: a second one is refused while the first lives, a dry run
  // is not, and a dead holder's lock is taken over.
  it('--yes holds the runs folder: a second one is refused (exit 3, naming the pid) and deletes nothing; a dead holder is taken over', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const runs = cloneRuns();
    const lockAs = (pid: number) => writeFileSync(join(runs, '.lock'), JSON.stringify({ pid, host: hostname(), since: new Date().toISOString() }));
    lockAs(holder.pid!); // the lock a live `dag prune --yes` holds
    const before = readdirSync(runs).sort();
    const refused = await dag(root, runs, ['prune', '--yes']);
    expect(refused.code, refused.stdout + refused.stderr).toBe(3);
    expect(refused.stderr).toContain(`the runs folder is locked by pid ${holder.pid}`);
    expect(readdirSync(runs).sort()).toEqual(before);
    const dry = await dagJson<PruneJson>(root, runs, ['prune']);
    expect(dry.rows.some((r) => r.action === 'DELETE')).toBe(true);

    const dead = execFileSync(process.execPath, ['-p', 'process.pid'], { encoding: 'utf8' }).trim();
    lockAs(Number(dead));
    const taken = await dag(root, runs, ['prune', '--yes']);
    expect(taken.code, taken.stdout + taken.stderr).toBe(0);
    expect(taken.stderr).toContain(`took over the stale prune lock of dead pid ${dead}`);
    expect(existsSync(join(runs, s.failed))).toBe(false);
    expect(existsSync(join(runs, '.lock')), 'released').toBe(false);
  });

  // issue 16: `dag prune --yes` deleted a run with a custom label, with the reason `superseded`
  it('a custom label protects its run; --drop-label lets it go, unless retention.keep_labels lists it', { timeout: LIFECYCLE_TIMEOUT }, async () => {
    const runs = cloneRuns();
    const listing = copyFixture({ retention: `{keep_labels: [authority, candidate, last-good, witness, mine], keep_last: 1}` });
    const plan = await dagJson<PruneJson>(listing, runs, ['prune', '--drop-label', 'mine']);
    expect(plan.rows.find((r) => r.run === s.custom)).toMatchObject({ action: 'KEEP', reason: 'label: mine (retention.keep_labels)' });
    const { result } = await pruneYes(runs, ['--drop-label', 'mine']); // the scenario's own dag.yaml: mine is not listed
    expect(result.rows.find((r) => r.run === s.custom)).toMatchObject({ action: 'DELETE', reason: 'superseded (older than the 1 newest succeeded, retention.keep_last)', labels: ['mine'] });
    expect(existsSync(join(runs, s.custom))).toBe(false);
    expect(labelsFile(runs).mine).toBeUndefined();
  });
});
