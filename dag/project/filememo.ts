import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex, type Sha256Hex } from './canonical.js';

/**
 * The sha256 of project files (manifests, kernels, CSV inputs) remembered by their stat, so an
 * unchanged project of a thousand states is a thousand `stat` calls, not a thousand reads and
 * hashes (issue 15). Kept in runs/.cache/files.json beside the parsed-file cache.
 *
 * A record is believed only when size, mtime, ctime and inode all match and the file's ctime was at
 * least RACY_MS older than the moment the record was taken: a file written twice within one tick
 * of the file system's clock keeps its times, so a record taken between the two writes could
 * otherwise describe the first version (git's "racy" index entries). Such a file is hashed again
 * on every use until it has been quiet for RACY_MS.
 */
const RACY_MS = 2000;

interface StatRecord {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  sha256: Sha256Hex;
  /** Date.now() just before the file was stat'ed and read. */
  at: number;
}

let memoFile: string | undefined;
let records: Record<string, StatRecord> | undefined;
let dirty = false;

function load(): Record<string, StatRecord> {
  if (records) return records;
  records = {};
  if (memoFile) {
    try {
      records = JSON.parse(readFileSync(memoFile, 'utf8')) as Record<string, StatRecord>;
    } catch {
      /* none yet, or unreadable: every file is hashed once more */
    }
  }
  return records;
}

export const FileMemo = {
  /** Remember digests in `cacheDir` (runs/.cache), or only for this process when undefined. */
  use(cacheDir: string | undefined): void {
    const file = cacheDir ? join(cacheDir, 'files.json') : undefined;
    if (file === memoFile) return;
    memoFile = file;
    records = undefined;
    dirty = false;
  },

  /**
   * The sha256 of the file's bytes, and the bytes when they had to be read. Throws what
   * readFileSync throws for a missing or unreadable file.
   */
  digest(abs: string): { digest: Sha256Hex; bytes?: Buffer } {
    const recs = load();
    const at = Date.now();
    const st = statSync(abs);
    const r = recs[abs];
    if (r && r.size === st.size && r.mtimeMs === st.mtimeMs && r.ctimeMs === st.ctimeMs && r.ino === st.ino && r.ctimeMs <= r.at - RACY_MS) return { digest: r.sha256 };
    const bytes = readFileSync(abs);
    const digest = sha256Hex(bytes);
    // the record is of this stat only if the bytes read are of the same size (no write between)
    if (bytes.length === st.size) {
      recs[abs] = { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, sha256: digest, at };
      dirty = true;
    }
    return { digest, bytes };
  },

  /** Writes the records when any changed (a cache: whole then renamed, no fsync; failures only cost speed). */
  save(): void {
    if (!dirty || !memoFile || !records) return;
    try {
      const tmp = `${memoFile}.tmp-${process.pid}`;
      writeFileSync(tmp, JSON.stringify(records));
      renameSync(tmp, memoFile);
      dirty = false;
    } catch {
      /* a memo that cannot be written is only slower */
    }
  },
};
