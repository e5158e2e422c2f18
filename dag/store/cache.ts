import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CacheKey, KeyComponents } from '../fingerprint/cachekey.js';
import { LatestStore, type LatestRecord } from './latest.js';
import { FileStore, type Store } from './objects.js';
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
 * The content-addressed cache in `runs/.cache/`: each published file once, by sha256, and per
 * cache key the list of files a state produced. The bytes and entries live in a `Store` (phase
 * one: the runs folder's own, `FileStore`); the rules live here: every object is stored before the
 * entry that names it, and an object is verified before it is served.
 */
export class CacheStore {
  readonly dir: string;
  readonly stat: StatCache;
  private readonly latestKeys: LatestStore;
  private readonly store: Store;

  constructor(runsDir: string, store?: (dir: string, stat: StatCache) => Store) {
    this.dir = join(runsDir, '.cache');
    this.stat = new StatCache(join(this.dir, 'stat.json'));
    this.latestKeys = new LatestStore(this.dir);
    this.store = store ? store(this.dir, this.stat) : new FileStore(this.dir, this.stat);
  }

  /** Entries read so far (a plan asks `has`, then the run looks the same key up: one read). */
  private readonly entries = new Map<CacheKey, CacheEntry | undefined>();

  lookup(key: CacheKey): CacheEntry | undefined {
    if (this.entries.has(key)) return this.entries.get(key);
    const entry = this.store.getEntry(key);
    this.entries.set(key, entry);
    return entry;
  }

  /** Whether an entry exists: read through `lookup`, since a hit is then served (run) or simulated (plan) from it. */
  has(key: CacheKey): boolean {
    return this.lookup(key) !== undefined;
  }

  drop(key: CacheKey): void {
    this.entries.delete(key);
    this.store.dropEntry(key);
  }

  /**
   * Adds a state's published files (absolute paths in the run) and records the entry: objects
   * first, the entry last, so an entry never names an object that is not stored (a crash between
   * the two leaves objects no entry names, which prune collects).
   */
  async put(entry: CacheEntry, absFiles: Map<string, string>): Promise<void> {
    for (const f of entry.files) await this.store.putObject(f.sha256, absFiles.get(`${f.template}/${f.name}`)!);
    this.store.putEntry(entry);
    this.entries.set(entry.key, entry);
  }

  /** The first object of `entry` that is missing or no longer matches its digest. */
  async firstBadObject(entry: CacheEntry): Promise<string | undefined> {
    for (const f of entry.files) {
      const check = await this.store.checkObject(f.sha256);
      if (check === 'ok') continue;
      if (check === 'missing') return `object ${f.sha256.slice(0, 12)} (${f.name}) is missing`;
      return `object ${f.sha256.slice(0, 12)} (${f.name}) is corrupt (its bytes hash to ${check.corrupt.slice(0, 12)})`;
    }
    return undefined;
  }

  /** Puts a verified object's bytes at `dest` in a run (a hard link on the shared file system). */
  fetchObject(sha256: string, dest: string): void {
    this.store.fetchObject(sha256, dest);
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
    this.store.index?.(this.latestKeys.named(), this.entries);
  }
}

