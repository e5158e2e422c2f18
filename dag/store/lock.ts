import { closeSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DagError, EXIT } from '../project/diagnostics.js';

export const LOCK = '.lock';

interface LockInfo {
  pid: number;
  host: string;
  since: string;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readLock(runDir: string): LockInfo | undefined {
  try {
    return JSON.parse(readFileSync(join(runDir, LOCK), 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

/**
 * The pid holding the run's lock, if that process is alive; a lock taken on another host counts
 * as held (its process cannot be checked from here, so it is never treated as stale).
 */
export function lockHolder(runDir: string): number | undefined {
  const info = readLock(runDir);
  if (!info) return undefined;
  if (info.host !== hostname()) return info.pid;
  return isAlive(info.pid) ? info.pid : undefined;
}

/**
 * Takes the run's exclusive lock. A live holder means refusal (exit 3, naming its pid); a lock
 * whose process is dead is taken over, and `onTakeover` is told so it can be logged.
 */
export function acquireLock(runDir: string, onTakeover: (stale: LockInfo) => void): () => void {
  const path = join(runDir, LOCK);
  const mine: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  try {
    const fd = openSync(path, 'wx');
    writeSync(fd, JSON.stringify(mine));
    closeSync(fd);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const held = readLock(runDir);
    if (held && (held.host !== hostname() || isAlive(held.pid))) {
      throw new DagError([{ code: 'run-locked', file: path, message: `run is locked by pid ${held.pid} on ${held.host} (since ${held.since})`, fix: 'wait for that run to finish, or stop it' }], EXIT.refused);
    }
    const tmp = `${path}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify(mine));
    renameSync(tmp, path);
    if (readLock(runDir)?.pid !== process.pid) {
      throw new DagError([{ code: 'run-locked', file: path, message: 'another process took over the stale lock at the same moment', fix: 'try again' }], EXIT.refused);
    }
    if (held) onTakeover(held);
  }
  return () => {
    const now = readLock(runDir);
    if (now?.pid === process.pid) rmSync(path, { force: true });
  };
}
