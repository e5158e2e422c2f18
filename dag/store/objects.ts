import { randomBytes } from 'node:crypto';
import { copyFileSync, chmodSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CacheKey } from '../fingerprint/cachekey.js';
import { linkOrCopy, writeFileAtomic } from './atomic.js';
import type { CacheEntry } from './cache.js';
import type { StatCache } from './statcache.js';

/** How an object's bytes compare with its digest. */
export type ObjectCheck = 'ok' | 'missing' | { corrupt: string };

/**
 * Where the cache keeps its bytes and entries: objects by sha256, entries by cache key. The
 * CacheStore keeps the rules (objects before the entry that names them; nothing served unverified);
 * a backend only stores. Phase one is `FileStore`, the shared runs/.cache folder; an S3-compatible
 * backend (docs/distributed.md) implements the same methods without exec changing.
 */
export interface Store {
  /** Whether the object is there and its bytes hash to its name (a corrupt one is removed). */
  checkObject(sha256: string): Promise<ObjectCheck>;
  /** Stores the file's bytes under their digest; readers see the whole object or none. A no-op when a good copy exists. */
  putObject(sha256: string, src: string): Promise<void>;
  /** Puts the object's bytes at `dest` (a new file), read-only: a hard link, a copy or a download. */
  fetchObject(sha256: string, dest: string): void;
  getEntry(key: CacheKey): CacheEntry | undefined;
  /** Records the entry, atomically; called only once every object it names is stored. */
  putEntry(entry: CacheEntry): void;
  dropEntry(key: CacheKey): void;
  /**
   * Keeps the entries of `named` (the keys tasks last had), of those read or written in this
   * process, where the next run finds them in one read; a backend without such an index ignores it.
   */
  index?(named: ReadonlySet<string>, seen: ReadonlyMap<CacheKey, CacheEntry | undefined>): void;
}

/** An entry as the pack holds it: everything but its components, which only a change's reasons read. */
type PackedEntry = Omit<CacheEntry, 'components'>;

const PACK = 'keys.pack.json';

/** The phase-one store: runs/.cache/objects/<2>/<sha256> (hard links to published files) and runs/.cache/keys/<key>.json. */
export class FileStore implements Store {
  constructor(
    readonly dir: string,
    private readonly stat: StatCache,
  ) {}

  objectPath(sha256: string): string {
    return join(this.dir, 'objects', sha256.slice(0, 2), sha256);
  }

  private keyPath(key: CacheKey): string {
    return join(this.dir, 'keys', `${key}.json`);
  }

  /**
   * runs/.cache/keys.pack.json: the entries of the keys tasks last had, without their components,
   * in one file (a no-op run of 10 000 states reads one file, not 10 000). The key files stay the
   * truth: a packed entry is served only while its key file is listed in keys/ (one readdir), so
   * an entry dropped, pruned or deleted by hand is gone from the pack too, and a pack that is
   * missing, stale or unreadable only means reading the key files.
   */
  private pack?: Map<string, PackedEntry>;
  /** Whether an entry was dropped from the pack as read, so the file holds one it should not. */
  private packDropped = false;
  /** The key files in keys/, listed once (then kept up to date by this store's own puts and drops). */
  private listed?: Set<string>;

  private packed(): Map<string, PackedEntry> {
    if (this.pack) return this.pack;
    this.pack = new Map();
    try {
      const raw = JSON.parse(readFileSync(join(this.dir, PACK), 'utf8')) as { entries?: Record<string, PackedEntry> };
      for (const [key, e] of Object.entries(raw.entries ?? {})) if (e && e.key === key && Array.isArray(e.files)) this.pack.set(key, e);
    } catch {
      // no pack (or a damaged one): every entry is read from its key file
    }
    return this.pack;
  }

  private keyFiles(): Set<string> {
    this.listed ??= new Set(readdirSync(join(this.dir, 'keys')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)));
    return this.listed;
  }

  private fromPack(key: CacheKey): CacheEntry | undefined {
    const p = this.packed().get(key);
    if (!p) return undefined;
    let listed: Set<string>;
    try {
      listed = this.keyFiles();
    } catch {
      return undefined; // no keys/ folder: no entries at all
    }
    if (!listed.has(key)) return undefined;
    const file = this.keyPath(key);
    let components: CacheEntry['components'] | undefined;
    return {
      ...p,
      // read from the key file only when asked (a staged state's stale reasons; never on a no-op)
      get components() {
        components ??= (JSON.parse(readFileSync(file, 'utf8')) as CacheEntry).components;
        return components;
      },
    };
  }

  index(named: ReadonlySet<string>, seen: ReadonlyMap<CacheKey, CacheEntry | undefined>): void {
    const before = this.packed();
    const keys = [...named].filter((key) => (seen.has(key as CacheKey) ? seen.get(key as CacheKey) : before.get(key)) !== undefined);
    // written only when its set of keys changed: a no-op run leaves it as it is (and builds nothing)
    if (!this.packDropped && keys.length === before.size && keys.every((k) => before.has(k))) return;
    if (!existsSync(join(this.dir, 'keys'))) return;
    const next = new Map<string, PackedEntry>();
    for (const key of keys.sort()) next.set(key, packedOf((seen.has(key as CacheKey) ? seen.get(key as CacheKey) : before.get(key))!));
    // not synced: a pack lost to a crash only means reading the key files
    writeFileAtomic(join(this.dir, PACK), JSON.stringify({ entries: Object.fromEntries(next) }), false);
    this.pack = next;
    this.packDropped = false;
  }

  async checkObject(sha256: string): Promise<ObjectCheck> {
    const obj = this.objectPath(sha256);
    const actual = await this.stat.sha256(obj);
    if (actual === undefined) return 'missing';
    if (actual === sha256) return 'ok';
    rmSync(obj, { force: true }); // never served again; the next put brings good bytes back
    return { corrupt: actual };
  }

  async putObject(sha256: string, src: string): Promise<void> {
    const obj = this.objectPath(sha256);
    if (existsSync(obj)) {
      if ((await this.stat.sha256(obj)) === sha256) return;
      rmSync(obj, { force: true }); // a corrupt object is replaced by the good bytes
    }
    mkdirSync(dirname(obj), { recursive: true });
    try {
      linkSync(src, obj); // a link is whole at once
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return; // another run put it there first
      if (code !== 'EXDEV') throw e;
      // across file systems: copied beside it, then renamed, so no reader sees a partial object
      const tmp = `${obj}.tmp-${randomBytes(6).toString('hex')}`; // unique across machines sharing the folder
      copyFileSync(src, tmp);
      chmodSync(tmp, 0o444);
      renameSync(tmp, obj);
    }
    // the link moved the inode's ctime, which the run's own path shares: record both, or the
    // first `--from` with this run as base would rehash every file it stages
    this.stat.remember(obj, sha256);
    this.stat.remember(src, sha256);
  }

  fetchObject(sha256: string, dest: string): void {
    const obj = this.objectPath(sha256);
    linkOrCopy(obj, dest);
    // a new link moves the inode's ctime: re-record the digest just verified, or every later run
    // would rehash the object
    this.stat.remember(obj, sha256);
  }

  getEntry(key: CacheKey): CacheEntry | undefined {
    const packed = this.fromPack(key);
    if (packed) return packed;
    try {
      return JSON.parse(readFileSync(this.keyPath(key), 'utf8')) as CacheEntry;
    } catch {
      return undefined;
    }
  }

  putEntry(entry: CacheEntry): void {
    mkdirSync(join(this.dir, 'keys'), { recursive: true });
    writeFileAtomic(this.keyPath(entry.key), JSON.stringify(entry));
    this.listed?.add(entry.key);
  }

  dropEntry(key: CacheKey): void {
    rmSync(this.keyPath(key), { force: true });
    this.listed?.delete(key);
    if (this.pack?.delete(key)) this.packDropped = true;
  }
}

/** The entry without its components (read key by key, so a packed entry's lazy components are not read). */
function packedOf(e: CacheEntry | PackedEntry): PackedEntry {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(e)) if (k !== 'components') out[k] = (e as unknown as Record<string, unknown>)[k];
  return out as unknown as PackedEntry;
}
