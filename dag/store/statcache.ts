import { readFileSync, statSync } from 'node:fs';
import { fileSha256 } from '../fingerprint/digest.js';
import { writeFileAtomic } from './atomic.js';

interface StatRecord {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  sha256: string;
}

/**
 * Remembers the sha256 of files by (size, mtime, ctime, inode), so an unchanged big file is not
 * rehashed. ctime moves on any write or chmod and cannot be set back, so a flipped byte is seen.
 */
export class StatCache {
  private loaded?: Record<string, StatRecord>;
  private dirty = false;
  /** Bytes this cache had to hash (its misses), for the ledger's `hashed_bytes`. */
  hashedBytes = 0;

  constructor(private readonly file: string) {}

  /** The records, read on first use (a plan that verifies nothing never parses the file). */
  private get records(): Record<string, StatRecord> {
    if (!this.loaded) {
      try {
        this.loaded = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, StatRecord>;
      } catch {
        this.loaded = {};
      }
    }
    return this.loaded;
  }

  /** The file's sha256, from the cache when its stat is unchanged, else by hashing it. */
  async sha256(path: string): Promise<string | undefined> {
    let st;
    try {
      st = statSync(path);
    } catch {
      return undefined;
    }
    const r = this.records[path];
    if (r && r.size === st.size && r.mtimeMs === st.mtimeMs && r.ctimeMs === st.ctimeMs && r.ino === st.ino) return r.sha256;
    const sha256 = await fileSha256(path);
    this.hashedBytes += st.size;
    this.records[path] = { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, sha256 };
    this.dirty = true;
    return sha256;
  }

  /** Records a digest the caller just computed for `path`. */
  remember(path: string, sha256: string): void {
    try {
      const st = statSync(path);
      this.records[path] = { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, sha256 };
      this.dirty = true;
    } catch {
      // gone: its record goes too
      if (path in this.records) {
        delete this.records[path];
        this.dirty = true;
      }
    }
  }

  /**
   * The records under `prefix` whose file still has the recorded stat: digests that an operation
   * moving only the inode's ctime (unlinking another of its links, as prune does) may carry over,
   * through `remember` once it is done. A file changed before this call is not among them.
   */
  current(prefix: string): { path: string; sha256: string }[] {
    const out: { path: string; sha256: string }[] = [];
    for (const [path, r] of Object.entries(this.records)) {
      if (!path.startsWith(prefix)) continue;
      const st = statSync(path, { throwIfNoEntry: false });
      if (st && r.size === st.size && r.mtimeMs === st.mtimeMs && r.ctimeMs === st.ctimeMs && r.ino === st.ino) out.push({ path, sha256: r.sha256 });
    }
    return out;
  }

  forget(prefix: string): void {
    for (const p of Object.keys(this.records)) if (p.startsWith(prefix)) delete this.records[p];
    this.dirty = true;
  }

  /**
   * Writes the records, atomically but not synced: after a crash the file is the old one, the new
   * one or unreadable, and an unreadable stat cache only means hashing again (it never vouches for
   * bytes by itself: a record holds only while the file's stat is the one recorded). Not waiting
   * for the disk keeps a 5 MB rewrite (10 000 objects, every no-op run) off the run's end.
   */
  save(): void {
    if (this.dirty) writeFileAtomic(this.file, JSON.stringify(this.records), false);
    this.dirty = false;
  }

  /**
   * Saves only if the records fit in the disk space the file holds now, written at no fewer bytes
   * than it has (JSON may end in spaces): its disk usage stays what it was, so the bytes `dag prune`
   * said it frees stay what `du` sees. False, and nothing written, when they would not fit.
   */
  saveInPlace(): boolean {
    if (!this.dirty) return true;
    const st = statSync(this.file, { throwIfNoEntry: false });
    const text = JSON.stringify(this.records);
    const bytes = Buffer.byteLength(text);
    if (!st || bytes > st.blocks * 512) return false;
    writeFileAtomic(this.file, bytes < st.size ? text + ' '.repeat(st.size - bytes) : text, false);
    this.dirty = false;
    return true;
  }
}
