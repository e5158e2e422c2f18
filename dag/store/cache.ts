import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CacheKey, KeyComponents } from '../fingerprint/cachekey.js';
import { linkOrCopy, writeFileAtomic } from './atomic.js';
import { LatestStore, type LatestRecord } from './latest.js';
import { StatCache } from './statcache.js';

export type { LatestRecord } from './latest.js';

/** One file a state produced, located by its output's path template so it can land in any run. */
export interface CachedFile {
  dataset: string;
  /** The output folder's path template (the manifest's `path`, or `gate.path`). */
  template: string;
  /** File name inside that folder. */
  name: string;
  sha256: string;
  bytes: number;
  rows?: number;
}

/** runs/.cache/keys/<key>.json: what a state produced for a key. */
export interface CacheEntry {
  key: CacheKey;
  state: string;
  scenario: string | null;
  created_utc: string;
  /** Seconds the state took when it ran. */
  seconds: number;
  components: KeyComponents;
  files: CachedFile[];
  gate?: { passed: boolean; digest?: string };
  /** Run that produced it. */
  run_id: string;
}

/**
 * The content-addressed cache in `runs/.cache/`: each published file once, by sha256 (a hard link
 * to the run's file), and per cache key the list of files a state produced.
 */
export class CacheStore {
  readonly dir: string;
  readonly stat: StatCache;
  private readonly latestKeys: LatestStore;

  constructor(runsDir: string) {
    this.dir = join(runsDir, '.cache');
    this.stat = new StatCache(join(this.dir, 'stat.json'));
    this.latestKeys = new LatestStore(this.dir);
  }

  objectPath(sha256: string): string {
    return join(this.dir, 'objects', sha256.slice(0, 2), sha256);
  }

  private keyPath(key: CacheKey): string {
    return join(this.dir, 'keys', `${key}.json`);
  }

  /** Entries read so far (a plan asks `has`, then the run looks the same key up: one read). */
  private readonly entries = new Map<CacheKey, CacheEntry | undefined>();

  lookup(key: CacheKey): CacheEntry | undefined {
    if (this.entries.has(key)) return this.entries.get(key);
    let entry: CacheEntry | undefined;
    try {
      entry = JSON.parse(readFileSync(this.keyPath(key), 'utf8')) as CacheEntry;
    } catch {
      entry = undefined;
    }
    this.entries.set(key, entry);
    return entry;
  }

  /** Whether an entry exists: read through `lookup`, since a hit is then served (run) or simulated (plan) from it. */
  has(key: CacheKey): boolean {
    return this.lookup(key) !== undefined;
  }

  drop(key: CacheKey): void {
    this.entries.delete(key);
    rmSync(this.keyPath(key), { force: true });
  }

  /** Adds a state's published files (absolute paths in the run) and records the entry. */
  async put(entry: CacheEntry, absFiles: Map<string, string>): Promise<void> {
    for (const f of entry.files) {
      const obj = this.objectPath(f.sha256);
      if (existsSync(obj)) {
        if ((await this.stat.sha256(obj)) === f.sha256) continue;
        rmSync(obj, { force: true }); // a corrupt object is replaced by the good bytes
      }
      mkdirSync(join(obj, '..'), { recursive: true });
      const src = absFiles.get(`${f.template}/${f.name}`)!;
      try {
        linkOrCopy(src, obj);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue; // another run put it there first
        throw e;
      }
      // the link moved the inode's ctime, which the run's own path shares: record both, or the
      // first `--from` with this run as base would rehash every file it stages
      this.stat.remember(obj, f.sha256);
      this.stat.remember(src, f.sha256);
    }
    mkdirSync(join(this.dir, 'keys'), { recursive: true });
    writeFileAtomic(this.keyPath(entry.key), JSON.stringify(entry));
    this.entries.set(entry.key, entry);
  }

  /** The first object of `entry` that is missing or no longer matches its digest. */
  async firstBadObject(entry: CacheEntry): Promise<string | undefined> {
    for (const f of entry.files) {
      const obj = this.objectPath(f.sha256);
      const actual = await this.stat.sha256(obj);
      if (actual === undefined) return `object ${f.sha256.slice(0, 12)} (${f.name}) is missing`;
      if (actual !== f.sha256) {
        rmSync(obj, { force: true }); // never served again; the rerun puts good bytes back
        return `object ${f.sha256.slice(0, 12)} (${f.name}) is corrupt (its bytes hash to ${actual.slice(0, 12)})`;
      }
    }
    return undefined;
  }

  latest(taskId: string): LatestRecord | undefined {
    return this.latestKeys.get(taskId);
  }

  setLatest(taskId: string, rec: LatestRecord): void {
    this.latestKeys.set(taskId, rec);
  }

  /** Keeps the canonical JSON of an input document, so a later change can name its JSON pointers. */
  private readonly documentsKept = new Set<string>();

  rememberDocument(digest: string, canonical: string): void {
    if (this.documentsKept.has(digest)) return;
    this.documentsKept.add(digest);
    const p = join(this.dir, 'documents', digest + '.json');
    if (existsSync(p)) return;
    mkdirSync(join(this.dir, 'documents'), { recursive: true });
    writeFileSync(p, canonical);
  }

  document(digest: string): unknown {
    try {
      return JSON.parse(readFileSync(join(this.dir, 'documents', digest + '.json'), 'utf8'));
    } catch {
      return undefined;
    }
  }

  /** Writes the stat cache and the latest-key records (once per run, not per state). */
  save(): void {
    if (!existsSync(this.dir)) return;
    this.stat.save();
    this.latestKeys.save();
  }
}

