import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, fsyncSync, linkSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Writes a file so that readers see the old or the new content, never a torn one. `durable`
 * (the default) syncs the bytes before the rename, so a crash cannot leave an empty file in the
 * old one's place; a cache that can be rebuilt may skip the wait.
 */
export function writeFileAtomic(path: string, content: string, durable = true): void {
  // pid and random: unique also among machines sharing the folder (pids repeat across hosts)
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(tmp, content);
    if (durable) {
      const fd = openSync(tmp, 'r');
      fsyncSync(fd);
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    // a full disk (or any failed write) leaves neither a stray temporary nor a torn file
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Hard-links `src` to `dest` (one inode, no bytes copied); copies, read-only, across file systems
 * and when `src` has as many links as its file system allows (ext4: 65 000; an output that many
 * states and runs share byte for byte reaches it).
 */
export function linkOrCopy(src: string, dest: string): void {
  try {
    linkSync(src, dest);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EMLINK') throw e;
    copyFileSync(src, dest);
    chmodSync(dest, 0o444);
  }
}
