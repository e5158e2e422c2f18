import { closeSync, fsyncSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';

/** Writes a file so that readers see the old or the new content, never a torn one. */
export function writeFileAtomic(path: string, content: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
}

/** Appends one line and fsyncs, so an acknowledged ledger line survives a crash. */
export function appendLineDurable(path: string, line: string): void {
  const fd = openSync(path, 'a');
  try {
    writeSync(fd, line + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
