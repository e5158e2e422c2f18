import { randomBytes } from 'node:crypto';
import { copyFileSync, chmodSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
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
}

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
    try {
      return JSON.parse(readFileSync(this.keyPath(key), 'utf8')) as CacheEntry;
    } catch {
      return undefined;
    }
  }

  putEntry(entry: CacheEntry): void {
    mkdirSync(join(this.dir, 'keys'), { recursive: true });
    writeFileAtomic(this.keyPath(entry.key), JSON.stringify(entry));
  }

  dropEntry(key: CacheKey): void {
    rmSync(this.keyPath(key), { force: true });
  }
}
