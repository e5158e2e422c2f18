import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, sep } from 'node:path';
import type { CacheEntry } from './cache.js';
import { LabelStore } from './labels.js';
import { diskUsage } from './size.js';
import { acquireLock, lockHolder } from './lock.js';
import { StatCache } from './statcache.js';
import { listOrphans, listRuns, readLedger } from './runs.js';
import { bestRuns, listSweeps } from './sweeps.js';

export const TRASH = '.trash';

export interface PrunePolicy {
  /** retention.keep_labels: labels whose runs are kept even when named by --drop-label. */
  keepLabels: string[];
  /** --drop-label: labels that no longer keep their runs (every other label does). */
  dropLabels?: string[];
  keepLast: number;
  /** Only failed and interrupted runs may be deleted. */
  failedOnly: boolean;
  /** Run ids kept whatever else holds. */
  keep: string[];
  /** --drop-sweep: sweeps whose best candidate is no longer kept for being the best. */
  dropSweeps?: string[];
}

/** What a prune knows of a sweep: its id and the runs of its best-ranked candidate so far. */
export interface SweepFacts {
  id: string;
  best?: { candidate: string; runs: string[] };
}

export interface PruneRow {
  run: string;
  created: string;
  status: string;
  labels: string[];
  action: 'KEEP' | 'DELETE';
  reason: string;
  /** Disk bytes of the run's folder (each inode once). */
  bytes: number;
}

export interface PrunePlan {
  rows: PruneRow[];
  /** Cache entries no kept run uses, and objects no kept run or entry references. */
  cache: { entries: string[]; objects: string[] };
  /** Disk bytes that deleting all of it frees (inodes whose every link goes), as `du` counts them. */
  freeBytes: number;
}

/**
 * Decides which runs a prune keeps, and why; each reason names its rule. In order: a running
 * run; --keep; a label (any label keeps its run, unless --drop-label names it and
 * retention.keep_labels does not); failed and interrupted runs go; the newest complete --seeds
 * group (every run of it succeeded) stays, so `dag report --group` still works; a sweep is one
 * group: while one of its runs is locked all stay, else its best candidate's runs stay (unless
 * --drop-sweep names it) and its other candidates go; then the retention.keep_last newest
 * succeeded runs (a sweep's runs are not counted there). Pure: every fact is an argument.
 */
export function decideRuns(runs: { id: string; status: string; created: string; labels: string[]; pid?: number; group?: string | null }[], policy: PrunePolicy, sweeps: SweepFacts[] = []): { id: string; action: 'KEEP' | 'DELETE'; reason: string }[] {
  const sweepOf = new Map(sweeps.map((s) => [s.id, s]));
  const inSweep = (r: { group?: string | null }) => r.group != null && sweepOf.has(r.group);
  const busy = new Set(runs.filter((r) => r.pid !== undefined && inSweep(r)).map((r) => r.group!));
  // keep_last counts the newest succeeded runs, whatever else keeps them (runs come newest first)
  const newestIds = runs.filter((r) => r.status === 'succeeded' && !inSweep(r)).slice(0, policy.keepLast).map((r) => r.id);
  const drop = new Set(policy.dropLabels ?? []);
  const group = newestCompleteGroup(runs.filter((r) => !inSweep(r)));
  return runs.map((r) => {
    if (r.pid !== undefined) return { id: r.id, action: 'KEEP', reason: `running (locked by pid ${r.pid})` };
    if (policy.keep.includes(r.id)) return { id: r.id, action: 'KEEP', reason: '--keep' };
    const pinned = r.labels.find((l) => policy.keepLabels.includes(l));
    if (pinned) return { id: r.id, action: 'KEEP', reason: `label: ${pinned} (retention.keep_labels)` };
    const label = r.labels.find((l) => !drop.has(l));
    if (label) return { id: r.id, action: 'KEEP', reason: `label: ${label} (a labelled run is kept; --drop-label ${label} lets it go)` };
    const sweep = inSweep(r) ? sweepOf.get(r.group!)! : undefined;
    if (sweep && busy.has(sweep.id)) return { id: r.id, action: 'KEEP', reason: `sweep ${sweep.id} is running` };
    if (sweep?.best?.runs.includes(r.id) && !(policy.dropSweeps ?? []).includes(sweep.id)) return { id: r.id, action: 'KEEP', reason: `sweep ${sweep.id}: best candidate ${sweep.best.candidate} (--drop-sweep ${sweep.id} lets it go)` };
    const failed = r.status === 'failed' || r.status === 'interrupted';
    if (failed) return { id: r.id, action: 'DELETE', reason: `${r.status} (failed and interrupted runs go)` };
    if (policy.failedOnly) return { id: r.id, action: 'KEEP', reason: 'not failed (--failed)' };
    if (sweep && !busy.has(sweep.id)) return { id: r.id, action: 'DELETE', reason: sweep.best?.runs.includes(r.id) ? `sweep ${sweep.id}: best candidate, but --drop-sweep` : `sweep ${sweep.id}: not its best candidate${sweep.best ? ` (${sweep.best.candidate} is kept; dag label RUN NAME keeps another)` : ''}` };
    if (group && r.group === group) return { id: r.id, action: 'KEEP', reason: `seed group ${group} (the newest complete --seeds group is kept)` };
    const rank = newestIds.indexOf(r.id);
    if (rank >= 0) return { id: r.id, action: 'KEEP', reason: `newest (${rank + 1} of retention.keep_last ${policy.keepLast})` };
    return { id: r.id, action: 'DELETE', reason: `superseded (older than the ${policy.keepLast} newest succeeded, retention.keep_last)` };
  });
}

/** The group id of the newest --seeds group whose every run succeeded (runs come newest first). */
function newestCompleteGroup(runs: { status: string; group?: string | null }[]): string | undefined {
  const seen = new Set<string>();
  for (const r of runs) {
    if (!r.group || seen.has(r.group)) continue;
    seen.add(r.group);
    if (runs.every((x) => x.group !== r.group || x.status === 'succeeded')) return r.group;
  }
  return undefined;
}

/** Builds the prune plan: runs, unreferenced cache entries and objects, and the exact bytes freed. */
export function planPrune(runsDir: string, policy: PrunePolicy): PrunePlan {
  const labels = new LabelStore(runsDir);
  const runs = listRuns(runsDir); // newest first
  const facts = runs.map((r) => {
    const pid = lockHolder(r.dir);
    const status = r.receipt.status === 'running' && pid === undefined ? 'interrupted' : r.receipt.status;
    return { id: r.id, status, created: r.receipt.created_utc, labels: labels.of(r.id), pid, group: r.receipt.group_id ?? null };
  });
  const sweeps = listSweeps(runsDir).map((s) => ({ id: s.sweep_id, best: bestRuns(s) }));
  const decisions = decideRuns(facts, policy, sweeps);
  const kept = runs.filter((_, i) => decisions[i]!.action === 'KEEP');
  const deleted = runs.filter((_, i) => decisions[i]!.action === 'DELETE');

  // The cache: entries used by a kept run stay, and with them their objects.
  const cacheDir = join(runsDir, '.cache');
  const keptIds = new Set(kept.map((r) => r.id));
  const usedKeys = new Set<string>();
  const usedObjects = new Set<string>();
  for (const r of kept) {
    for (const e of readLedger(r.dir)) {
      if (e.cache_key) usedKeys.add(e.cache_key);
      for (const o of e.outputs ?? []) usedObjects.add(o.sha256);
    }
  }
  const dropEntries: string[] = [];
  for (const f of safeList(join(cacheDir, 'keys'))) {
    const key = f.replace(/\.json$/, '');
    let entry: CacheEntry | undefined;
    try {
      entry = JSON.parse(readFileSync(join(cacheDir, 'keys', f), 'utf8')) as CacheEntry;
    } catch {
      /* unreadable: drop it */
    }
    if (entry && (keptIds.has(entry.run_id) || usedKeys.has(key))) entry.files.forEach((x) => usedObjects.add(x.sha256));
    else dropEntries.push(key);
  }
  const dropObjects: string[] = [];
  for (const d of safeList(join(cacheDir, 'objects'))) for (const sha of safeList(join(cacheDir, 'objects', d))) if (!usedObjects.has(sha)) dropObjects.push(sha);

  // Bytes freed: an inode is freed when every one of its links is deleted (hard links are shared).
  const linksDeleted = new Map<string, { nlink: number; seen: number; bytes: number }>();
  let dirBytes = 0;
  const visit = (path: string) => {
    const st = lstatSync(path);
    if (st.isDirectory()) {
      dirBytes += st.blocks * 512;
      for (const n of readdirSync(path)) visit(join(path, n));
      return;
    }
    const id = `${st.dev}:${st.ino}`;
    const rec = linksDeleted.get(id) ?? { nlink: st.nlink, seen: 0, bytes: st.blocks * 512 };
    rec.seen++;
    linksDeleted.set(id, rec);
  };
  for (const r of deleted) visit(r.dir);
  if (existsSync(join(runsDir, TRASH))) visit(join(runsDir, TRASH)); // what an interrupted prune left
  for (const k of dropEntries) visit(join(cacheDir, 'keys', `${k}.json`));
  for (const sha of dropObjects) visit(join(cacheDir, 'objects', sha.slice(0, 2), sha));
  let freeBytes = dirBytes;
  for (const rec of linksDeleted.values()) if (rec.seen >= rec.nlink) freeBytes += rec.bytes;

  const rows: PruneRow[] = runs.map((r, i) => ({ run: r.id, created: facts[i]!.created, status: facts[i]!.status, labels: facts[i]!.labels, action: decisions[i]!.action, reason: decisions[i]!.reason, bytes: diskUsage(r.dir) }));
  // a folder without a receipt holds nothing a run vouches for: removed, unless it may be starting now
  for (const o of listOrphans(runsDir)) {
    const pid = lockHolder(o.dir);
    const keep = pid !== undefined || o.recent;
    if (!keep) visit(o.dir);
    rows.push({ run: o.id, created: o.modified, status: 'incomplete', labels: labels.of(o.id), action: keep ? 'KEEP' : 'DELETE', reason: pid !== undefined ? `starting (locked by pid ${pid})` : o.recent ? 'incomplete, made in the last minute (may be starting)' : 'incomplete (no receipt: killed before it started)', bytes: diskUsage(o.dir) });
  }
  freeBytes = dirBytes;
  for (const rec of linksDeleted.values()) if (rec.seen >= rec.nlink) freeBytes += rec.bytes;
  return { rows, cache: { entries: dropEntries, objects: dropObjects }, freeBytes };
}

/**
 * Removes the shared inputs.json records (store/inputs.ts) no run links to any more: one link left
 * (the cache's own) and unchanged for 10 minutes, so a run that has just written its record and is
 * about to link it keeps it (an unlink moves the ctime: a record freed now goes at a later prune).
 */
export function dropUnlinkedInputRecords(cacheDir: string, now = Date.now()): void {
  const dir = join(cacheDir, 'inputs');
  const old = now - 10 * 60_000;
  for (const f of safeList(dir)) {
    const st = lstatSync(join(dir, f), { throwIfNoEntry: false });
    if (st && st.nlink === 1 && st.ctimeMs < old) rmSync(join(dir, f), { force: true });
  }
}

/**
 * One `dag prune --yes` at a time in a runs folder (its lock, runs/.lock): two would race to delete
 * the same run folders and trash, and the second would fail halfway. A dead holder's lock is
 * taken over, and `onTakeover` is told. Returns the release.
 */
export function lockForPrune(runsDir: string, onTakeover: (pid: number) => void): () => void {
  return acquireLock(runsDir, (stale) => onTakeover(stale.pid), { code: 'prune-locked', subject: 'the runs folder', fix: 'wait for that dag prune to finish' });
}

/**
 * Carries out a plan. A run folder is first renamed into runs/.trash (out of the runs listing, in
 * one step), then removed, so an interrupted prune never leaves a half-deleted run that looks
 * real; the next prune empties the trash. A run locked since the plan was made is left alone.
 */
export function executePrune(runsDir: string, plan: PrunePlan, onSkip: (run: string, why: string) => void): { runs: number; entries: number; objects: number } {
  const cacheDir = join(runsDir, '.cache');
  // Removing a run folder unlinks its hard links to the cache's objects, which moves each object's
  // ctime past its stat record: without this, the next run would rehash every object it serves.
  // The objects whose record holds now keep it, re-recorded with their ctime after the unlinks
  // (an object changed before this point has no holding record, and is hashed at its next use).
  const stat = new StatCache(join(cacheDir, 'stat.json'));
  const vouched = stat.current(join(cacheDir, 'objects') + sep);
  emptyTrash(runsDir);
  const labels = new LabelStore(runsDir);
  const trash = join(runsDir, TRASH);
  let runs = 0;
  for (const row of plan.rows) {
    if (row.action !== 'DELETE') continue;
    const dir = join(runsDir, row.run);
    const pid = lockHolder(dir);
    if (pid !== undefined) {
      onSkip(row.run, `locked by pid ${pid} since the plan was made`);
      continue;
    }
    if (!existsSync(trash)) mkdirSync(trash);
    labels.forget(row.run); // first: a kill after the rename must not leave a label naming a deleted run
    renameSync(dir, join(trash, row.run));
    rmSync(join(trash, row.run), { recursive: true, force: true });
    runs++;
  }
  for (const k of plan.cache.entries) rmSync(join(cacheDir, 'keys', `${k}.json`), { force: true });
  for (const sha of plan.cache.objects) rmSync(join(cacheDir, 'objects', sha.slice(0, 2), sha), { force: true });
  dropUnlinkedInputRecords(cacheDir);
  emptyTrash(runsDir);
  for (const o of vouched) stat.remember(o.path, o.sha256);
  // in the space the stat cache holds now, so the total printed stays exact; the rare rewrite
  // that would need another block is left out (the next run then rehashes those objects)
  if (vouched.length > 0) stat.saveInPlace();
  return { runs, entries: plan.cache.entries.length, objects: plan.cache.objects.length };
}

/** Finishes what an interrupted prune left in runs/.trash (and forgets the labels of those runs). */
export function emptyTrash(runsDir: string): void {
  const trash = join(runsDir, TRASH);
  if (!existsSync(trash)) return;
  const labels = new LabelStore(runsDir);
  for (const name of readdirSync(trash)) labels.forget(name);
  rmSync(trash, { recursive: true, force: true });
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}


